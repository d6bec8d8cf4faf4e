"""`codex sandbox`'s fast lane: same results as the typer command, without typer or pydantic.

The lane runs only on a cache hit for the exact config inputs, and hands anything it does not
fully understand to typer. Oracles: exit codes, stderr, files the command did or did not write,
the cache file, and the modules the process imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperOption

from codex.cli.app import app, load_command
from codex.cli.sandbox_fast import GLOBAL_OPTIONS, SANDBOX_OPTIONS, parse
from codex.cli.state import GlobalOptions
from codex.config.sandbox_settings import CACHE_DIR, CACHE_FILE, CACHE_FORMAT

# Runs `codex ARGS` in-process and reports, at its end, the heavy modules it imported.
PROBE = """
import json, os, sys
real_exit = os._exit
def report(code):
    heavy = sorted(m for m in sys.modules
                   if m.split(".")[0] in ("typer", "pydantic", "rich", "httpx", "click",
                                          "wasmtime"))
    sys.stderr.write("PROBE " + json.dumps(heavy) + "\\n")
    sys.stderr.flush()
    real_exit(code)
os._exit = report
from codex.__main__ import main
report(main(sys.argv[1:]))
"""


def run_probe(args: list[str], env: dict[str, str], cwd: Path
              ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=120, check=False)
    probe = [line for line in result.stderr.splitlines() if line.startswith("PROBE ")]
    assert probe, result.stderr
    return result, json.loads(probe[-1][len("PROBE "):])


def without_probe(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("PROBE ")]


def test_option_tables_match_the_typer_definitions() -> None:
    def spellings(command: typer._click.Command) -> dict[str, tuple[bool, bool]]:
        found = {}
        for param in command.params:
            if isinstance(param, TyperOption) and not param.is_eager:
                for name in (*param.opts, *param.secondary_opts):
                    found[name] = (not param.is_flag, bool(param.multiple))
        return found

    root = typer.main.get_command(app)
    assert spellings(root) == {k: (v[1], v[2]) for k, v in GLOBAL_OPTIONS.items()}
    assert spellings(load_command("sandbox")) == {k: (v[1], v[2])
                                                  for k, v in SANDBOX_OPTIONS.items()}


def test_parse_reads_what_click_would() -> None:
    parsed = parse(["-c", "model=o3", "--profile=trusted", "-C", "/w", "sandbox",
                    "-p", "workspace-write", "--writable-root", "a", "--writable-root=b",
                    "--timeout", "2.5", "--allow-degraded", "-e", "X=1", "--json",
                    "--approval-policy", "never", "--", "sh", "-c", "echo --json"])
    assert parsed is not None
    assert parsed.options == GlobalOptions(overrides=("model=o3",),
                                           security_profile="workspace-write", cd=Path("/w"))
    args = parsed.args
    assert args.command == ["sh", "-c", "echo --json"]
    assert args.writable_roots == [Path("a"), Path("b")]
    assert (args.timeout, args.allow_degraded, args.env, args.as_json,
            args.approval_policy) == (2.5, True, ["X=1"], True, "never")
    # The first positional ends the options, as with allow_interspersed_args=False.
    bare = parse(["sandbox", "ls", "-la"])
    assert bare is not None and bare.args.command == ["ls", "-la"]
    assert bare.options == GlobalOptions()


@pytest.mark.parametrize("argv", [
    ["sandbox", "--help", "--", "true"],
    ["--help", "sandbox"],
    ["sandbox", "-h"],
    ["-V", "sandbox"],
    ["sandbox", "-pworkspace", "--", "true"],
    ["sandbox", "--profile"],
    ["sandbox", "--profile", "--json", "--", "true"],
    ["sandbox", "--timeout", "soon", "--", "true"],
    ["sandbox", "--json=yes", "--", "true"],
    ["sandbox", "--unknown", "--", "true"],
    ["doctor", "sandbox"],
    ["exec", "run sandbox"],
])
def test_parse_hands_anything_else_to_typer(argv: list[str]) -> None:
    assert parse(argv) is None


def test_second_run_takes_the_fast_lane_with_the_same_result(
        codex_env: dict[str, str], codex_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "written-by-offline"
    args = ["sandbox", "--profile", "offline", "--", "sh", "-c",
            f"echo out; echo err >&2; echo x > {target}; exit 3"]
    first, first_heavy = run_probe(args, codex_env, tmp_path)
    cache = codex_home / CACHE_DIR / CACHE_FILE
    assert cache.is_file()
    second, second_heavy = run_probe(args, codex_env, tmp_path)
    # Control: the first run (cache miss) went through typer and the pydantic config load.
    assert "typer" in first_heavy and "pydantic" in first_heavy
    assert second_heavy == []
    for result in (first, second):
        assert result.returncode == 3, result.stderr  # the redirect failed; sh went on
        assert result.stdout == "out\n"
        assert "err" in result.stderr
    assert not target.exists()
    assert without_probe(first.stderr) == without_probe(second.stderr)


def test_a_config_edit_is_seen_at_once(codex_env: dict[str, str], codex_home: Path,
                                       tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    args = ["sandbox", "-C", str(workspace), "--", "touch", str(workspace / "a")]
    run_probe(args, codex_env, tmp_path)
    warm, heavy = run_probe(args, codex_env, tmp_path)
    assert heavy == [] and warm.returncode != 0  # offline by default: no write
    assert not (workspace / "a").exists()
    (codex_home / "config.toml").write_text('security_profile = "workspace-write"\n'
                                            "mystery_key = 1\n")
    edited, heavy = run_probe(args, codex_env, tmp_path)
    assert "pydantic" in heavy, "a changed config.toml must take the full load"
    assert edited.returncode == 0, edited.stderr
    assert (workspace / "a").is_file()
    (workspace / "a").unlink()
    again, heavy = run_probe(args, codex_env, tmp_path)
    assert heavy == [] and again.returncode == 0
    assert (workspace / "a").is_file()
    # The unknown-key warning is repeated by the fast lane, as a full load prints it.
    for result in (edited, again):
        assert "mystery_key" in result.stderr


def test_an_invalid_config_is_never_cached(codex_env: dict[str, str], codex_home: Path,
                                           tmp_path: Path) -> None:
    (codex_home / "config.toml").write_text('approval_policy = "sometimes"\n')
    for _ in range(2):
        result, heavy = run_probe(["sandbox", "--", "true"], codex_env, tmp_path)
        assert result.returncode == 2
        assert "config.toml:1" in result.stderr and "approval_policy" in result.stderr
        assert "pydantic" in heavy
    assert not (codex_home / CACHE_DIR / CACHE_FILE).exists()


def test_a_damaged_cache_is_ignored_and_rewritten(codex_env: dict[str, str],
                                                  codex_home: Path, tmp_path: Path) -> None:
    cache = codex_home / CACHE_DIR / CACHE_FILE
    cache.parent.mkdir()
    cache.write_text("{not json")
    result, heavy = run_probe(["sandbox", "--", "true"], codex_env, tmp_path)
    assert result.returncode == 0 and "pydantic" in heavy
    assert json.loads(cache.read_text())["format"] == CACHE_FORMAT
    entries = json.loads(cache.read_text())["entries"]
    (key,) = entries
    entries[key]["security_profile"] = 7  # not a settings shape: must not be trusted
    cache.write_text(json.dumps({"format": CACHE_FORMAT, "entries": entries}))
    result, heavy = run_probe(["sandbox", "--", "true"], codex_env, tmp_path)
    assert result.returncode == 0 and "pydantic" in heavy


def test_usage_errors_match_between_lanes(codex_env: dict[str, str], tmp_path: Path) -> None:
    run_probe(["sandbox", "--", "true"], codex_env, tmp_path)  # warm the cache
    cases = [
        (["sandbox", "--timeout", "0", "--", "true"], "--timeout 0: must be a positive"),
        (["sandbox", "--env", "1X", "--", "true"], "--env '1X': expected NAME"),
        (["sandbox", "--writable-root", str(tmp_path), "--", "true"],
         "--writable-root needs a write profile"),
        (["sandbox"], "no command given"),
    ]
    for args, message in cases:
        fast, heavy = run_probe(args, codex_env, tmp_path)
        assert heavy == [], args
        # `-poffline` is click's attached short form, which only the typer command reads.
        slow, heavy = run_probe([args[0], "-poffline", *args[1:]], codex_env, tmp_path)
        assert "typer" in heavy
        assert fast.returncode == 2 and message in fast.stderr, fast.stderr
        assert slow.returncode == 2 and message in slow.stderr, slow.stderr


# Counts the sandboxed runs prepared in the process (by the fast lane, and by the runner when
# a prepared run did not fit its request).
PREPARE_PROBE = """
import os, sys
import codex.sandbox.runner as runner
calls = []
real_prepare = runner.prepare
def counted(request):
    calls.append(request)
    return real_prepare(request)
