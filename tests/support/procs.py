"""/proc oracles shared by the sandbox suites: which processes exist, seen from outside."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def pids_with(token: str) -> list[int]:
    """Processes whose command line carries `token` (zombies have none, so they are not
    listed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
    return found
