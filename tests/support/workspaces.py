"""Fixtures for suites that run `codex exec`: an empty git repository to work in and a
private CODEX_HOME. Import them into a directory's conftest.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty git repository to work in."""
    path = tmp_path / "ws"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    """A private CODEX_HOME (sessions, audit log, config)."""
    path = tmp_path / "home"
    path.mkdir()
    return path
