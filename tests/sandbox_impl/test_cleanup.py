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
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sbx_support import needs_sandbox, run

from codex.sandbox import SandboxResult
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
    group), one plain background child. The marker is assembled at run time, so only the two
    daemons carry it in their argv (not this script's own `sh -c`)."""
    head, tail = marker[:6], marker[6:]
    sleeper = f"python3 -c 'import time; time.sleep(300)' \"{head}\"\"{tail}\""
    return f"setsid {sleeper} & {sleeper} &"


def _wait_for_daemons(marker: str, done: Callable[[], bool]) -> None:
    """Until both daemons are seen in the host's /proc (or fail: a run whose daemons never
    started proves nothing about cleaning them up)."""
    deadline = time.monotonic() + 30
    while len(pids_with(marker)) < 2:
        assert not done(), "the run ended before its daemons were seen"
        assert time.monotonic() < deadline, "the sandboxed daemons never started"
        time.sleep(0.02)


def _run_in_thread(profile: str, script: str, workspace: Path,
                   **kwargs: object) -> tuple[threading.Thread, list[SandboxResult]]:
    results: list[SandboxResult] = []
    thread = threading.Thread(target=lambda: results.append(
        run(profile, ["sh", "-c", script], workspace, **kwargs)), daemon=True)
    thread.start()
    return thread, results


@pytest.mark.parametrize("profile", PROFILES)
def test_daemons_die_when_the_command_exits(profile: str, workspace: Path) -> None:
    marker = "codexmark" + secrets.token_hex(6)
    release = workspace / f"release-{secrets.token_hex(6)}"  # not the marker: sh's argv has it
    # The command ends only once the test has seen both daemons and releases it.
    script = (_daemon_script(marker)
              + f" while [ ! -e {release.name} ]; do sleep 0.02; done")
    thread, results = _run_in_thread(profile, script, workspace)
    _wait_for_daemons(marker, lambda: not thread.is_alive())
    release.touch()
    thread.join(60)
    (result,) = results
    assert result.exit_code == 0, result.stderr
    assert _gone(marker), f"orphans survived: {pids_with(marker)}"


@pytest.mark.parametrize("profile", PROFILES)
def test_timeout_kills_everything(profile: str, workspace: Path) -> None:
    marker = "codexmark" + secrets.token_hex(6)
    thread, results = _run_in_thread(profile, _daemon_script(marker) + " sleep 300",
                                     workspace, timeout_s=3.0)
    _wait_for_daemons(marker, lambda: not thread.is_alive())
    thread.join(60)
    (result,) = results
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
    script = _daemon_script(marker) + " sleep 300"
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, profile, str(workspace), script],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for_daemons(marker, lambda: runner.poll() is not None)
    runner.send_signal(how)
    runner.wait(timeout=30)
    assert _gone(marker, within=10), f"orphans survived: {pids_with(marker)}"
