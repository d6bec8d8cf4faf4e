"""The seccomp layer: a default-allow filter with a deny list, loaded last before exec.

Rules are plain data (`rules_for`); `assemble` compiles them to classic BPF for one
architecture and `load` installs the program with prctl(PR_SET_SECCOMP). The filter is
assembled here rather than through pyseccomp/libseccomp because loading libseccomp and
building its filter costs ~25 ms of CPU per sandboxed command, more than the rest of the
helper, and because libseccomp 2.5 does not know syscalls newer than itself (setxattrat,
open_tree_attr, file_setattr). tests/sandbox_impl uses libseccomp as an oracle: the same
rules built with pyseccomp must give the same decisions in real child processes.

Argument comparisons fail closed. libseccomp compares all 64 bits of an argument, while the
kernel truncates `int` arguments to 32, so: deny rules on an int argument either mask it
(MASKED_EQ, upper bits cannot matter) or are written so that stray upper bits land in a deny
range (socket families: everything >= AF_MAX is denied).
"""

from __future__ import annotations

import ctypes
import errno
import struct

from codex.sandbox.linux import syscall_numbers
from codex.sandbox.linux import syscalls as sc

# Comparison operators (libseccomp's enum scmp_compare).
NE, LT, LE, EQ, GE, GT, MASKED_EQ = 1, 2, 3, 4, 5, 6, 7

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
AF_MAX = 46  # first family number the kernel does not know (6.x)
NETLINK_ROUTE = 0
SOCK_STREAM = 1
SOCK_TYPE_MASK = 0xF  # the rest of `type` carries SOCK_NONBLOCK / SOCK_CLOEXEC

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
    "open_tree", "open_tree_attr", "mount_setattr", "fsconfig", "fspick",
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
)

# Extended-attribute and inode-flag setters, denied in every confined profile: Landlock does
# not cover them, so in write profiles they would reach files outside the writable roots
# (a read-only descriptor is enough for fsetxattr). EOPNOTSUPP reads as "this filesystem has
# no xattrs", which cp -a, tar and rsync handle quietly.
XATTR_SYSCALLS: tuple[str, ...] = (
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "setxattrat", "removexattrat", "file_setattr",
)

