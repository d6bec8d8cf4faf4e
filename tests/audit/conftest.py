"""Fixtures for the audit tests: a private CODEX_HOME and a log factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from codex.audit import AuditLog, Scrubber


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    return home


@pytest.fixture
def make_log(codex_home: Path) -> Callable[..., AuditLog]:
    """Logs with a scrubber that knows no secrets, so entries are predictable."""

    def factory(clock: Callable[[], datetime] | None = None) -> AuditLog:
        return AuditLog(codex_home, scrubber=Scrubber(), clock=clock)

    return factory
