"""Checking an audit log: every entry's hash, its link to the one before, and seq continuity.

Verification stops at the first broken entry (everything after it would fail too) and names
it by file, line and seq. A line that is not an entry is a torn write (a writer died
mid-append) when the chain continues cleanly past it: that is a warning, not a break. The head
record kept in the lock file catches what a chain alone cannot: entries cut off the end, or a
last entry rewritten with a recomputed hash. A log with entries and no head fails, unless the
caller allows it for a log written before codex kept head records.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from codex.audit.entry import GENESIS_HASH, AuditEntry, MalformedEntry, parse_line
from codex.audit.head import LOCK_NAME, Head, read_head
from codex.audit.store import day_files, iter_lines

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem found in the log, located as precisely as possible."""

    severity: Severity
    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    seq: int | None = None

    @property
    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def to_dict(self) -> dict[str, object]:
        return {"severity": self.severity, "kind": self.kind, "message": self.message,
                "file": self.file, "line": self.line, "seq": self.seq}


@dataclass
class VerifyReport:
    """The outcome of `verify`: counts, the chain tip, warnings and at most one error."""

    directory: Path
    files: int = 0
    entries: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    findings: list[Finding] = field(default_factory=list)

    @property
    def error(self) -> Finding | None:
        return next((f for f in self.findings if f.severity == "error"), None)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "directory": str(self.directory), "files": self.files,
                "entries": self.entries, "last_seq": self.last_seq,
                "last_hash": self.last_hash,
                "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class _Line:
    file: str
    number: int
    entry: AuditEntry | None
    problem: str
    complete: bool


def _lines(files: list[Path]) -> Iterator[_Line]:
    for path in files:
        for number, raw, complete in iter_lines(path):
            if not raw.strip():
                yield _Line(path.name, number, None, "blank line", complete)
                continue
            try:
                yield _Line(path.name, number, parse_line(raw), "", complete)
            except MalformedEntry as exc:
                yield _Line(path.name, number, None, str(exc), complete)


def _find_seq(files: list[Path], seq: int, after: _Line) -> _Line | None:
    """A later line holding `seq`, to tell a reordered entry from a deleted one."""
    passed = False
    for line in _lines(files):
        if not passed:
            passed = line.file == after.file and line.number == after.number
            continue
        if line.entry is not None and line.entry.seq == seq:
            return line
    return None


def _check_entry(line: _Line, entry: AuditEntry, previous: AuditEntry | None,
                 files: list[Path]) -> Finding | None:
    """The first thing wrong with `entry` given the valid entry before it, if anything."""
    problem = _entry_problem(line, entry, previous, files)
    if problem is None:
        return None
    kind, message = problem
    return Finding("error", kind, message, file=line.file, line=line.number, seq=entry.seq)


def _entry_problem(line: _Line, entry: AuditEntry, previous: AuditEntry | None,
                   files: list[Path]) -> tuple[str, str] | None:
    if entry.hash != entry.expected_hash():
        return "hash_mismatch", f"hash mismatch: seq {entry.seq} was edited after it was written"
    expected_seq = previous.seq + 1 if previous else 1
    if entry.seq > expected_seq:
        later = _find_seq(files, expected_seq, line)
        if later is not None:
            return ("reorder", f"out of order: seq {entry.seq} comes before seq {expected_seq} "
                               f"(at {later.file}:{later.number})")
        missing = (f"seq {expected_seq}" if entry.seq == expected_seq + 1
                   else f"seq {expected_seq}..{entry.seq - 1}")
        return ("seq_gap", f"seq gap: expected seq {expected_seq}, found seq {entry.seq} "
                           f"({missing} deleted)")
    if entry.seq < expected_seq:
        return "reorder", f"out of order: seq {entry.seq} comes after seq {expected_seq - 1}"
    expected_prev = previous.hash if previous else GENESIS_HASH
    if entry.prev_hash != expected_prev:
        before = f"seq {previous.seq}" if previous else "the genesis hash"
        return ("prev_hash_mismatch", f"prev_hash mismatch: seq {entry.seq} does not link to "
                                      f"{before} (an entry was replaced or inserted)")
    return None


def _permission_warnings(directory: Path, files: list[Path]) -> list[Finding]:
    found = []
    for path in (directory, *files):
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            found.append(Finding("warning", "permissions",
                                 f"{path} is open to group or others (mode {mode:o}); "
                                 f"run chmod {'700' if path == directory else '600'} {path}",
                                 file=None if path == directory else path.name))
    return found