# (syscall, index of its mode argument) for calls that can set setuid/setgid bits.
MODE_ARGUMENT: tuple[tuple[str, int], ...] = (
    ("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("fchmodat2", 2),
    ("open", 2), ("openat", 3), ("creat", 1),
)


class Cmp:
    """One argument comparison (all of a rule's comparisons must match).

    `datum_a`/`datum_b` follow libseccomp: for MASKED_EQ they are (mask, value)."""

    __slots__ = ("arg", "datum_a", "datum_b", "op")

    def __init__(self, arg: int, op: int, datum_a: int, datum_b: int = 0) -> None:
        self.arg = arg
        self.op = op
        self.datum_a = datum_a
        self.datum_b = datum_b


class Rule:
    """Return `errno_value` from `syscall` when every comparison matches."""

    __slots__ = ("conditions", "errno_value", "syscall")

    def __init__(self, syscall: str, errno_value: int, conditions: tuple[Cmp, ...] = ()) -> None:
        self.syscall = syscall
        self.errno_value = errno_value
        self.conditions = conditions


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
    # No AF_UNIX socket(): Landlock (ABI < 8) cannot stop connect() to a socket file by
    # path, and the host is full of them (tmux, ssh-agent, editor IPC, dbus) that run code
    # or sign with the user's keys outside the sandbox. Connected pairs stay available
    # (pipes between a program's own processes), as stream pairs only: a datagram pair
    # could still sendto() any named socket.
    # Network profiles keep routing netlink (getaddrinfo's AI_ADDRCONFIG asks it which
    # address families are configured); without network there is nothing to ask about.
    families = (AF_INET, AF_INET6, AF_NETLINK) if network else ()
    rules += _socket_rules("socket", families)
    if network:
        rules.append(Rule("socket", errno.EAFNOSUPPORT,
                          (Cmp(0, EQ, AF_NETLINK), Cmp(2, NE, NETLINK_ROUTE))))
    rules += _socket_rules("socketpair", (AF_UNIX,))
    rules += [Rule("socketpair", errno.EPROTONOSUPPORT, (Cmp(1, MASKED_EQ, SOCK_TYPE_MASK, kind),))
              for kind in range(SOCK_TYPE_MASK + 1) if kind != SOCK_STREAM]
    for name in ("mknod", "mknodat"):
        index = 1 if name == "mknod" else 2
        for kind in (S_IFCHR, S_IFBLK):
            rules.append(Rule(name, errno.EPERM, (Cmp(index, MASKED_EQ, S_IFMT, kind),)))
    rules += [Rule(name, errno.EOPNOTSUPP) for name in XATTR_SYSCALLS]
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


# --- classic BPF -------------------------------------------------------------------------

# Opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_ALU_AND_K = 0x54
_JMP_JA = 0x05
_JMP_JEQ_K = 0x15
_JMP_JGT_K = 0x25
_JMP_JGE_K = 0x35
_RET_K = 0x06
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
_OFF_NR = 0
_OFF_ARCH = 4
X32_SYSCALL_BIT = 0x40000000
_LOW = 0xFFFFFFFF

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def _arg_low(index: int) -> int:
    return 16 + 8 * index  # both supported architectures are little-endian


def _arg_high(index: int) -> int:
    return _arg_low(index) + 4


class _Insn:
    __slots__ = ("code", "jf", "jt", "k")

    def __init__(self, code: int, k: int, jt: int | str, jf: int | str) -> None:
        self.code = code
        self.k = k
        self.jt = jt
        self.jf = jf


class _Assembler:
    """Instructions with symbolic jump targets, resolved to relative offsets at the end."""

    def __init__(self) -> None:
        self.items: list[_Insn] = []
        self.labels: dict[str, int] = {}
        self._counter = 0

    def new_label(self) -> str:
        self._counter += 1
        return f"L{self._counter}"

    def label(self, name: str) -> None:
        self.labels[name] = len(self.items)

    def emit(self, code: int, k: int = 0, jt: int | str = 0, jf: int | str = 0) -> None:
        self.items.append(_Insn(code, k, jt, jf))

    def jump(self, target: str) -> None:
        self.items.append(_Insn(_JMP_JA, 0, target, 0))

    def program(self) -> bytes:
        out = bytearray()
        for index, insn in enumerate(self.items):
            jt = self._offset(index, insn.jt)
            jf = self._offset(index, insn.jf)
            k = insn.k
            if insn.code == _JMP_JA:
                k, jt, jf = jt, 0, 0
            elif jt > 255 or jf > 255:
                raise ValueError("seccomp filter: conditional jump too far")
            out += struct.pack("=HBBI", insn.code, jt, jf, k)
        return bytes(out)

    def _offset(self, index: int, target: int | str) -> int:
        if isinstance(target, int):
            return target
        return self.labels[target] - index - 1


def _condition(asm: _Assembler, cmp: Cmp, fail: str) -> None:
    """Fall through when `cmp` holds, jump to `fail` otherwise (full 64-bit semantics)."""
    low, high = _arg_low(cmp.arg), _arg_high(cmp.arg)
    ok = asm.new_label()
    if cmp.op == MASKED_EQ:
        mask, value = cmp.datum_a, cmp.datum_b
        if mask >> 32 or value >> 32:
            raise ValueError("masked comparisons are limited to the low 32 bits")
        asm.emit(_LD_W_ABS, low)
        asm.emit(_ALU_AND_K, mask)
        asm.emit(_JMP_JEQ_K, value, 0, fail)
        return
    value_high, value_low = cmp.datum_a >> 32, cmp.datum_a & _LOW
    if cmp.op == EQ:
        asm.emit(_LD_W_ABS, high)
        asm.emit(_JMP_JEQ_K, value_high, 0, fail)
        asm.emit(_LD_W_ABS, low)
        asm.emit(_JMP_JEQ_K, value_low, 0, fail)
    elif cmp.op == NE:
        asm.emit(_LD_W_ABS, high)
        asm.emit(_JMP_JEQ_K, value_high, 0, ok)
        asm.emit(_LD_W_ABS, low)
        asm.emit(_JMP_JEQ_K, value_low, fail, 0)
    elif cmp.op == GE:
        asm.emit(_LD_W_ABS, high)
        asm.emit(_JMP_JGT_K, value_high, ok, 0)
        asm.emit(_JMP_JEQ_K, value_high, 0, fail)
        asm.emit(_LD_W_ABS, low)
        asm.emit(_JMP_JGE_K, value_low, 0, fail)
    else:
        raise ValueError(f"unsupported comparison operator {cmp.op}")
    asm.label(ok)


def assemble(arch: str, network: bool, read_only: bool) -> bytes:
    """The BPF program (struct sock_filter array) for `arch` and the profile shape.

    Layout: a foreign architecture (or, on x86_64, the x32 ABI) kills the process; a
    binary search on the syscall number leads to one block per named syscall: rules in
    order, the first whose conditions all hold returns its errno; anything else is allowed.
    """
    numbers = syscall_numbers.TABLES[arch]
    asm = _Assembler()
    asm.emit(_LD_W_ABS, _OFF_ARCH)
    asm.emit(_JMP_JEQ_K, syscall_numbers.AUDIT_ARCH[arch], 1, 0)
    asm.emit(_RET_K, RET_KILL_PROCESS)
    asm.emit(_LD_W_ABS, _OFF_NR)
    if arch == "x86_64":
        asm.emit(_JMP_JGE_K, X32_SYSCALL_BIT, 0, 1)
        asm.emit(_RET_K, RET_KILL_PROCESS)
    by_syscall: dict[str, list[Rule]] = {}
    for rule in rules_for(network, read_only):
        if rule.syscall in numbers:
            by_syscall.setdefault(rule.syscall, []).append(rule)
    allow = asm.new_label()
    blocks = sorted((numbers[name], asm.new_label(), rules)
                    for name, rules in by_syscall.items())
    _dispatch(asm, [(number, label) for number, label, _ in blocks], allow)
    for _, label, rules in blocks:
        asm.label(label)
        for rule in rules:
            next_rule = asm.new_label()
            for cmp in rule.conditions:
                _condition(asm, cmp, next_rule)
            asm.emit(_RET_K, RET_ERRNO | (rule.errno_value & 0xFFFF))
            asm.label(next_rule)
        asm.emit(_RET_K, RET_ALLOW)
    asm.label(allow)
    asm.emit(_RET_K, RET_ALLOW)
    return asm.program()


def _dispatch(asm: _Assembler, targets: list[tuple[int, str]], otherwise: str) -> None:
    """Binary search on the syscall number (in A) over sorted (number, block label) pairs,
    so a syscall costs ~15 instructions whatever the deny list's length. Far targets are
    reached with `ja` (32-bit offsets); conditional jumps only skip one instruction."""
    if len(targets) <= 3:
        for number, label in targets:
            asm.emit(_JMP_JEQ_K, number, 0, 1)
            asm.jump(label)
        asm.jump(otherwise)
        return
    middle = len(targets) // 2
    upper = asm.new_label()
    asm.emit(_JMP_JGE_K, targets[middle][0], 0, 1)
    asm.jump(upper)
    _dispatch(asm, targets[:middle], otherwise)
    asm.label(upper)
    _dispatch(asm, targets[middle:], otherwise)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def install(program: bytes) -> None:
    """prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog); needs no_new_privs first."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    sc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


def load(network: bool, read_only: bool) -> None:
    """Assemble and install the filter for this machine's architecture (irreversible)."""
    if sc.MACHINE not in syscall_numbers.TABLES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for architecture {sc.MACHINE}")
    install(assemble(sc.MACHINE, network, read_only))
