"""Helpers for the supervisor suite: git in a test repository, base session settings
pointing at the loopback server, and interrupting a codex process once it runs a command."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from codex.agent import SessionSettings
from codex.approvals import NonInteractiveApprover
from codex.audit import AuditLog
from codex.model import resolve_provider
from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile, resolve_policy
from support.model_server import ModelServer
from support.procs import pids_with


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout


def base_settings(server: ModelServer, workspace: Path, codex_home: Path,
                  profile: SecurityProfile = SecurityProfile.OFFLINE) -> SessionSettings:
    return SessionSettings(
        cwd=workspace, codex_home=codex_home, model="m",
        provider=resolve_provider("loop", {"loop": server.provider_table(
            request_max_retries=0, stream_max_retries=0)}, env={}),
        provider_id="loop", sandbox_policy=resolve_policy(profile, workspace),
        approval_policy=ApprovalPolicy.NEVER, approver=NonInteractiveApprover(),
        audit=AuditLog(codex_home))


@dataclass
class Interrupted:
    """A codex process stopped by Ctrl-C: exit code, output, seconds from SIGINT to exit."""

    returncode: int
    stdout: str
    stderr: str
    took: float


def interrupt_once_running(argv: list[str], env: dict[str, str], token: str) -> Interrupted:
    """Start `argv`, wait until a process with `token` in its command line runs (a sandboxed
    command of an agent), then send SIGINT and wait for the exit."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        deadline = time.monotonic() + 60
        while not pids_with(token):
            assert time.monotonic() < deadline and proc.poll() is None, "it never got going"
            time.sleep(0.05)
        time.sleep(0.3)  # let the parent settle into waiting
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        return Interrupted(proc.returncode, out, err, time.monotonic() - started)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
