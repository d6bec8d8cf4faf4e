"""The head record: where the log ended when it was last appended, kept at the start of audit.lock.

A hash chain proves that nothing before its last entry changed, but not that the last entry is
the real end. The head (seq and hash of the newest entry) is that anchor. It sits next to the
log, so it only defends against a cut or a rewrite that leaves audit.lock alone or deletes it;
signed checkpoints (codex.audit.checkpoint) are the anchor an adversary cannot forge.

Every writer compares the head with the log before it appends. If they disagree (the head is
missing, ahead of the log, or names a different entry), the log was cut or rewritten since the
last append, and the writer carries that finding forward in the head (`suspect`) so that the
next append cannot erase the evidence. Once set, `suspect` stays.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codex.audit.entry import AuditEntry

LOCK_NAME = "audit.lock"
HEAD_WIDTH = 256  # the head record is rewritten in place, padded to a fixed width

SuspectKind = Literal["missing", "ahead", "mismatch"]
_SUSPECT_KINDS: frozenset[str] = frozenset(("missing", "ahead", "mismatch"))


@dataclass(frozen=True)
class Suspect:
    """What a writer found wrong with the head when it appended after seq `at`."""

    kind: SuspectKind
    at: int
    head_seq: int  # what the head said (0 when it was missing)

    def describe(self) -> str:
        if self.kind == "missing":
            return (f"the head record in {LOCK_NAME} was missing when seq {self.at + 1} was "
                    f"appended: entries after seq {self.at} may have been cut off or rewritten")
        if self.kind == "ahead":
            return (f"truncated: the head record said seq {self.head_seq} when seq "
                    f"{self.at + 1} was appended again (seq {self.at + 1}..{self.head_seq} "
                    "were cut off)")
        return (f"head mismatch: seq {self.head_seq} did not match the head record when seq "
                f"{self.at + 1} was appended (the end of the log was rewritten)")


@dataclass(frozen=True)
class Head:
    """The newest entry as the writers last recorded it, and any suspicion carried forward."""

    seq: int
    hash: str
    suspect: Suspect | None = None

    def to_bytes(self) -> bytes:
        body: dict[str, object] = {"seq": self.seq, "hash": self.hash}
        if self.suspect is not None:
            body["suspect"] = {"kind": self.suspect.kind, "at": self.suspect.at,
                               "head_seq": self.suspect.head_seq}
        return json.dumps(body, separators=(",", ":")).encode().ljust(HEAD_WIDTH - 1) + b"\n"


def _parse_suspect(value: object) -> Suspect | None:
    if not isinstance(value, dict):
        return None
    kind, at, head_seq = value.get("kind"), value.get("at"), value.get("head_seq")
    if kind not in _SUSPECT_KINDS or type(at) is not int or type(head_seq) is not int:
        return None
    return Suspect(kind, at, head_seq)


def parse_head(raw: bytes) -> Head | None:
    """The head record in the first bytes of audit.lock, or None when absent or unreadable."""
    try:
        data = json.loads(raw[:HEAD_WIDTH].decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    seq, digest = data.get("seq"), data.get("hash")
    if type(seq) is not int or not isinstance(digest, str):
        return None
    suspect = data.get("suspect")
    parsed = _parse_suspect(suspect)
    if suspect is not None and parsed is None:
        return None  # an unreadable suspicion must not read as "no suspicion"
    return Head(seq, digest, parsed)


def read_head(directory: Path) -> Head | None:
    """The head record of a log directory, or None when absent or unreadable."""
    try:
        return parse_head((directory / LOCK_NAME).read_bytes())
    except OSError:
        return None


def read_head_fd(fd: int) -> Head | None:
    """The head record from an open audit.lock (the writer holds it locked)."""
    return parse_head(os.pread(fd, HEAD_WIDTH, 0))


def _suspect(head: Head | None, previous: AuditEntry | None) -> Suspect | None:
    """Whether the head disagrees with the newest entry a writer is about to build on."""
    at = previous.seq if previous is not None else 0
    if head is None:
        return Suspect("missing", at, 0) if previous is not None else None
    if head.suspect is not None:
        return head.suspect
    if previous is None:
        return Suspect("ahead", 0, head.seq) if head.seq > 0 else None
    if head.seq == previous.seq and head.hash == previous.hash:
        return None
    if head.seq == previous.seq - 1 and head.hash == previous.prev_hash:
        return None  # a writer died between its append and its head update
    if head.seq > previous.seq:
        return Suspect("ahead", at, head.seq)
    return Suspect("mismatch", at, head.seq)


def next_head(current: Head | None, previous: AuditEntry | None, entry: AuditEntry) -> Head:
    """The head to write after appending `entry` on top of `previous`."""
    return Head(entry.seq, entry.hash, _suspect(current, previous))
