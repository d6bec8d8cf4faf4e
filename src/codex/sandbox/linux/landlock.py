"""Landlock through direct syscalls, at whatever ABI the kernel offers.

The PyPI `landlock` package only knows filesystem rules; TCP rules (ABI 4), scopes (ABI 6) and
restrict flags (ABI 7) need the raw interface, so the whole layer speaks it directly.
Constants are from include/uapi/linux/landlock.h.
"""

from __future__ import annotations

import ctypes
import os
import stat
import struct

from codex.sandbox.linux import syscalls

TYPE_CHECKING = False  # no `typing` import: the helper loads this module on every run
if TYPE_CHECKING:
    from collections.abc import Iterable

# Filesystem rights, with the ABI that introduced them.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

RESTRICT_SELF_LOG_NEW_EXEC_ON = 1 << 1  # ABI 7

RULE_PATH_BENEATH = 1
RULE_NET_PORT = 2

_FS_ABI1 = (1 << 13) - 1
FS_BY_ABI: dict[int, int] = {
    1: _FS_ABI1,
    2: _FS_ABI1 | FS_REFER,
    3: _FS_ABI1 | FS_REFER | FS_TRUNCATE,
    4: _FS_ABI1 | FS_REFER | FS_TRUNCATE,
    5: _FS_ABI1 | FS_REFER | FS_TRUNCATE | FS_IOCTL_DEV,
}

# Rights that make sense on a non-directory; the kernel rejects the others on file rules.
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV

READ_EXEC = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
DEVICE_RW = FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV


def fs_rights_for_abi(abi: int) -> int:
    """Every filesystem right the kernel's ABI knows (handled = denied unless granted)."""
    return FS_BY_ABI[min(abi, 5)] if abi >= 1 else 0


def writable_rights(abi: int) -> int:
    """All rights except creating device nodes and device ioctls."""
    return fs_rights_for_abi(abi) & ~(FS_MAKE_CHAR | FS_MAKE_BLOCK | FS_IOCTL_DEV)


def pack_ruleset_attr(handled_fs: int, handled_net: int, scoped: int) -> bytes:
    """struct landlock_ruleset_attr (three __u64). Unused trailing fields stay zero, which
    older kernels accept as long as they are zero."""
    return struct.pack("=QQQ", handled_fs, handled_net, scoped)


def pack_path_beneath(allowed: int, parent_fd: int) -> bytes:
    """struct landlock_path_beneath_attr: __u64 + __s32, packed (12 bytes)."""
    return struct.pack("=Qi", allowed, parent_fd)


def pack_net_port(allowed: int, port: int) -> bytes:
    """struct landlock_net_port_attr: two __u64."""
    return struct.pack("=QQ", allowed, port)


class PathRule:
    """Grant `rights` beneath `path` (trimmed to what the ABI and the file type allow)."""

    __slots__ = ("path", "rights")

    def __init__(self, path: str, rights: int) -> None:
        self.path = path
        self.rights = rights


class LandlockPlan:
    """What one run asks of Landlock."""

    def __init__(self, abi: int, rules: list[PathRule], deny_tcp: bool, scoped: bool,
                 log_new_exec: bool, connect_ports: tuple[int, ...] = ()) -> None:
        self.abi = abi
        self.connect_ports = connect_ports
        self.rules = rules
        self.deny_tcp = deny_tcp
        self.scoped = scoped
        self.log_new_exec = log_new_exec


class LandlockApplied:
    """What the kernel accepted (for the run's report)."""

    def __init__(self, fs: bool, net: bool, scope: bool, log: bool,
                 skipped_paths: list[str]) -> None:
        self.fs = fs
        self.net = net
        self.scope = scope
        self.log = log
        self.skipped_paths = skipped_paths


def _buffer(data: bytes) -> ctypes.Array[ctypes.c_char]:
    return ctypes.create_string_buffer(data, len(data))


def apply(plan: LandlockPlan) -> LandlockApplied:
    """Create the ruleset, add the rules and restrict this process (no_new_privs must be set).

    Raises OSError when the kernel refuses; callers treat that as a missing layer.
    """
    handled_fs = fs_rights_for_abi(plan.abi)
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if plan.deny_tcp and plan.abi >= 4 else 0
    scoped = (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if plan.scoped and plan.abi >= 6 else 0
    attr = _buffer(pack_ruleset_attr(handled_fs, handled_net, scoped))
    ruleset_fd = syscalls.syscall(
        syscalls.SYS_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(len(attr)),
        ctypes.c_uint32(0), what="landlock_create_ruleset")
    skipped: list[str] = []
    try:
        for rule in plan.rules:
            if not _add_path_rule(ruleset_fd, rule, handled_fs):
                skipped.append(rule.path)
        for port in plan.connect_ports if handled_net else ():
            attr = _buffer(pack_net_port(NET_CONNECT_TCP, port))
            syscalls.syscall(syscalls.SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset_fd),
                             ctypes.c_int(RULE_NET_PORT), attr, ctypes.c_uint32(0),
                             what=f"landlock_add_rule tcp connect {port}")
        flags = RESTRICT_SELF_LOG_NEW_EXEC_ON if plan.log_new_exec and plan.abi >= 7 else 0
        syscalls.syscall(syscalls.SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset_fd),
                         ctypes.c_uint32(flags), what="landlock_restrict_self")
    finally:
        os.close(ruleset_fd)
    return LandlockApplied(fs=True, net=bool(handled_net), scope=bool(scoped),
                           log=plan.log_new_exec and plan.abi >= 7, skipped_paths=skipped)


def _add_path_rule(ruleset_fd: int, rule: PathRule, handled_fs: int) -> bool:
    """Add one rule; False when the path does not exist (nothing to grant)."""
    try:
        fd = os.open(rule.path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        rights = rule.rights & handled_fs
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        if not rights:
            return False
        attr = _buffer(pack_path_beneath(rights, fd))
        syscalls.syscall(syscalls.SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset_fd),
                         ctypes.c_int(RULE_PATH_BENEATH), attr, ctypes.c_uint32(0),
                         what=f"landlock_add_rule {rule.path}")
    finally:
        os.close(fd)
    return True


def plan_for(abi: int, writable: Iterable[str], devices: Iterable[str],
             network: bool, connect_ports: tuple[int, ...] = ()) -> LandlockPlan:
    """The rules SANDBOX.md asks for: `/` read+execute, devices read/write, writable roots;
    without network, TCP connect only to `connect_ports` (the codex proxy's)."""
    rules = [PathRule("/", READ_EXEC)]
    rules += [PathRule(d, DEVICE_RW | READ_EXEC) for d in devices]
    rules += [PathRule(w, writable_rights(abi)) for w in writable]
    return LandlockPlan(abi=abi, rules=rules, deny_tcp=not network, scoped=True,
                        log_new_exec=True, connect_ports=connect_ports)
