"""Checkpoints the writers sign on their own: after every CHECKPOINT_EVERY-th entry and when an
agent session ends, but only once a key exists (`codex audit checkpoint` creates it).

Signing must never stop the audited action (the entry is already durable), so a failure is
logged as a warning rather than raised. PyNaCl is imported only when a key exists.
"""

from __future__ import annotations

import logging
from pathlib import Path

from codex.audit.anchor_paths import PRIVATE_KEY, KeyDirError, key_dir

_log = logging.getLogger(__name__)


def sign_if_keyed(codex_home: Path, directory: Path, seq: int, digest: str) -> None:
    """Sign and store a checkpoint of entry `seq` of the log in `directory`, if a key exists."""
    try:
        keys = key_dir(codex_home)
    except KeyDirError as exc:
        _log.warning("audit checkpoint skipped: %s", exc)
        return
    if not (keys / PRIVATE_KEY).exists():
        return
    from codex.audit.checkpoint import CheckpointError, load_private_key, sign, store_locally

    try:
        key, _ = load_private_key(keys, create=False)
        store_locally(keys, directory, sign(key, directory, seq, digest))
    except (CheckpointError, OSError) as exc:
        _log.warning("audit checkpoint of seq %d not written: %s", seq, exc)
