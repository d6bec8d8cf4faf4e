"""No process outlives a run: normal exit, timeout, Ctrl-C, SIGTERM and SIGKILL of the runner.

The oracle is the host's /proc: a daemon started inside the sandbox carries a unique marker
in its command line, and after the run no process on the machine may carry it.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sbx_support import needs_sandbox, run

from support.procs import pids_with

pytestmark = [needs_sandbox, pytest.mark.timeout(120)]
PROFILES = ["offline", "workspace-write", "trusted"]


def _gone(marker: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not pids_with(marker):
            return True
        time.sleep(0.05)
    return not pids_with(marker)


def _daemon_script(marker: str) -> str:
    """Start two daemons carrying `marker`: one in a new session (escapes the process
    group), one plain background child; then return."""
    sleeper = f"python3 -c 'import time; time.sleep(300)' {marker}"
    return f"setsid {sleeper} & {sleeper} & sleep 0.5"


@pytest.mark.parametrize("profile", PROFILES)
def test_daemons_die_when_the_command_exits(profile: str, workspace: Path) -> None:
    marker = "codexmark" + secrets.token_hex(6)
    result = run(profile, ["sh", "-c", _daemon_script(marker)], workspace)
    assert result.exit_code == 0, result.stderr
    assert _gone(marker), f"orphans survived: {pids_with(marker)}"


@pytest.mark.parametrize("profile", PROFILES)
def test_timeout_kills_everything(profile: str, workspace: Path) -> None:
    marker = "codexmark" + secrets.token_hex(6)
    script = _daemon_script(marker) + "; sleep 300"
    result = run(profile, ["sh", "-c", script], workspace, timeout_s=2.0)
    assert result.timed_out and result.exit_code == 124
    assert _gone(marker), f"orphans survived: {pids_with(marker)}"


RUNNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from codex.sandbox import SandboxRequest, run_sandboxed
    from codex.security.profiles import parse_profile, resolve_policy
    profile, ws, script = sys.argv[1:4]
    policy = resolve_policy(parse_profile(profile), Path(ws))
    run_sandboxed(SandboxRequest(policy=policy, argv=["sh", "-c", script], cwd=Path(ws)))
""")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupting_the_runner_kills_everything(profile: str, how: int,
                                                  workspace: Path) -> None:
    marker = "codexmark" + secrets.token_hex(6)
    script = _daemon_script(marker) + "; sleep 300"
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, profile, str(workspace), script],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(pids_with(marker)) < 2:
        assert time.monotonic() < deadline, "the sandboxed daemons never started"
        assert runner.poll() is None, runner.stderr.read() if runner.stderr else b""
        time.sleep(0.05)
    runner.send_signal(how)
    runner.wait(timeout=30)
    assert _gone(marker, within=10), f"orphans survived: {pids_with(marker)}"
