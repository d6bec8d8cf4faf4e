"""The audit log on disk: day files under CODEX_HOME/audit, appended by many processes at once.

Layout: `audit-YYYY-MM-DD.jsonl` (one per UTC day, mode 0600) in a 0700 directory, plus
`audit.lock`, which every writer holds exclusively (flock) while it appends and which also
carries the head record (codex.audit.head) so `verify` can tell a log that was cut short from a
complete one.

An append, under the lock: find the newest valid entry (reading the newest file from its end),
build the next entry on it, write it with one `write()` on an O_APPEND descriptor, fsync, then
update the head (carrying forward any disagreement between the old head and the log). If the
file does not end with a newline (a writer died mid-line), the new entry starts with one, so
the torn fragment stays on a line of its own and the chain continues from the last valid entry.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from codex.audit.anchor_paths import CHECKPOINT_EVERY
from codex.audit.autosign import sign_if_keyed
from codex.audit.entry import (
    GENESIS_HASH,
    AuditEntry,
    Decision,
    MalformedEntry,
    Operation,
    entry_hash,
    parse_line,
)
from codex.audit.head import LOCK_NAME, next_head, read_head_fd
from codex.audit.scrub import Scrubber
from codex.fsutil import fsync_directory

DAY_FILE = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")
_TAIL_CHUNK = 16 * 1024
# A symlink planted in place of a log file must not redirect our writes somewhere else.
_OPEN_FLAGS = os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


class AuditError(Exception):
    """The audit log cannot be written; callers must not let the audited action proceed."""


def audit_dir(codex_home: Path, configured: Path | None = None) -> Path:
    """Where the audit log of a CODEX_HOME lives: `[audit] dir` (relative to CODEX_HOME) when
    configured, else CODEX_HOME/audit."""
    if configured is None:
        return codex_home / "audit"
    configured = configured.expanduser()
    return configured if configured.is_absolute() else codex_home / configured


def day_files(directory: Path) -> list[Path]:
    """The day files of a log, oldest first (chain order)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [directory / name for name in sorted(names) if DAY_FILE.match(name)]


def rfc3339(moment: datetime) -> str:
    """UTC timestamp with microseconds and a `Z`, e.g. 2026-11-21T13:47:27.123456Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iter_lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes without newline, ended with a newline) for every line of a file."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            complete = raw.endswith(b"\n")
            yield number, raw[:-1] if complete else raw, complete


def _last_valid_in(path: Path) -> AuditEntry | None:
    """The last line of a file that parses as an entry, scanning backwards from the end."""
    with open(path, "rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        carry = b""
        position = end
        while position > 0:
            start = max(0, position - _TAIL_CHUNK)
            handle.seek(start)
            block = handle.read(position - start) + carry
            position = start
            lines = block.split(b"\n")
            # The first piece may be the tail of a line that continues in the previous block.
            carry = lines.pop(0) if position > 0 else b""
            for raw in reversed(lines):
                if not raw:
                    continue
                try:
                    return parse_line(raw)
                except MalformedEntry:
                    continue
        if carry:
            try:
                return parse_line(carry)
            except MalformedEntry:
                return None
    return None


def _newest_entry(files: list[Path]) -> AuditEntry | None:
    for path in reversed(files):
        newest = _last_valid_in(path)
        if newest is not None:
            return newest
    return None


def _ends_with_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size == 0 or os.pread(fd, 1, size - 1) == b"\n"


class AuditLog:
    """Append-only, hash-chained audit log of one CODEX_HOME.

    `record(...)` scrubs free text, chains the entry to the newest one and makes it durable
    before returning it; it raises `AuditError` when that is impossible.
    """

    def __init__(
        self,
        codex_home: Path,
        *,
        directory: Path | None = None,
        scrubber: Scrubber | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.codex_home = codex_home
        self.directory = directory if directory is not None else audit_dir(codex_home)
        self._scrubber = scrubber
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def scrubber(self) -> Scrubber:
        if self._scrubber is None:
            self._scrubber = Scrubber.from_environment()
        return self._scrubber

    def record(
        self,
        operation: Operation | str,
        target: str,
        decision: Decision | str,
        reason: str,
        profile: str,
        session_id: str,
        actor: str,
    ) -> AuditEntry:
        """Append one entry and return it as stored."""
        operation = Operation(operation).value
        decision = Decision(decision).value
        scrub = self.scrubber.scrub
        fields = {
            "session_id": scrub(session_id),
            "actor": scrub(actor),
            "operation": operation,
            "target": scrub(target),
            "decision": decision,
            "reason": scrub(reason),
            "profile": scrub(profile),
        }
        try:
            self._prepare_directory()
            lock_fd = os.open(self.directory / LOCK_NAME, _OPEN_FLAGS | os.O_RDWR, 0o600)
        except OSError as exc:
            raise AuditError(
                f"cannot open the audit log in {self.directory}: {exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            return self._append_locked(lock_fd, fields)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log in {self.directory}: {exc.strerror or exc}"
            ) from exc
        finally:
            os.close(lock_fd)  # closing releases the flock

    def _prepare_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o077:
            os.chmod(self.directory, 0o700)

    def _append_locked(self, lock_fd: int, fields: dict[str, str]) -> AuditEntry:
        now = self._clock()
        head = read_head_fd(lock_fd)
        files = day_files(self.directory)
        previous = _newest_entry(files)
        day = now.astimezone(UTC).strftime("%Y-%m-%d")
        if files:
            # A clock that went back must not put newer entries in an older file.
            newest = DAY_FILE.match(files[-1].name)
            if newest is not None and newest.group(1) > day:
                day = newest.group(1)
        body: dict[str, str | int] = {
            "ts": rfc3339(now),
            "seq": previous.seq + 1 if previous else 1,
            **fields,
            "prev_hash": previous.hash if previous else GENESIS_HASH,
        }
        body_hash = entry_hash(body)
        entry = AuditEntry(**body, hash=body_hash)  # type: ignore[arg-type]
        path = self.directory / f"audit-{day}.jsonl"
        created = not path.exists()
        fd = os.open(path, _OPEN_FLAGS | os.O_RDWR | os.O_APPEND, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
            line = entry.to_line()
            if not _ends_with_newline(fd):
                line = b"\n" + line
            _write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.directory)  # a new day file must survive a power cut too
        os.pwrite(lock_fd, next_head(head, previous, entry).to_bytes(), 0)
        if entry.seq % CHECKPOINT_EVERY == 0:
            sign_if_keyed(self.codex_home, self.directory, entry.seq, entry.hash)
        return entry

    def checkpoint_newest(self) -> None:
        """Sign a checkpoint of the newest entry if a key exists (at the end of a session)."""
        try:
            lock_fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return  # nothing was ever recorded here
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            newest = _newest_entry(day_files(self.directory))
            if newest is not None:
                sign_if_keyed(self.codex_home, self.directory, newest.seq, newest.hash)
        except OSError:
            pass  # an unreadable log fails `verify`; ending a session must not fail on it
        finally:
            os.close(lock_fd)


def _write_all(fd: int, data: bytes) -> None:
    # One write() per entry keeps lines whole; the loop only matters on a short write
    # (disk nearly full), where finishing the line beats leaving a torn one.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
