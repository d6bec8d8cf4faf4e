"""The fixture plugins through `codex plugin`, as a user runs them: what each may and may not
do is observed from outside (files on disk, the secret's bytes, process RSS, exit codes, the
audit log), each refusal next to a control run that shows the same oracle can see success.

The e2e suite re-runs this module against the native binary (tests/e2e/test_native_plugins.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from plugin_kit import FIXTURES, RunCodex, audit_lines, plugin_env, wat_plugin

pytestmark = pytest.mark.timeout(300)

ADD = '{"a": 2, "b": 40}'


def install(codex: RunCodex, source: Path) -> None:
    result = codex("plugin", "install", str(source), "--yes")
    assert result.returncode == 0, result.stderr


def test_pure_function_wat_and_c(codex: RunCodex, tmp_path: Path) -> None:
    install(codex, wat_plugin(tmp_path / "echo", "echo", "echo.wat", tools=("echo",)))
    result = codex("plugin", "run", "echo", "echo", "--json", '{"msg": "hi"}')
    assert result.returncode == 0, result.stderr
    assert result.json == {"msg": "hi"}
    install(codex, FIXTURES / "files")
    result = codex("plugin", "run", "files", "add", "--json", ADD)
    assert (result.returncode, result.json) == (0, {"sum": 42})


def test_reads_granted_dir_and_nothing_outside(codex: RunCodex, tmp_path: Path,
                                               workspace: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-BYTES\n")
    assert secret.read_text() == "TOP-SECRET-BYTES\n"  # control: it is readable from outside
    install(codex, FIXTURES / "files")
    inside = codex("plugin", "run", "files", "read", "--json", '{"path": "/data/notes.txt"}')
    assert inside.json == {"ok": True, "text": "granted text\n"}
    for path in (str(secret), "/data/../../secret.txt", "/data/../secret.txt", "/etc/hostname"):
        outside = codex("plugin", "run", "files", "read", "--json", json.dumps({"path": path}))
        assert outside.returncode == 0, outside.stderr
        assert outside.json["ok"] is False, path
        assert "TOP-SECRET" not in outside.stdout + outside.stderr


def test_write_to_read_only_grant_is_refused(codex: RunCodex, workspace: Path) -> None:
    install(codex, FIXTURES / "files")
    before = sorted(p.name for p in (workspace / "data").iterdir())
    result = codex("plugin", "run", "files", "write", "--json",
                   '{"path": "/data/new.txt", "text": "x"}')
    assert result.json["ok"] is False
    assert sorted(p.name for p in (workspace / "data").iterdir()) == before
    # control: the same tool writes where a writable path was granted
    granted = codex("plugin", "grant", "files", "--path", "{workspace}/out", "--yes")
    assert granted.returncode == 0, granted.stderr
    result = codex("plugin", "run", "files", "write", "--json",
                   '{"path": "/out/new.txt", "text": "written"}')
    assert result.json == {"ok": True}
    assert (workspace / "out" / "new.txt").read_text() == "written"


def test_manifest_asking_more_than_granted_runs_with_the_grant_only(
        codex: RunCodex, workspace: Path) -> None:
    """files requests a writable /out, a host and an env name; install grants ro /data only."""
    install(codex, FIXTURES / "files")
    shown = codex("plugin", "show", "files", "--json")
    row = shown.json
    assert row["requested"]["allowed_paths"] == {"ro:{workspace}/data": "/data",
                                                 "{workspace}/out": "/out"}
    assert row["granted"] == {"allowed_paths": ["ro:{workspace}/data"], "allowed_hosts": [],
                              "env": []}
    assert codex("plugin", "run", "files", "read", "--json",
                 '{"path": "/data/notes.txt"}').json["ok"] is True
    denied = codex("plugin", "run", "files", "write", "--json",
                   '{"path": "/out/x.txt", "text": "x"}')
    assert denied.json["ok"] is False
    assert list((workspace / "out").iterdir()) == []


@pytest.mark.parametrize("limit", ["timeout_ms = 300", "fuel = 50000000"])
def test_infinite_loop_is_stopped(codex: RunCodex, tmp_path: Path, limit: str) -> None:
    install(codex, wat_plugin(tmp_path / "loop", "loop", "loop.wat", limits=limit))
    started = time.monotonic()
    result = codex("plugin", "run", "loop", "run")
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    kind = "timeout" if "timeout" in limit else "fuel"
    assert f"stopped ({kind})" in result.stderr
    assert elapsed < 15  # process start included; the loop itself is cut at the limit
    (entry,) = [e for e in audit_lines(tmp_path / "home")
                if e["operation"] == "plugin_call" and e["decision"] == "denied"]
    assert f"outcome={kind}" in str(entry["reason"])


def _max_rss_kib(codex_argv: list[str], home: Path, cwd: Path, *args: str) -> tuple[int, str]:
    """Peak RSS of a `codex` run, measured by a parent process (the outside oracle)."""
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], "
             "capture_output=True, text=True); print(resource.getrusage("
             "resource.RUSAGE_CHILDREN).ru_maxrss); print(p.stderr, file=sys.stderr)")
    import sys

    proc = subprocess.run([sys.executable, "-c", probe, *codex_argv, *args], cwd=cwd,
                          env=plugin_env(home), capture_output=True, text=True, timeout=120,
                          check=True)
    return int(proc.stdout.split()[-1]), proc.stderr


def test_memory_hog_is_stopped_at_its_limit(codex: RunCodex, codex_argv: list[str],
                                            tmp_path: Path, home: Path,
                                            workspace: Path) -> None:
    install(codex, wat_plugin(tmp_path / "hog", "hog", "hog.wat", limits="memory_mb = 32"))
    install(codex, wat_plugin(tmp_path / "big", "big", "hog.wat", limits="memory_mb = 320"))
    install(codex, wat_plugin(tmp_path / "echo", "echo", "echo.wat"))
    baseline, _ = _max_rss_kib(codex_argv, home, workspace, "plugin", "run", "echo", "run")
    capped, err = _max_rss_kib(codex_argv, home, workspace, "plugin", "run", "hog", "run")
    assert "stopped (memory)" in err and "32 MB" in err
    assert capped - baseline < (32 + 24) * 1024, (baseline, capped)
    # control: with a 320 MB limit the same module visibly grows the host's RSS
    grown, err = _max_rss_kib(codex_argv, home, workspace, "plugin", "run", "big", "run")
    assert "stopped (memory)" in err
    assert grown - baseline > 200 * 1024, (baseline, grown)


def test_ungranted_host_function_is_refused_at_link_time(codex: RunCodex,
                                                         tmp_path: Path) -> None:
    install(codex, wat_plugin(tmp_path / "sneaky", "sneaky", "sneaky.wat"))
    result = codex("plugin", "run", "sneaky", "run")
    assert result.returncode == 1
    assert "refused at link time" in result.stderr and "codex.fetch" in result.stderr
    reasons = [str(e["reason"]) for e in audit_lines(tmp_path / "home")
               if e["operation"] == "plugin_call"]
    assert any("refused at link time" in r for r in reasons)
    # and the C plugin that needs codex.fetch is refused the same way until a host is granted
    install(codex, FIXTURES / "fetch")
    result = codex("plugin", "run", "fetch", "get", "--json", '{"url": "http://127.0.0.1/"}')
    assert "refused at link time" in result.stderr


def test_tampered_module_is_refused_by_hash(codex: RunCodex, tmp_path: Path,
                                            home: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(FIXTURES / "files", source)
    wasm = source / "files.wasm"
    wasm.write_bytes(wasm.read_bytes() + b"\0")
    refused = codex("plugin", "install", str(source), "--yes")
    assert refused.returncode == 1 and "refusing to load it" in refused.stderr
    assert not (home / "plugins" / "files").exists()
    install(codex, FIXTURES / "files")
    assert codex("plugin", "run", "files", "add", "--json", ADD).returncode == 0  # control
    installed = home / "plugins" / "files" / "files.wasm"
    data = installed.read_bytes()
    installed.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    result = codex("plugin", "run", "files", "add", "--json", ADD)
    assert result.returncode == 1 and "SHA-256" in result.stderr


def test_changed_manifest_voids_the_grant(codex: RunCodex, home: Path) -> None:
    install(codex, FIXTURES / "files")
    manifest = home / "plugins" / "files" / "plugin.toml"
    manifest.write_text(manifest.read_text().replace("Add two integers.", "Add them."))
    result = codex("plugin", "run", "files", "add", "--json", ADD)
    assert result.returncode == 1 and "grant of plugin 'files' is void" in result.stderr
    assert codex("plugin", "grant", "files", "--yes").returncode == 0  # re-approved
    assert codex("plugin", "run", "files", "add", "--json", ADD).json == {"sum": 42}


def test_a_grant_is_only_a_subset_of_the_request(codex: RunCodex, home: Path) -> None:
    install(codex, FIXTURES / "files")
    config_before = (home / "config.toml").read_text()
    for flag, value in (("--host", "evil.example.com"), ("--env", "HOME"),
                        ("--path", "/etc"), ("--path", "{workspace}/data")):
        result = codex("plugin", "grant", "files", flag, value, "--yes")
        assert result.returncode == 2, (flag, value, result.stderr)
        assert "does not request" in result.stderr or "read-only" in result.stderr
    assert (home / "config.toml").read_text() == config_before


def test_grant_edit_keeps_the_rest_of_config_toml(codex: RunCodex, home: Path) -> None:
    original = '# my settings\nmodel = "o3"  # keep this comment\n\n[audit]\nenabled = true\n'
    (home / "config.toml").write_text(original)
    install(codex, FIXTURES / "files")
    text = (home / "config.toml").read_text()
    assert text.startswith(original)
    assert "[plugins.files]" in text
    assert codex("plugin", "remove", "files").returncode == 0
    assert (home / "config.toml").read_text().rstrip() == original.rstrip()
    assert codex("plugin", "list", "--json").json == []


def test_audit_records_every_call_with_digest_fuel_and_memory(codex: RunCodex,
                                                              home: Path) -> None:
    install(codex, FIXTURES / "files")
    codex("plugin", "run", "files", "add", "--json", ADD)
    entries = [e for e in audit_lines(home) if e["operation"] == "plugin_call"]
    before, after = entries[-2:]
    assert before["decision"] == "allowed" and "wasm_sha256=a1ff4e04" in str(before["reason"])
    assert str(after["target"]).startswith("plugin__files__add args_sha256=")
    assert ADD not in json.dumps(entries)
    reason = str(after["reason"])
    assert "outcome=ok" in reason and "fuel_used=" in reason and "memory_bytes=" in reason
    fuel = int(reason.split("fuel_used=")[1].split()[0])
    assert fuel > 0
    install_entries = [e for e in audit_lines(home) if e["operation"] == "policy_change"]
    assert "manifest_sha256=" in str(install_entries[0]["reason"])


def test_output_over_max_output_bytes_fails_the_call(codex: RunCodex, tmp_path: Path) -> None:
    install(codex, wat_plugin(tmp_path / "echo", "echo", "echo.wat",
                              limits="max_output_bytes = 16"))
    assert codex("plugin", "run", "echo", "run", "--json", '{"a": 1}').json == {"a": 1}
    result = codex("plugin", "run", "echo", "run", "--json", json.dumps({"a": "x" * 64}))
    assert result.returncode == 1 and "stopped (output_limit)" in result.stderr
