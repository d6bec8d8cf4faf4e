"""Where the checkpoint signing key and the local checkpoints of a log live (stdlib only).

The key must sit where the writer of the log cannot reach it, so never under CODEX_HOME:
`$CODEX_AUDIT_KEY_DIR` when set, else `$XDG_CONFIG_HOME/codex-audit`, else
`~/.config/codex-audit`. The same directory keeps the checkpoints signed for each log
(`checkpoints/<id>.jsonl`, id derived from the log directory's absolute path), so `verify` finds
them without being told. Kept apart from codex.audit.checkpoint so that checking whether a log
has checkpoints at all costs no PyNaCl import.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

KEY_DIR_ENV = "CODEX_AUDIT_KEY_DIR"
PRIVATE_KEY = "audit-signing.key"
PUBLIC_KEY = "audit-signing.pub"
CHECKPOINT_EVERY = 64  # a writer signs a checkpoint after every 64th entry (when a key exists)


class KeyDirError(ValueError):
    """The key directory is unusable (inside CODEX_HOME); the message names the fix."""


def key_dir(codex_home: Path, env: dict[str, str] | None = None) -> Path:
    """The checkpoint key directory; refuses one inside CODEX_HOME or the audit directory."""
    env = dict(os.environ) if env is None else env
    configured = env.get(KEY_DIR_ENV)
    if configured:
        directory = Path(configured).expanduser()
    elif env.get("XDG_CONFIG_HOME"):
        directory = Path(env["XDG_CONFIG_HOME"]) / "codex-audit"
    else:
        directory = Path.home() / ".config" / "codex-audit"
    resolved, home = directory.resolve(), codex_home.resolve()
    if resolved == home or home in resolved.parents:
        raise KeyDirError(
            f"the audit checkpoint key directory {directory} is inside CODEX_HOME ({codex_home}), "
            f"where the writer of the log can reach it; set {KEY_DIR_ENV} to a directory "
            "outside it")
    return directory


def log_id(audit_directory: Path) -> str:
    """A stable name for one log: its directory's absolute path, hashed."""
    return hashlib.sha256(str(audit_directory.resolve()).encode()).hexdigest()[:24]


def local_checkpoints(keys: Path, audit_directory: Path) -> Path:
    """The file of checkpoints signed for the log in `audit_directory`."""
    return keys / "checkpoints" / f"{log_id(audit_directory)}.jsonl"
