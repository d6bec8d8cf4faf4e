"""Where codex keeps its state: `CODEX_HOME`, default `~/.codex`."""

from __future__ import annotations

import os
from pathlib import Path


def codex_home() -> Path:
    """The directory for config.toml, rules, audit logs and sessions (not created here)."""
    configured = os.environ.get("CODEX_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".codex"
