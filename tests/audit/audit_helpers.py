"""Helpers for the audit tests: a controllable clock, filling a log, a child environment."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codex.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class StepClock:
    """A clock that advances by `step` on every reading (to place entries on chosen days)."""

    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current


def fill(log: AuditLog, count: int, session: str = "sess-1") -> None:
    """Append `count` distinct command_exec entries."""
    for i in range(count):
        log.record("command_exec", f"echo {i}", "allowed", f"rule {i}", "offline", session,
                   "user")


def day_clock(day: str, step: timedelta = timedelta(minutes=1)) -> StepClock:
    return StepClock(datetime.fromisoformat(f"{day}T23:50:00+00:00").astimezone(UTC), step)


def child_env(codex_home: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process using this checkout and a private CODEX_HOME."""
    env = dict(os.environ)
    env["CODEX_HOME"] = str(codex_home)
    env["PYTHONPATH"] = str(REPO / "src")
    env.update(extra)
    return env
