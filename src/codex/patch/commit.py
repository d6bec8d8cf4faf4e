"""Write a planned patch all-or-nothing.

Unlike the Codex CLI, which stops halfway when one file fails, a patch here either lands
completely or leaves the tree as it was:

1. every new content goes to a temporary file in its target's directory (same filesystem,
   so the final rename is atomic), with the target's mode, flushed and fsynced;
2. every file about to be replaced or deleted gets a backup: a hard link (a copy where the
   filesystem has no hard links) next to it;
3. temporaries are renamed over their targets, then deletions (and move sources) are unlinked;
4. on any error the targets are restored from the backups, files that did not exist are
   removed again, and directories the commit created are removed; on success the backups
   go and the directories are fsynced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from codex.fsutil import fsync_directory
from codex.patch.engine import FinalState, PatchPlan, file_signature

_NEW_FILE_MODE = 0o666
# What link() says on filesystems (or mounts) that cannot hard-link; anything else is real.
_NO_HARDLINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK,
                           errno.EXDEV, errno.ENOSYS})


class CommitFailed(OSError):
    """Writing failed midway; `rolled_back` tells whether the tree was restored."""

    def __init__(self, message: str, *, rolled_back: bool) -> None:
        self.rolled_back = rolled_back
        state = ("every file was restored" if rolled_back
                 else "ROLLBACK INCOMPLETE: check the files listed above")
        super().__init__(f"{message}; {state}")


@dataclass
class _Journal:
    """What the commit has done so far, in the order it did it, for rollback."""

    temps: list[Path] = field(default_factory=list)
    backups: dict[Path, Path] = field(default_factory=dict)
    created_dirs: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    rollback_errors: list[str] = field(default_factory=list)


def commit_plan(plan: PatchPlan) -> None:
    """Apply `plan` to disk atomically (see the module docstring); raise CommitFailed."""
    writes = plan.writes()
    journal = _Journal()
    try:
        staged = [(state, _stage(state, journal)) for state in writes if state.content is not None]
        for state in writes:
            if state.original is not None:
                journal.backups[state.path] = _backup(state.path, journal)
                _check_unchanged(state)
        for state, temp in staged:
            if state.original is None:
                linked = _install_new(temp, state.path)
                journal.replaced.append(state.path)
                if linked:
                    os.unlink(temp)
            else:
                os.replace(temp, state.path)
                journal.replaced.append(state.path)
            journal.temps.remove(temp)
        for state in writes:
            if state.content is None:
                os.unlink(state.path)
                journal.removed.append(state.path)
    except OSError as exc:
        _rollback(journal)
        detail = "; ".join(journal.rollback_errors)
        message = f"writing the patch failed ({exc})"
        if detail:
            message += f"; rollback problems: {detail}"
        raise CommitFailed(message, rolled_back=not journal.rollback_errors) from exc
    for backup in journal.backups.values():
        with contextlib.suppress(OSError):
            os.unlink(backup)
    for directory in {s.path.parent for s in writes} | {d.parent for d in journal.created_dirs}:
        with contextlib.suppress(OSError):  # best effort: the patch has already landed
            fsync_directory(directory)


def _stage(state: FinalState, journal: _Journal) -> Path:
    """Write `state.content` to a fsynced temporary file next to its target."""
    assert state.content is not None
    _make_parents(state.path.parent, journal)
    fd, temp = _create_temp(state.path)
    journal.temps.append(temp)
    try:
        if state.mode is not None:
            os.fchmod(fd, state.mode)
        view = memoryview(state.content)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    return temp


def _install_new(temp: Path, target: Path) -> bool:
    """Put a new file in place without ever replacing one that appeared meanwhile: link()
    refuses an existing name; filesystems without hard links get a check and a rename.
    True when `temp` still exists (linked) and must be removed."""
    try:
        os.link(temp, target)
        return True
    except FileExistsError:
        raise FileExistsError(f"{target} was created while the patch was being applied") \
            from None
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            raise
        if os.path.lexists(target):
            raise FileExistsError(
                f"{target} was created while the patch was being applied") from None
        os.rename(temp, target)
        return False


def _check_unchanged(state: FinalState) -> None:
    """Refuse to commit over a file someone changed after the patch was planned (checked
    once its backup exists, so the backup holds exactly the bytes that were planned on)."""
    current = file_signature(os.stat(state.path))
    if current != state.original_signature:
        raise FileExistsError(f"{state.path} changed while the patch was being applied")


def _create_temp(target: Path) -> tuple[int, Path]:
    """An exclusive new file next to `target`; a new file's mode follows the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.codex-tmp")
        try:
            return os.open(temp, flags, _NEW_FILE_MODE), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {target}")


def _backup(path: Path, journal: _Journal) -> Path:
    """A hard link (or copy) of `path` that rollback can rename back into place."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}.codex-bak")
        try:
            os.link(path, candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in _NO_HARDLINKS:
                raise
            shutil.copy2(path, candidate)
            return candidate
    raise FileExistsError(f"could not pick a backup name next to {path}")


def _make_parents(directory: Path, journal: _Journal) -> None:
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        os.mkdir(path)
        journal.created_dirs.append(path)


def _rollback(journal: _Journal) -> None:
    def attempt(what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            journal.rollback_errors.append(f"{what}: {exc}")

    for path in reversed(journal.removed):
        backup = journal.backups.get(path)
        if backup is not None:
            attempt(f"restore {path}", partial(os.replace, backup, path))
    for path in reversed(journal.replaced):
        backup = journal.backups.get(path)
        if backup is not None:
            attempt(f"restore {path}", partial(os.replace, backup, path))
        else:
            attempt(f"remove {path}", partial(os.unlink, path))
    restored = set(journal.removed) | set(journal.replaced)
    for path, backup in journal.backups.items():
        if path not in restored:
            attempt(f"remove backup {backup}", partial(os.unlink, backup))
    for temp in journal.temps:
        attempt(f"remove {temp}", partial(os.unlink, temp))
    for directory in reversed(journal.created_dirs):
        attempt(f"remove directory {directory}", partial(os.rmdir, directory))
