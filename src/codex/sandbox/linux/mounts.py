"""Mount-namespace setup: every mount read-only, writable roots re-bound writable, fresh
/proc, private /dev/shm and ptys, protected paths, masks.

Runs inside new user + mount + PID namespaces, before any privilege is dropped. Every step
that protects something raises on failure (the helper refuses or, with --allow-degraded,
records the gap); nothing here is best-effort silently.
"""

from __future__ import annotations

import errno
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


def readonly_everything() -> None:
    """Make every mount read-only, recursively from `/` (bubblewrap's `--ro-bind / /`).

    Landlock does not cover chmod, chown, utime, xattrs or (for hard links made before the
    run) writes to the inode; a read-only mount stops all of them with EROFS outside the
    writable roots, which `rebind_writable` then re-opens. Mounts made after this (the fresh
    /proc, /dev/shm, ptys) are new and writable.
    """
    try:
        sc.mount_setattr("/", sc.AT_RECURSIVE, attr_set=sc.MOUNT_ATTR_RDONLY)
        return
    except OSError as exc:
        if exc.errno != errno.ENOSYS:
            raise
    for target in _mount_points():  # before Linux 5.12: one remount per mount, parents first
        try:
            flags = _locked_flags(target)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.ENOENT, errno.ENOTDIR):
                continue  # unreachable for us, so for the command too
            raise
        sc.mount(None, target, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | flags)


def _mount_points() -> list[str]:
    """Every mount point in this namespace, shortest first (octal escapes decoded)."""
    points = []
    with open("/proc/self/mountinfo", "rb") as fh:
        for line in fh:
            raw = line.split(b" ")[4]
            points.append(os.fsdecode(_unescape(raw)))
    return sorted(set(points), key=len)


def _unescape(raw: bytes) -> bytes:
    """mountinfo writes space, tab, newline and backslash as \\ooo."""
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and raw[i + 1:i + 4].isdigit() and i + 4 <= len(raw):
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def writable_flags(paths: Iterable[str]) -> dict[str, int]:
    """Per path, the flags a writable re-bind must keep (read before `readonly_everything`:
    a path on a mount the host made read-only stays read-only)."""
    flags = {}
    for path in paths:
        ro = os.statvfs(path).f_flag & os.ST_RDONLY
        flags[path] = _locked_flags(path) | (sc.MS_RDONLY if ro else 0)
    return flags


def rebind_writable(flags: dict[str, int]) -> None:
    """Bind each writable root onto itself and make that bind writable again (mounts below
    a root keep the read-only flag: they are other file systems the profile did not name)."""
    for path, keep in flags.items():
        sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_NOSUID | sc.MS_NODEV
                 | keep)


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
            report: MountReport, read_only_paths: Iterable[str] = ()) -> None:
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
    for path in read_only_paths:  # a permission profile's "read" rules inside writable roots
        if os.path.exists(path):
            bind_readonly(path)
            report.protected.append(path)


def mask(paths: Iterable[str], report: MountReport, denied: Iterable[str] = ()) -> None:
    """Hide secrets: an empty read-only tmpfs over directories, /dev/null over files. A
    permission profile's "deny" paths get a mode-000 directory or file instead: neither
    readable nor listable (nobody inside holds a capability that overrides modes). Runs
    after `private_dev`: denied files need our private /dev/shm."""
    for path in denied:
        if os.path.isdir(path):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
                     | sc.MS_RDONLY, "mode=0000,size=4k")
        elif os.path.exists(path):
            # an empty mode-000 file on our private /dev/shm, bound over the path, then
            # unlinked (the bind keeps it); the read-only remount stops a chmod back
            source = f"/dev/shm/.codex-denied-{os.getpid()}"
            os.close(os.open(source, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0))
            try:
                sc.mount(source, path, None, sc.MS_BIND)
            finally:
                os.unlink(source)
            sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY
                     | _locked_flags(path) | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
        else:
            continue
        report.masked.append(path)
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
