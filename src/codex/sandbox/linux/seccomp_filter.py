"""The seccomp layer: a default-allow filter with a deny list, loaded last before exec.

Rules are plain data (`rules_for`) so tests can check each decision in a real child process;
`load` turns them into a libseccomp filter through pyseccomp, imported lazily because loading
libseccomp costs more than the rest of the helper.

Argument comparisons fail closed. libseccomp compares all 64 bits of an argument, while the
kernel truncates `int` arguments to 32, so: deny rules on an int argument either mask it
(MASKED_EQ, upper bits cannot matter) or are written so that stray upper bits land in a deny
range (socket families: everything >= AF_MAX is denied).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

# Comparison operators (libseccomp's enum scmp_compare).
NE, LT, LE, EQ, GE, GT, MASKED_EQ = 1, 2, 3, 4, 5, 6, 7

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
AF_MAX = 46  # first family number the kernel does not know (6.x)
NETLINK_ROUTE = 0

TIOCSTI = 0x5412
TIOCLINUX = 0x541C
S_IFMT, S_IFCHR, S_IFBLK = 0o170000, 0o020000, 0o060000
S_ISUID, S_ISGID = 0o4000, 0o2000

NAMESPACE_FLAGS: tuple[int, ...] = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)

# Whole families denied in every confined profile: each reaches something the other layers
# protect through a side door (async I/O rings bypass per-syscall checks, handle-based opens
# bypass path rules, cross-process memory and descriptor access, tracing, keyrings, bpf,
# perf, userfaultfd, namespace joining, the mount family, kernel/clock/swap administration).
DENIED_SYSCALLS: tuple[str, ...] = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "setns",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "move_mount",
    "open_tree", "mount_setattr", "fsconfig", "fspick",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "swapon", "swapoff", "acct", "syslog", "iopl", "ioperm", "quotactl", "quotactl_fd",
    "uselib", "vhangup", "fanotify_init", "lookup_dcookie",
)

# Syscalls whose arguments live in memory the filter cannot read: answering ENOSYS makes
# libc and well-behaved programs fall back to the older call we can inspect.
ENOSYS_SYSCALLS: tuple[str, ...] = ("clone3", "openat2")

# Metadata changes denied in read-only profiles (Landlock does not cover them).
METADATA_SYSCALLS: tuple[str, ...] = (
    "chmod", "fchmod", "fchmodat", "fchmodat2",
    "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "futimesat", "utimensat",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "setxattrat", "removexattrat",
)

# (syscall, index of its mode argument) for calls that can set setuid/setgid bits.
MODE_ARGUMENT: tuple[tuple[str, int], ...] = (
    ("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("fchmodat2", 2),
    ("open", 2), ("openat", 3), ("creat", 1),
)


@dataclass(frozen=True)
class Cmp:
    """One argument comparison (all of a rule's comparisons must match).

    `datum_a`/`datum_b` follow libseccomp: for MASKED_EQ they are (mask, value)."""

    arg: int
    op: int
    datum_a: int
    datum_b: int = 0


@dataclass(frozen=True)
class Rule:
    """Return `errno_value` from `syscall` when every comparison matches."""

    syscall: str
    errno_value: int
    conditions: tuple[Cmp, ...] = ()


def _socket_rules(name: str, allowed: tuple[int, ...]) -> list[Rule]:
    rules = [Rule(name, errno.EAFNOSUPPORT, (Cmp(0, EQ, family),))
             for family in range(AF_MAX) if family not in allowed]
    rules.append(Rule(name, errno.EAFNOSUPPORT, (Cmp(0, GE, AF_MAX),)))
    return rules


def rules_for(network: bool, read_only: bool) -> list[Rule]:
    """The deny rules for one profile shape."""
    rules = [Rule(name, errno.EPERM) for name in DENIED_SYSCALLS]
    rules += [Rule(name, errno.ENOSYS) for name in ENOSYS_SYSCALLS]
    for flag in NAMESPACE_FLAGS:
        rules.append(Rule("unshare", errno.EPERM, (Cmp(0, MASKED_EQ, flag, flag),)))
        rules.append(Rule("clone", errno.EPERM, (Cmp(0, MASKED_EQ, flag, flag),)))
    for request in (TIOCSTI, TIOCLINUX):
        rules.append(Rule("ioctl", errno.EPERM, (Cmp(1, MASKED_EQ, 0xFFFFFFFF, request),)))
    families = (AF_UNIX, AF_NETLINK) + ((AF_INET, AF_INET6) if network else ())
    rules += _socket_rules("socket", families)
    rules.append(Rule("socket", errno.EAFNOSUPPORT,
                      (Cmp(0, EQ, AF_NETLINK), Cmp(2, NE, NETLINK_ROUTE))))
    rules += _socket_rules("socketpair", (AF_UNIX,))
    for name in ("mknod", "mknodat"):
        index = 1 if name == "mknod" else 2
        for kind in (S_IFCHR, S_IFBLK):
            rules.append(Rule(name, errno.EPERM, (Cmp(index, MASKED_EQ, S_IFMT, kind),)))
    if read_only:
        rules += [Rule(name, errno.EPERM) for name in METADATA_SYSCALLS]
    for name, index in MODE_ARGUMENT:
        if read_only and name in METADATA_SYSCALLS:
            continue
        for bit in (S_ISUID, S_ISGID):
            conditions: tuple[Cmp, ...] = (Cmp(index, MASKED_EQ, bit, bit),)
            if name in ("open", "openat"):
                o_creat = 0o100
                flags_index = index - 1
                conditions = (Cmp(flags_index, MASKED_EQ, o_creat, o_creat), *conditions)
            rules.append(Rule(name, errno.EPERM, conditions))
    return rules


def build(network: bool, read_only: bool) -> Any:
    """A pyseccomp filter for the profile shape (not loaded)."""
    import pyseccomp

    scmp = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    # A syscall made through a foreign ABI (int 0x80, x32) bypasses every rule above.
    scmp.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
    for rule in rules_for(network, read_only):
        number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, rule.syscall)
        if number == -1:  # unknown to this libseccomp: nothing to deny
            continue
        args = [_arg(pyseccomp, cmp) for cmp in rule.conditions]
        scmp.add_rule(pyseccomp.ERRNO(rule.errno_value), number, *args)
    return scmp


def _arg(pyseccomp: Any, cmp: Cmp) -> Any:
    return pyseccomp.Arg(cmp.arg, cmp.op, cmp.datum_a, cmp.datum_b)


def load(network: bool, read_only: bool) -> None:
    """Build and install the filter in this process (irreversible)."""
    build(network, read_only).load()
