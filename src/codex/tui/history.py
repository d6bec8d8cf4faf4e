"""Prompt history for Up/Down: this session's prompts plus CODEX_HOME/history.jsonl.

The file has the Codex CLI's shape, one JSON object per line:
`{"session_id": ..., "ts": <unix seconds>, "text": ...}` (the id is empty for a prompt sent
while the session was still opening). Each prompt is appended with a single `write()` on an
O_APPEND descriptor (mode 0600), so concurrent sessions interleave whole lines.
`[history] persistence = "none"` keeps history in memory only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.history import History

HISTORY_FILE = "history.jsonl"
_LOAD_LIMIT = 1000


class PromptHistory(History):
    """prompt_toolkit history backed by history.jsonl (or memory when `persist` is False)."""

    def __init__(self, codex_home: Path, *, persist: bool, session_id: str = "") -> None:
        super().__init__()
        self.path = codex_home / HISTORY_FILE
        self.session_id = session_id
        self.persist = persist

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
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return  # history is a convenience: never fail a prompt over it
        try:
            os.write(fd, record.encode("utf-8"))
        except OSError:
            pass
        finally:
            os.close(fd)
