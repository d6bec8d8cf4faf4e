"""Pinned tool definitions and saved approvals: the defence against "rug-pull" servers.

The first time a session sees a tool, the digest of its definition (name, description, input
schema, annotations) is pinned in CODEX_HOME/mcp/pins.json; an "always" answer is saved there
with the digest it was given for. When a server later offers a different definition under the
same name, the pin no longer matches: the call needs approval again (and is refused where
nobody can be asked), whatever the new definition claims about itself. Writes are atomic.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from codex.fsutil import write_atomic

PINS_FILE = "pins.json"


def definition_digest(tool: dict[str, Any]) -> str:
    """sha256 over the parts of a tool definition that tell the model and us what it does."""
    parts = {key: tool.get(key) for key in ("name", "description", "inputSchema", "annotations")}
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class PinStore:
    """`{server: {tool: {"digest": ..., "approved_always": bool}}}` in one JSON file."""

    def __init__(self, codex_home: Path) -> None:
        self.path = codex_home / "mcp" / PINS_FILE
        self._lock = threading.Lock()

    def check(self, server: str, tool: str, digest: str) -> tuple[bool, bool]:
        """(the definition matches its pin, it was approved "always" at this digest); a tool
        seen for the first time is pinned now and matches."""
        with self._lock:
            pins = self._read()
            if pins is None:
                return False, False
            entry = pins.setdefault(server, {}).get(tool)
            if entry is None:
                pins[server][tool] = {"digest": digest, "approved_always": False}
                self._write(pins)
                return True, False
            matches = entry.get("digest") == digest
            return matches, matches and bool(entry.get("approved_always"))

    def approve(self, server: str, tool: str, digest: str, *, always: bool) -> None:
        """Re-pin `tool` at `digest` (the user approved this definition); remember "always"."""
        with self._lock:
            pins = self._read() or {}
            pins.setdefault(server, {})[tool] = {"digest": digest, "approved_always": always}
            self._write(pins)

    def _read(self) -> dict[str, dict[str, dict[str, Any]]] | None:
        """The pins; None when the file is unreadable (then nothing matches: fail closed)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write(self, pins: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, json.dumps(pins, indent=1, sort_keys=True) + "\n", mode=0o600)
