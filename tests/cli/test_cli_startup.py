"""`codex --version` answers before any heavy import; no command prints help."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from codex import __version__

RunCodex = Callable[..., subprocess.CompletedProcess[str]]

HEAVY = ("typer", "pydantic", "httpx", "rich", "click", "wasmtime", "prompt_toolkit")

PROBE = """
import sys
from codex.__main__ import main
code = main(["--version"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY=" + ",".join(heavy))
sys.exit(code)
"""


def test_version_imports_no_heavy_module() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY))],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"codex {__version__}"
    assert lines[1] == "HEAVY="


def test_control_a_command_does_import_them() -> None:
    """The probe can see heavy imports: running a real command pulls typer in."""
    probe = PROBE.replace('["--version"]', '["profiles", "--json"]').format(heavy=set(HEAVY))
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "typer" in result.stdout.splitlines()[-1]


def test_version_flags(run_codex: RunCodex) -> None:
    for flag in ("--version", "-V"):
        result = run_codex(flag)
        assert (result.returncode, result.stdout) == (0, f"codex {__version__}\n")


def test_help_lists_the_commands(run_codex: RunCodex) -> None:
    result = run_codex("--help")
    assert result.returncode == 0
    for word in ("Usage: codex", "--profile", "--config-profile", "doctor", "profiles",
                 "config", "completion", "resume", "--ask-for-approval", "--full-auto"):
        assert word in result.stdout


def test_no_command_without_a_terminal_points_to_exec(run_codex: RunCodex) -> None:
    """`codex` and `codex "PROMPT"` start the interactive UI, which needs a terminal."""
    for args in ((), ("explain this repo",)):
        result = run_codex(*args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "codex exec" in result.stderr
        assert result.stdout == ""


def test_root_image_flag_before_another_command_is_a_usage_error(run_codex: RunCodex) -> None:
    result = run_codex("-i", "shot.png", "profiles")
    assert result.returncode == 2
    assert result.stderr == ("codex: -i/--image before `profiles` is for the interactive UI; "
                             "give it to the command instead (codex profiles -i FILE)\n")
    assert result.stdout == ""


def test_usage_errors_exit_2(run_codex: RunCodex) -> None:
    assert run_codex("--no-such-flag").returncode == 2
    assert run_codex("no-such-command").returncode == 2
    assert run_codex("completion", "tcsh").returncode == 2
