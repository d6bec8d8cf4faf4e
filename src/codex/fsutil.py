"""Durable writes: replace a file atomically, and make a directory entry survive a power cut.

Foundation level (stdlib only, no codex imports), so every room may use it. `fsync` on a file
makes its bytes durable, but a newly created or renamed name lives in the directory: it is
durable only once the directory itself is fsynced.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """fsync `directory`, so names created or renamed in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str | bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `text` (a str as UTF-8 text, bytes as they are): a temp file in the
    same directory, written and fsynced, given `mode` (default: mkstemp's owner-only 0600),
    then renamed over `path`.
    Readers see the old file or the new one, never a half-written one; the temp file is
    removed if anything fails. Callers that need the new name itself to be durable call
    `fsync_directory(path.parent)` afterwards."""
    import tempfile  # here, not at the top: it pulls in random/shutil, and few callers write

    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                handle.buffer.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
