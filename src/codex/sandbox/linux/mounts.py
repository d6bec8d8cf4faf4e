"""Mount-namespace setup: fresh /proc, private /dev/shm and ptys, protected paths, masks.

Runs inside new user + mount + PID namespaces, before any privilege is dropped. Every step
that protects something raises on failure (the helper refuses or, with --allow-degraded,
records the gap); nothing here is best-effort silently.
"""

from __future__ import annotations

import os
import stat

from codex.sandbox.linux import syscalls as sc

TYPE_CHECKING = False  # no `typing` import: the helper loads this module on every run
if TYPE_CHECKING:
    from collections.abc import Iterable

# statvfs f_flag bits that a remount inside a user namespace must preserve ("locked" flags).
_ST_TO_MS: tuple[tuple[int, int], ...] = (
    (os.ST_NOSUID, sc.MS_NOSUID),
    (os.ST_NODEV, sc.MS_NODEV),
    (os.ST_NOEXEC, sc.MS_NOEXEC),
    (os.ST_NOATIME, 1024),  # MS_NOATIME
    (os.ST_NODIRATIME, 2048),  # MS_NODIRATIME
    (os.ST_RELATIME, 1 << 21),  # MS_RELATIME
)

SHM_SIZE = "size=512m"


class MountReport:
    """What the mount layer did, for the run's result."""

    def __init__(self) -> None:
        self.protected: list[str] = []
        self.masked: list[str] = []


def _locked_flags(path: str) -> int:
    flags = 0
    f_flag = os.statvfs(path).f_flag
    for st_bit, ms_bit in _ST_TO_MS:
        if f_flag & st_bit:
            flags |= ms_bit
    return flags


def make_private() -> None:
    """Stop mount events from propagating back to the host."""
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)


def mount_proc() -> None:
    """A /proc that shows only the new PID namespace."""
    sc.mount("proc", "/proc", "proc", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)


def private_dev() -> None:
    """Private /dev/shm (POSIX semaphores need it) and a private pty instance, so the
    user's terminals under the host /dev/pts cannot be opened."""
    if os.path.isdir("/dev/shm"):
        sc.mount("tmpfs", "/dev/shm", "tmpfs", sc.MS_NOSUID | sc.MS_NODEV,
                 f"mode=1777,{SHM_SIZE}")
    if os.path.isdir("/dev/pts"):
        sc.mount("devpts", "/dev/pts", "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620")
        if os.path.exists("/dev/ptmx"):
            sc.mount("/dev/pts/ptmx", "/dev/ptmx", None, sc.MS_BIND)


def bind_readonly(path: str) -> None:
    """Bind `path` onto itself and make that bind read-only."""
    sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
    flags = _locked_flags(path) | sc.MS_NOSUID | sc.MS_NODEV
    sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | flags)


def pin(path: str) -> None:
    """Bind a directory onto itself: a mount point cannot be renamed or removed, so the
    protected paths beneath it cannot be swapped out by moving their parent away."""
    sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)


def protect(writable_roots: Iterable[str], subpaths: Iterable[str],
            report: MountReport) -> None:
    """Read-only binds over protected paths inside each writable root.

    Paths that exist are made read-only. `.git` itself is pinned so it cannot be renamed
    away and replaced by a fresh one with hooks. A missing `.git/hooks` inside an existing
    `.git` is created (git creates it too) and protected; other missing protected names are
    left absent, and the runner quarantines them after the run if they appear.
    """
    subpaths = tuple(subpaths)
    for root in writable_roots:
        git = os.path.join(root, ".git")
        if os.path.isdir(git) and not os.path.islink(git):
            pin(git)
            hooks = os.path.join(git, "hooks")
            if not os.path.lexists(hooks) and ".git/hooks" in subpaths:
                os.mkdir(hooks, 0o755)
        for sub in subpaths:
            target = os.path.join(root, sub)
            if os.path.islink(target):
                # mount(2) follows the link, so the link itself cannot be made read-only;
                # the runner compares protected paths before and after the run instead.
                continue
            if os.path.lexists(target):
                bind_readonly(target)
                report.protected.append(target)


def mask(paths: Iterable[str], report: MountReport) -> None:
    """Hide secrets: an empty read-only tmpfs over directories, /dev/null over files."""
    for path in paths:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        except PermissionError:
            continue  # unreadable to us, therefore to the command too
        if stat.S_ISLNK(st.st_mode):
            path = os.path.realpath(path)
            try:
                st = os.stat(path)
            except OSError:
                continue
        if stat.S_ISDIR(st.st_mode):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
                     | sc.MS_RDONLY, "mode=0755,size=4k")
        else:
            sc.mount("/dev/null", path, None, sc.MS_BIND)
            flags = _locked_flags(path) | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
            sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | flags)
        report.masked.append(path)
