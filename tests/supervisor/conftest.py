"""Fixtures for the supervisor suite: the loopback model server, a committed git workspace, a
private CODEX_HOME with an audit log, and base session settings pointing at the server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codex.agent import SessionSettings
from codex.approvals import NonInteractiveApprover
from codex.audit import AuditLog
from codex.model import resolve_provider
from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile, resolve_policy
from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)


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
