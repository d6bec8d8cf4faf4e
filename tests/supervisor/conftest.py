"""Fixtures for the supervisor suite: the loopback model server, a committed git workspace
and a private CODEX_HOME (helpers live in supervisor_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from supervisor_helpers import git

from support.model_server import model_server  # noqa: F401  (re-exported fixture)


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
