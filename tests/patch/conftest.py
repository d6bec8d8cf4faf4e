"""Fixtures for the apply_patch suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from patch_helpers import policy_for

from codex.patch import PathPolicy


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


@pytest.fixture
def policy(ws: Path) -> PathPolicy:
    return policy_for(ws)