def verify_log(directory: Path, *, allow_missing_head: bool = False,
               anchors: Mapping[int, str] | None = None) -> VerifyReport:
    """Verify the whole log under a shared lock, so no append lands halfway through.

    `allow_missing_head` turns a missing head record from an error into a warning: only for
    logs written before codex kept head records, whose tail cannot be checked at all.
    `anchors` (seq -> hash, from signed checkpoints whose signatures the caller checked) must
    each be present in the log with exactly that hash."""
    lock_fd = None
    try:
        lock_fd = os.open(directory / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
        fcntl.flock(lock_fd, fcntl.LOCK_SH)
    except OSError:
        lock_fd = None  # no lock file yet (or unreadable): verify what is there
    try:
        return _verify_unlocked(directory, allow_missing_head, anchors or {})
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


def _verify_unlocked(directory: Path, allow_missing_head: bool,
                     anchors: Mapping[int, str]) -> VerifyReport:
    files = day_files(directory)
    report = VerifyReport(directory=directory, files=len(files))
    report.findings.extend(_permission_warnings(directory, files) if files else [])
    head = read_head(directory)
    previous: AuditEntry | None = None
    pending: list[_Line] = []  # lines that are not entries, since the last valid entry
    head_hash: str | None = None
    for line in _lines(files):
        entry = line.entry
        if entry is None:
            pending.append(line)
            continue
        problem = _check_entry(line, entry, previous, files)
        if pending:
            if not _links(entry, previous):
                first = pending[0]
                report.findings.append(Finding(
                    "error", "malformed", f"not a valid entry ({first.problem})",
                    file=first.file, line=first.number))
                return report
            report.findings.extend(_torn(pending))
            pending = []
        if problem is None:
            problem = _check_anchor(line, entry, anchors)
        if problem is not None:
            report.findings.append(problem)
            return report
        previous = entry
        report.entries += 1
        report.last_seq, report.last_hash = entry.seq, entry.hash
        if head is not None and entry.seq == head.seq:
            head_hash = entry.hash
    report.findings.extend(_torn(pending))
    beyond = [seq for seq in anchors if seq > report.last_seq]
    if beyond:
        report.findings.append(Finding(
            "error", "checkpoint_truncated",
            f"truncated: a signed checkpoint vouches for seq {max(beyond)} but the log ends at "
            f"seq {report.last_seq} (seq {report.last_seq + 1}..{max(beyond)} were cut off)",
            seq=report.last_seq + 1))
        return report
    head_problem = _check_head(head, head_hash, report, files, allow_missing_head)
    if head_problem is not None:
        report.findings.append(head_problem)
    return report


def _check_anchor(line: _Line, entry: AuditEntry, anchors: Mapping[int, str]) -> Finding | None:
    signed = anchors.get(entry.seq)
    if signed is None or signed == entry.hash:
        return None
    return Finding("error", "checkpoint_mismatch",
                   f"rewritten: seq {entry.seq} is not the entry a signed checkpoint vouches "
                   f"for (hash {entry.hash[:16]}, signed {signed[:16]}): seq 1..{entry.seq} "
                   "were rewritten", file=line.file, line=line.number, seq=entry.seq)


def _links(entry: AuditEntry, previous: AuditEntry | None) -> bool:
    """Whether `entry` continues the chain right after `previous`."""
    if previous is None:
        return entry.seq == 1 and entry.prev_hash == GENESIS_HASH
    return entry.seq == previous.seq + 1 and entry.prev_hash == previous.hash


def _torn(lines: list[_Line]) -> list[Finding]:
    return [
        Finding("warning", "torn_write",
                f"skipped a line that is not an entry ({line.problem}): an interrupted "
                "append; the chain continues past it", file=line.file, line=line.number)
        for line in lines
    ]


_MISSING_ALLOWED = (
    "accepted only because of --allow-missing-head, which is meant for logs written before "
    "codex kept head records: entries cut off the end of this log cannot be detected"
)


def _check_head(head: Head | None, head_hash: str | None, report: VerifyReport,
                files: list[Path], allow_missing_head: bool) -> Finding | None:
    if head is None:
        if not report.entries:
            return None
        if allow_missing_head:
            return Finding("warning", "head_missing",
                           f"no head record in {LOCK_NAME}; {_MISSING_ALLOWED}")
        return Finding("error", "head_missing",
                       f"no head record in {LOCK_NAME}: the log has {report.entries} entries "
                       "but nothing records where it ended, so entries cut off the end (or a "
                       "rewritten last entry) cannot be ruled out; only for a log written "
                       "before codex kept head records, rerun with --allow-missing-head")
    if head.suspect is not None:
        if head.suspect.kind == "missing" and allow_missing_head:
            return Finding("warning", "head_missing",
                           f"{head.suspect.describe()}; {_MISSING_ALLOWED} before seq "
                           f"{head.suspect.at + 1}")
        kinds = {"missing": "head_missing", "ahead": "truncated", "mismatch": "head_mismatch"}
        return Finding("error", kinds[head.suspect.kind], head.suspect.describe(),
                       seq=head.suspect.at + 1)
    last_file = files[-1].name if files else None
    if head.seq > report.last_seq:
        return Finding("error", "truncated",
                       f"truncated: the log ends at seq {report.last_seq} but seq {head.seq} "
                       f"was written (seq {report.last_seq + 1}..{head.seq} missing)",
                       file=last_file, seq=report.last_seq + 1)
    if head_hash != head.hash:
        return Finding("error", "head_mismatch",
                       f"seq {head.seq} does not match the head record (entry replaced)",
                       seq=head.seq)
    return None
