"""Prompt history for Up/Down: this session's prompts plus CODEX_HOME/history.jsonl.

The file has the Codex CLI's shape, one JSON object per line:
`{"session_id": ..., "ts": <unix seconds>, "text": ...}` (the id is empty for a prompt sent
while the session was still opening). Each prompt is appended with a single `write()` on an
O_APPEND descriptor (mode 0600), so concurrent sessions interleave whole lines.
`[history] persistence = "none"` keeps history in memory only. `[history] max_bytes` caps the
file: when an append takes it over the cap, the oldest lines are dropped (the newest that fit
are kept and replace the file atomically, `codex.fsutil.write_atomic`). Writers take an
exclusive `flock` on the file and re-open it if a trim replaced it meanwhile, so no
concurrent prompt is lost.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.history import History

from codex.fsutil import write_atomic

HISTORY_FILE = "history.jsonl"
_LOAD_LIMIT = 1000


class PromptHistory(History):
    """prompt_toolkit history backed by history.jsonl (or memory when `persist` is False)."""

    def __init__(self, codex_home: Path, *, persist: bool, session_id: str = "",
                 max_bytes: int | None = None) -> None:
        super().__init__()
        self.path = codex_home / HISTORY_FILE
        self.session_id = session_id
        self.persist = persist
        self.max_bytes = max_bytes

    def load_history_strings(self) -> Iterable[str]:
        """Newest first (prompt_toolkit's order)."""
        if not self.persist:
            return []
        try:
            raw = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        texts: list[str] = []
        for line in reversed(raw[-_LOAD_LIMIT:]):
            try:
                text = json.loads(line).get("text")
            except (ValueError, AttributeError):
                continue
            if isinstance(text, str) and text:
                texts.append(text)
        return texts

    def store_string(self, string: str) -> None:
        if not self.persist:
            return
        record = json.dumps({"session_id": self.session_id, "ts": int(time.time()),
                             "text": string}, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = self._open_locked()
        except OSError:
            return  # history is a convenience: never fail a prompt over it
        try:
            os.write(fd, record.encode("utf-8"))
            if self.max_bytes is not None and os.fstat(fd).st_size > self.max_bytes:
                self._trim(fd, self.max_bytes)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _open_locked(self) -> int:
        """An O_APPEND descriptor of the current file, holding its exclusive lock."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)  # a trim renamed a new file into place while we waited: use that

    def _trim(self, fd: int, max_bytes: int) -> None:
        """Keep the newest whole lines that fit in `max_bytes` (see the module docstring)."""
        with os.fdopen(os.dup(fd), "rb") as current:
            current.seek(0)
            lines = current.read().splitlines(keepends=True)
        kept: list[bytes] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) > max_bytes:
                break
            kept.append(line)
            size += len(line)
        write_atomic(self.path, b"".join(reversed(kept)))