runner.prepare = counted
real_exit = os._exit
def report(code):
    sys.stderr.write(f"PREPARED {len(calls)}\\n")
    sys.stderr.flush()
    real_exit(code)
os._exit = report
from codex.__main__ import main
report(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux helper only")
def test_the_fast_lane_confines_while_the_guards_decide(codex_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    args = ["sandbox", "--env", "EXTRA=1", "--", "sh", "-c", "echo $EXTRA"]
    run_probe(args, codex_env, tmp_path)  # warm the cache
    result = subprocess.run([sys.executable, "-c", PREPARE_PROBE, *args], env=codex_env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"
    # One prepared run, used as is: the request the guard chain built matched it.
    assert "PREPARED 1" in result.stderr


def test_the_cache_serves_every_directory(codex_env: dict[str, str], codex_home: Path,
                                          tmp_path: Path) -> None:
    """Settings are kept as configured and resolved where each run happens: a relative
    writable root follows the working directory, in the fast lane as in a full load."""
    (codex_home / "config.toml").write_text(
        'security_profile = "workspace-write"\n'
        '[sandbox_workspace_write]\nwritable_roots = ["../shared"]\n')
    runs = []
    for name in ("one", "two"):
        work = tmp_path / name / "ws"
        (work.parent / "shared").mkdir(parents=True)
        work.mkdir()
        args = ["sandbox", "--", "sh", "-c", "touch here ../shared/there"]
        runs.append(run_probe(args, codex_env, work))
    (_, first_heavy), (_, second_heavy) = runs
    assert "pydantic" in first_heavy and second_heavy == []
    for (result, _), name in zip(runs, ("one", "two"), strict=True):
        assert result.returncode == 0, result.stderr
        assert (tmp_path / name / "ws" / "here").is_file()
        assert (tmp_path / name / "shared" / "there").is_file()
    # Control: a root the config does not name stays read-only.
    outside = tmp_path / "outside"
    outside.mkdir()
    denied, heavy = run_probe(["sandbox", "--", "touch", str(outside / "x")], codex_env,
                              tmp_path / "two" / "ws")
    assert heavy == [] and denied.returncode != 0
    assert not (outside / "x").exists()
