"""Fixtures for the supervisor suite: the loopback model server, a committed git workspace, a
private CODEX_HOME with an audit log, and base session settings pointing at the server."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex.agent import SessionSettings
from codex.approvals import NonInteractiveApprover
from codex.audit import AuditLog
from codex.model import resolve_provider
from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile, resolve_policy
from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)
from support.procs import pids_with


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A git repository with one commit (notes.txt, app.py)."""
    path = tmp_path / "ws"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "notes.txt").write_text("one\ntwo\n")
    (path / "app.py").write_text("print('v1')\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "base")
    return path


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


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
