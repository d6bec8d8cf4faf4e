"""One audit entry: its fields, its canonical bytes, its hash, and how a stored line is read.

The hash covers every field but `hash` itself (so `prev_hash` is covered too, which is what
chains each entry to the one before it). It is computed over a canonical serialization (sorted
keys, no whitespace, UTF-8) so any reader in any language can recompute it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


class Operation(StrEnum):
    """What kind of side effect an entry records."""

    COMMAND_EXEC = "command_exec"
    FILE_WRITE = "file_write"
    FILE_READ = "file_read"
    NETWORK = "network"
    APPROVAL = "approval"
    POLICY_CHANGE = "policy_change"
    PATCH_APPLY = "patch_apply"
    PLUGIN_CALL = "plugin_call"
    MCP_CALL = "mcp_call"
    AGENT_SPAWN = "agent_spawn"


class Decision(StrEnum):
    """What the guards decided about the side effect."""

    ALLOWED = "allowed"
    DENIED = "denied"
    REQUIRES_APPROVAL = "requires_approval"


# Field order of a stored line (readability only; the hash uses sorted keys).
FIELDS: tuple[str, ...] = (
    "ts", "seq", "session_id", "actor", "operation", "target", "decision", "reason",
    "profile", "prev_hash", "hash",
)
_TEXT_FIELDS = ("ts", "session_id", "actor", "target", "reason", "profile")
_HEX = frozenset("0123456789abcdef")
_OPERATIONS = frozenset(op.value for op in Operation)
_DECISIONS = frozenset(d.value for d in Decision)


@dataclass(frozen=True)
class AuditEntry:
    """A recorded decision, exactly as stored (free text already scrubbed)."""

    ts: str
    seq: int
    session_id: str
    actor: str
    operation: str
    target: str
    decision: str
    reason: str
    profile: str
    prev_hash: str
    hash: str

    def to_line(self) -> bytes:
        """The stored form: one JSON object and a newline."""
        body = {name: getattr(self, name) for name in FIELDS}
        return (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def expected_hash(self) -> str:
        """The hash this entry's other fields call for (differs from `hash` if edited)."""
        return entry_hash({k: v for k, v in self.to_dict().items() if k != "hash"})


def entry_hash(body: dict[str, Any]) -> str:
    """sha256 over the canonical serialization of an entry without its `hash` field."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class MalformedEntry(ValueError):
    """A stored line that is not a well-formed entry; the message says what is wrong."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers disagreeing about which duplicate wins would let an edited line show one
    # value to a human and hash another, so duplicates are rejected outright.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedEntry(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise MalformedEntry(f"non-standard JSON constant {name}")


def parse_line(raw: bytes) -> AuditEntry:
    """Parse one stored line (without its newline); raises MalformedEntry on anything odd."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_reject_constant)
    except MalformedEntry:
        raise
    except (ValueError, RecursionError) as exc:
        raise MalformedEntry("not a JSON object") from exc
    if not isinstance(data, dict):
        raise MalformedEntry("not a JSON object")
    keys = set(data)
    if keys != set(FIELDS):
        missing = sorted(set(FIELDS) - keys)
        extra = sorted(keys - set(FIELDS))
        detail = "; ".join(
            part for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            ) if part
        )
        raise MalformedEntry(f"wrong fields ({detail})")
    for name in _TEXT_FIELDS:
        if not isinstance(data[name], str):
            raise MalformedEntry(f"{name} is not a string")
    seq = data["seq"]
    if type(seq) is not int or seq < 1:
        raise MalformedEntry("seq is not a positive integer")
    if data["operation"] not in _OPERATIONS:
        raise MalformedEntry(f"unknown operation {data['operation']!r}")
    if data["decision"] not in _DECISIONS:
        raise MalformedEntry(f"unknown decision {data['decision']!r}")
    for name in ("prev_hash", "hash"):
        value = data[name]
        if not (isinstance(value, str) and len(value) == 64 and set(value) <= _HEX):
            raise MalformedEntry(f"{name} is not a sha256 hex digest")
    return AuditEntry(**{name: data[name] for name in FIELDS})
