"""Thin ctypes access to the libc calls the sandbox needs and Python does not wrap.

Only stdlib: the sandbox helper imports this before anything else. Every wrapper raises
OSError with the real errno, so callers can fail closed with an honest reason.
"""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

MACHINE = os.uname().machine

# Landlock's syscall numbers are shared by every architecture (allocated after the
# syscall-table unification in 5.x), so one table serves x86_64 and aarch64.
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
SYS_MOUNT_SETATTR = 442  # also in the unified range (5.12+)

# prctl options (linux/prctl.h)
PR_SET_PDEATHSIG = 1
PR_GET_SECCOMP = 21
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

# clone/unshare flags (linux/sched.h)
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# mount flags (linux/mount.h)
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000

# mount_setattr(2) (linux/mount.h, linux/fcntl.h)
MOUNT_ATTR_RDONLY = 0x1
AT_RECURSIVE = 0x8000
AT_FDCWD = -100


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def syscall(number: int, *args: object, what: str = "syscall") -> int:
    """Call a raw syscall; arguments must already be ctypes-compatible."""
    return _check(int(_libc.syscall(ctypes.c_long(number), *args)), what)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(2) with unsigned-long arguments."""
    ul = ctypes.c_ulong
    res = _libc.prctl(ctypes.c_int(option), ul(arg2), ul(arg3), ul(arg4), ul(arg5))
    return _check(int(res), f"prctl({option})")


def unshare(flags: int) -> None:
    """unshare(2)."""
    _check(int(_libc.unshare(ctypes.c_int(flags))), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    """mount(2); raises OSError naming the target."""
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)

    res = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(int(res), f"mount {target}")


class _MountAttr(ctypes.Structure):
    _fields_ = (("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64))


def mount_setattr(path: str, flags: int, attr_set: int = 0, attr_clr: int = 0) -> None:
    """mount_setattr(2) on `path` (AT_RECURSIVE in `flags` for the whole subtree); raises
    OSError (ENOSYS before Linux 5.12)."""
    attr = _MountAttr(attr_set, attr_clr, 0, 0)
    syscall(SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), os.fsencode(path),
            ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
            what=f"mount_setattr {path}")


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32))


_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def clear_capability_sets() -> None:
    """capset(2) with empty effective, permitted and inheritable sets for this thread."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(int(_libc.capset(ctypes.byref(header), ctypes.byref(data))), "capset")


def last_capability() -> int:
    """The highest capability number this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return 40
