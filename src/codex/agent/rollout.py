"""The rollout: a session's conversation, appended item by item to a JSONL file so it survives
a crash and can be resumed.

Location: `CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<session id>.jsonl` (UTC;
directories 0700, file 0600, created with O_EXCL and O_NOFOLLOW). Every line is
`{"timestamp", "type", "payload"}`:
- line 1 `session_meta`: id, cwd, model, provider, security profile, approval policy,
  instructions hash, cli version;
- `turn_context` when a task starts (cwd, model, profile, approval policy);
- `response_item`: one conversation item in the Responses JSON shape (`item_to_dict`);
- `turn_end`: how a task ended (completed with usage, failed with the message, interrupted);
- `compacted`: the conversation was replaced by a summary (`message`) and the items in
  `replacement_history`, which are the history from there on.
Durability: each line is written whole with one `write()` as soon as the item exists, so it
survives the process being killed from then on; a flusher thread fsyncs right behind the
writes (one fsync covers every line written since the last, so a burst costs one), keeping the
disk flush off the turn's critical path. `sync()` waits until everything written is on disk:
the session calls it before a tool with side effects runs and when it closes, and creating a
file syncs the meta line and the directory entry. After `kill -9` the last line may be torn;
`load_rollout` ignores it and `RolloutWriter.resume` cuts it off before appending, so the file
stays valid JSONL. A writer holds an exclusive `flock` on its file (released by the kernel
even on `kill -9`), so two processes never append to one session.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codex.fsutil import fsync_directory
from codex.model import InputItem, item_from_dict, item_to_dict

SESSIONS_DIR = "sessions"
_FILE_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW


class RolloutError(Exception):
    """A rollout cannot be found, read or written; the message names the file and fix."""


def new_session_id() -> str:
    """A UUIDv7 (time-ordered, random tail) so rollout names sort by creation time."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64
    value |= 0x2 << 62 | (rand & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sessions_root(codex_home: Path) -> Path:
    return codex_home / SESSIONS_DIR


class RolloutWriter:
    """Appends lines to one rollout file (see the module docstring for durability)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        try:  # one writer per session: a second `resume` of a live session must not interleave
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RolloutError(f"the session in {path} is in use by another codex process; "
                               "wait for it to finish or stop it") from None
        self._lock = threading.Condition()
        self._written = 0  # lines written to the file
        self._synced = 0  # lines known to be on disk
        self._error: OSError | None = None
        self._closing = False
        self._flusher: threading.Thread | None = None

    @classmethod
    def create(cls, codex_home: Path, session_id: str, meta: Mapping[str, Any]) -> RolloutWriter:
        """A new rollout file whose first line is the session meta (durable on return)."""
        now = datetime.now(UTC)
        directory = sessions_root(codex_home) / f"{now:%Y}" / f"{now:%m}" / f"{now:%d}"
        _make_private_dirs(directory)
        path = directory / f"rollout-{now:%Y-%m-%dT%H-%M-%S}-{session_id}.jsonl"
        try:
            fd = os.open(path, _FILE_FLAGS | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise RolloutError(f"cannot create the session file {path}: {exc.strerror}") from exc
        writer = cls(path, fd)
        writer.append("session_meta", {"id": session_id, "timestamp": _now(), **meta})
        writer.sync()
        fsync_directory(directory)
        return writer

    @classmethod
    def resume(cls, path: Path) -> RolloutWriter:
        """Append to an existing rollout, first cutting off a torn last line."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError as exc:
            raise RolloutError(f"cannot open the session file {path}: {exc.strerror}") from exc
        writer = cls(path, fd)  # takes the lock before anything is cut
        size = os.fstat(fd).st_size
        if size:
            keep = _complete_prefix_length(fd, size)
            if keep != size:
                os.ftruncate(fd, keep)
                os.fsync(fd)
        return writer

    def append(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Write one line with a single write() (it survives our process dying from here
        on) and queue its fsync on the flusher thread (see `sync`)."""
        line = json.dumps({"timestamp": _now(), "type": kind, "payload": payload},
                          ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode("utf-8", "surrogatepass")
        with self._lock:
            self._raise_error()
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError as exc:
                raise RolloutError(f"cannot write the session file {self.path}: "
                                   f"{exc.strerror}") from exc
            self._written += 1
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_loop, daemon=True,
                                                 name="codex-rollout-fsync")
                self._flusher.start()
            self._lock.notify_all()

    def append_items(self, items: Iterable[InputItem]) -> None:
        for item in items:
            self.append("response_item", item_to_dict(item))

    def sync(self) -> None:
        """Wait until every line written so far is on disk (fsync), or raise RolloutError."""
        with self._lock:
            target = self._written
            while self._synced < target and self._error is None:
                self._lock.wait()
            self._raise_error()

    def close(self) -> None:
        """Sync, stop the flusher and close the file."""
        if self._fd < 0:
            return
        try:
            self.sync()
        finally:
            with self._lock:
                self._closing = True
                self._lock.notify_all()
            if self._flusher is not None:
                self._flusher.join()
            os.close(self._fd)
            self._fd = -1

    def _flush_loop(self) -> None:
        """Group commit: one fsync covers every line written since the previous one."""
        with self._lock:
            while True:
                while self._synced == self._written and not self._closing:
                    self._lock.wait()
                if self._synced == self._written:
                    return
                target = self._written
                self._lock.release()
                try:
                    os.fsync(self._fd)
                    error = None
                except OSError as exc:
                    error = exc
                finally:
                    self._lock.acquire()
                if error is not None:
                    self._error = error
                    self._lock.notify_all()
                    return
                self._synced = target
                self._lock.notify_all()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise RolloutError(f"cannot make the session file {self.path} durable: "
                               f"{self._error.strerror}")


def _make_private_dirs(directory: Path) -> None:
    """Create `directory` and missing parents (CODEX_HOME too, on a first run) with mode
    0700, whatever the umask."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)


def _complete_prefix_length(fd: int, size: int) -> int:
    """Bytes up to and including the last newline (a line after it was torn)."""
    chunk = 64 * 1024
    end = size
    while end > 0:
        start = max(0, end - chunk)
        data = os.pread(fd, end - start, start)
        newline = data.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


@dataclass
class LoadedRollout:
    """A rollout read back: its meta line, conversation items and whether a torn tail was
    skipped."""

    path: Path
    meta: dict[str, Any]
    items: list[InputItem] = field(default_factory=list)
    torn_tail: bool = False
    # Token counts of every `turn_end` line added up: the thread's usage so far.
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def session_id(self) -> str:
        return str(self.meta["id"])


def load_rollout(path: Path) -> LoadedRollout:
    """Read a rollout; RolloutError names `file:line` for anything but a torn last line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RolloutError(f"cannot read the session file {path}: {exc.strerror}") from exc
    lines = data.split(b"\n")
    torn = lines[-1] != b""  # no final newline: the last write was cut short
    complete = lines[:-1]
    meta: dict[str, Any] | None = None
    items: list[InputItem] = []
    usage: dict[str, int] = {}
    for number, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            kind, payload = record["type"], record["payload"]
            if kind == "session_meta":
                meta = meta if meta is not None else dict(payload)
            elif kind == "response_item":
                items.append(item_from_dict(payload))
            elif kind == "turn_end":
                _add_counts(usage, payload.get("usage"))
            elif kind == "compacted" and payload.get("replacement_history") is not None:
                items = [item_from_dict(entry) for entry in payload["replacement_history"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise RolloutError(f"{path}:{number}: not a valid rollout line ({exc}); the file "
                               "is damaged") from None
    if meta is None or "id" not in meta:
        raise RolloutError(f"{path}:1: no session_meta line; not a codex session file")
    return LoadedRollout(path, meta, items, torn_tail=torn, usage=usage)


def _add_counts(total: dict[str, int], counts: object) -> None:
    """Add the integer fields of a recorded usage object to `total` (others are skipped)."""
    if isinstance(counts, dict):
        for name, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                total[str(name)] = total.get(str(name), 0) + value


def find_rollout(codex_home: Path, session_id: str | None = None) -> Path:
    """The rollout of `session_id` (a full id or a unique prefix), or, with None, the most
    recently written one."""
    root = sessions_root(codex_home)
    candidates = sorted(root.glob("*/*/*/rollout-*.jsonl")) if root.is_dir() else []
    if session_id is None:
        if not candidates:
            raise RolloutError(f"no recorded session in {root}; start one with `codex exec`")
        return max(candidates, key=lambda p: (p.stat().st_mtime_ns, p.name))
    wanted = session_id.lower()
    matches = [p for p in candidates if _id_of(p).startswith(wanted)]
    if not matches:
        raise RolloutError(f"no session with id {session_id!r} in {root}")
    if len({_id_of(p) for p in matches}) > 1:
        raise RolloutError(f"session id prefix {session_id!r} is ambiguous; give more of it")
    return matches[0]


def _id_of(path: Path) -> str:
    # rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl: the uuid is the last 36 characters of the stem
    return path.stem[-36:]
