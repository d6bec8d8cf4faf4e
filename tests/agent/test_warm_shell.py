"""Warm confinement: a `codex exec` session keeps a confined helper ready for its next shell
command, the next command really runs inside that helper, it inherits no stray descriptor,
a policy change throws the helper away, and neither the session's end nor Ctrl-C leaves a
helper behind.

Oracle: /proc seen from outside (which helper processes exist, whose ancestor a running
command is) plus what the commands printed. The model is the loopback server; a reply held
back for a moment gives the test time to look.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from agent_helpers import exec_command, exec_env

from codex.policies import SandboxPolicy
from codex.sandbox.linux import HELPER_TOKEN
from codex.sandbox.runner import SandboxRequest
from codex.security.profiles import SecurityProfile, resolve_policy
from codex.tools.warm_shell import WarmHelper
from support.model_server import ModelServer, responses_function_call, responses_text
from support.procs import pids_with

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")]

WRITE = ["--profile", "workspace-write"]
FD_SCRIPT = "import os; print('FDS', sorted(int(f) for f in os.listdir('/proc/self/fd')))"


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descends_from(pid: int, ancestor: int) -> bool:
    current: int | None = pid
    while current and current > 1:
        if current == ancestor:
            return True
        current = parent_of(current)
    return False


def helpers_of(root: int) -> list[int]:
    """Outer helper processes (children of `root`'s process tree) carrying the token."""
    return [p for p in pids_with(HELPER_TOKEN) if p != root and descends_from(p, root)
            and not descends_from(parent_of(p) or 0, p)]


def wait_for(check: Callable[[], list[int]], seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    return []


def held(reply: object, seconds: float) -> object:
    return dataclasses.replace(reply, pause_before_headers=seconds)  # type: ignore[type-var]


def after_first_command(model_server: ModelServer, root: int) -> list[int]:
    """The helpers alive once the first command's output reached the model."""
    return wait_for(lambda: helpers_of(root) if len(model_server.requests) >= 2 else [])


def start_exec(model_server: ModelServer, workspace: Path, codex_home: Path
               ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        exec_command(model_server, workspace, ["--json", "work"], global_args=WRITE),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=exec_env(codex_home), cwd=workspace)


def test_next_command_runs_in_the_warm_helper(model_server: ModelServer, workspace: Path,
                                              codex_home: Path) -> None:
    token = f"warm-{os.getpid()}-{time.monotonic_ns()}"
    model_server.enqueue(
        responses_function_call("shell", {"command": ["true"]}, "call_1"),
        held(responses_function_call("shell", {"command": [
            "sh", "-c", f"sleep 3 # {token}\n{sys.executable} -c \"{FD_SCRIPT}\""]}, "call_2"),
            3.0),
        held(responses_text("done"), 2.0))
    proc = start_exec(model_server, workspace, codex_home)
    try:
        warm = after_first_command(model_server, proc.pid)  # ready while the model "thinks"
        assert warm, "no warm helper after the first command"
        command = wait_for(lambda: [p for p in pids_with(token) if p != proc.pid
                                    and "sleep" in Path(f"/proc/{p}/cmdline").read_text()])
        assert command, "the second command never ran"
        assert any(descends_from(command[0], w) for w in warm), \
            "the second command did not run inside the helper prepared before it"
        refilled = wait_for(lambda: [h for h in helpers_of(proc.pid) if h not in warm])
        assert refilled, "no fresh warm helper after the second command"
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "FDS [0, 1, 2, 3]" in out, out  # 3 is listdir's own descriptor
    assert not [p for p in warm + refilled if Path(f"/proc/{p}").exists()
                and HELPER_TOKEN.encode() in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_ctrl_c_leaves_no_helper(model_server: ModelServer, workspace: Path,
                                 codex_home: Path) -> None:
    model_server.enqueue(
        responses_function_call("shell", {"command": ["true"]}, "call_1"),
        held(responses_text("never seen"), 30.0))
    proc = start_exec(model_server, workspace, codex_home)
    try:
        warm = after_first_command(model_server, proc.pid)
        assert warm, "no warm helper after the first command"
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in warm):
        time.sleep(0.05)
    left = [p for p in warm if Path(f"/proc/{p}").exists()
            and HELPER_TOKEN.encode() in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert not left, f"helpers left behind after Ctrl-C: {left}"


def test_policy_change_throws_the_warm_helper_away(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    write = resolve_policy(SecurityProfile.WORKSPACE_WRITE, ws)
    offline: SandboxPolicy = resolve_policy(SecurityProfile.OFFLINE, ws)
    first = SandboxRequest(policy=write, argv=["true"], cwd=ws, capture=True)
    slot = WarmHelper()
    try:
        slot.refill(first)
        kept = wait_for(lambda: helpers_of(os.getpid()))
        assert kept
        assert slot.take(dataclasses.replace(first, policy=offline)) is None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in kept):
            time.sleep(0.05)
        assert not any(Path(f"/proc/{p}").exists() for p in kept)
        slot.refill(first)
        run = slot.take(dataclasses.replace(first, argv=["sh", "-c", "echo served"]))
        assert run is not None
        from codex.sandbox import run_sandboxed

        result = run_sandboxed(dataclasses.replace(
            first, argv=["sh", "-c", "echo served"], prepared=run))
        assert result.exit_code == 0 and result.stdout == b"served\n"
    finally:
        slot.close()
    assert not helpers_of(os.getpid())
