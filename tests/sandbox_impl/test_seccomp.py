"""seccomp decisions in real child processes, checked against libseccomp as an oracle.

Each probe makes one raw syscall with chosen arguments in a forked child that installed
the filter, and reports the errno. Under no filter the control answer must differ (the kernel
would have allowed it, or failed differently: a denial that the kernel gives anyway proves
nothing). What each profile must deny is written out by hand below, independently of the rule
table; a libseccomp filter built from the table (pyseccomp) must agree where it knows the
syscall.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sbx_support import in_child

from codex.sandbox.linux import seccomp_filter as sf
from codex.sandbox.linux import syscall_numbers, syscalls

ARCH = syscalls.MACHINE
pytestmark = pytest.mark.skipif(ARCH not in syscall_numbers.TABLES,
                                reason=f"no seccomp table for {ARCH}")
NR = syscall_numbers.TABLES.get(ARCH, {})
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
U64 = ctypes.c_uint64


def raw(nr: int, *args: int) -> int:
    """syscall(nr, args...) -> 0 on success, else errno."""
    result = libc.syscall(ctypes.c_long(nr), *(U64(a & 0xFFFFFFFFFFFFFFFF) for a in args))
    if result < 0:
        return ctypes.get_errno()
    if nr in (NR["socket"],):
        os.close(result)
    return 0


def ours(network: bool, read_only: bool) -> Callable[[], None]:
    def load() -> None:
        syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
        sf.load(network=network, read_only=read_only)
    return load


def libseccomp(network: bool, read_only: bool) -> Callable[[], None]:
    pyseccomp = pytest.importorskip("pyseccomp")

    def load() -> None:
        scmp = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        scmp.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
        for rule in sf.rules_for(network, read_only):
            number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, rule.syscall)
            if number == -1:
                continue
            args = [pyseccomp.Arg(c.arg, c.op, c.datum_a, c.datum_b) for c in rule.conditions]
            scmp.add_rule(pyseccomp.ERRNO(rule.errno_value), number, *args)
        scmp.load()

    return load


def libseccomp_knows(name: str) -> bool:
    """Whether the installed libseccomp can name this syscall (new ones it skips, so the
    cross-check applies only to the others; the hand-written expectation covers all)."""
    pyseccomp = pytest.importorskip("pyseccomp")
    return bool(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) != -1)


def decide(setup: Callable[[], None] | None, probe: Callable[[], int]) -> int:
    """errno the probe saw (0 = allowed), or -signal if the child was killed."""
    def body() -> int:
        if setup is not None:
            setup()
        return probe()
    return in_child(body)


AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET, AF_VSOCK = 2, 10, 1, 16, 17, 40
SOCK_DGRAM = 2
HIGH = 1 << 32

SOCKET_PROBES = {
    "inet": (AF_INET, SOCK_DGRAM, 0),
    "inet6": (AF_INET6, SOCK_DGRAM, 0),
    "unix": (AF_UNIX, SOCK_DGRAM, 0),
    "netlink-route": (AF_NETLINK, SOCK_DGRAM, 0),
    "netlink-audit": (AF_NETLINK, SOCK_DGRAM, 9),
    "netlink-route-high-proto": (AF_NETLINK, SOCK_DGRAM, HIGH),
    "packet": (AF_PACKET, SOCK_DGRAM, 0),
    "vsock": (AF_VSOCK, SOCK_DGRAM, 0),
    "inet-with-high-bits": (AF_INET | HIGH, SOCK_DGRAM, 0),
    "family-46": (46, SOCK_DGRAM, 0),
    "family-minus-1": (-1, SOCK_DGRAM, 0),
}


@pytest.mark.parametrize("network", [False, True], ids=["offline", "net"])
@pytest.mark.parametrize("name", sorted(SOCKET_PROBES))
def test_socket_families(network: bool, name: str) -> None:
    domain, kind, proto = SOCKET_PROBES[name]
    probe = lambda: raw(NR["socket"], domain, kind, proto)  # noqa: E731
    got = decide(ours(network, True), probe)
    assert got == decide(libseccomp(network, True), probe)
    allowed = {"netlink-route", "inet", "inet6"} if network else set()
    if name in allowed:
        assert got == decide(None, probe), "an allowed family must behave as without filter"
    else:
        assert got == errno.EAFNOSUPPORT


SOCK_STREAM, SOCK_SEQPACKET, SOCK_NONBLOCK = 1, 5, 0o4000


@pytest.mark.parametrize("kind,allowed", [(SOCK_STREAM, True),
                                          (SOCK_STREAM | SOCK_NONBLOCK, True),
                                          (SOCK_DGRAM, False), (SOCK_SEQPACKET, False)])
def test_socketpairs_are_stream_only(kind: int, allowed: bool) -> None:
    def probe() -> int:
        pair = (ctypes.c_int * 2)()
        result = raw(NR["socketpair"], AF_UNIX, kind, 0, ctypes.addressof(pair))
        if result == 0:
            os.close(pair[0])
            os.close(pair[1])
        return result
    assert decide(None, probe) == 0
    expected = 0 if allowed else errno.EPROTONOSUPPORT
    assert decide(ours(False, True), probe) == expected
    assert decide(libseccomp(False, True), probe) == expected


def _tiocsti(high: int) -> Callable[[], int]:
    def probe() -> int:
        fd = os.open("/dev/null", os.O_RDONLY)
        byte = ctypes.c_char(b"x")
        return raw(NR["ioctl"], fd, high | sf.TIOCSTI, ctypes.addressof(byte))
    return probe


@pytest.mark.parametrize("high", [0, HIGH], ids=["plain", "high-bits"])
def test_tiocsti_is_denied_whatever_the_upper_bits(high: int) -> None:
    probe = _tiocsti(high)
    assert decide(None, probe) == errno.ENOTTY  # control: the kernel itself says "not a tty"
    assert decide(ours(True, False), probe) == errno.EPERM
    assert decide(libseccomp(True, False), probe) == errno.EPERM


@pytest.mark.parametrize("flag", sf.NAMESPACE_FLAGS)
def test_unshare_with_any_namespace_flag_is_denied(flag: int) -> None:
    probe = lambda: raw(NR["unshare"], flag | 0x400)  # noqa: E731  (with CLONE_FILES)
    if decide(None, probe) == errno.EPERM:
        pytest.skip("unprivileged, the kernel refuses this namespace with EPERM itself")
    assert decide(ours(True, False), probe) == errno.EPERM
    assert decide(libseccomp(True, False), probe) == errno.EPERM


def test_unshare_without_namespace_flags_is_allowed() -> None:
    probe = lambda: raw(NR["unshare"], 0x400)  # noqa: E731
    assert decide(ours(True, False), probe) == 0


def test_clone3_answers_enosys_so_libc_falls_back() -> None:
    probe = lambda: raw(NR["clone3"], 0, 0)  # noqa: E731
    assert decide(ours(False, True), probe) == errno.ENOSYS
    assert decide(None, probe) != errno.ENOSYS


# The independent expectation: written by hand from what each profile promises, NOT derived
# from `sf.rules_for` (the libseccomp cross-check is built from that table, so it cannot notice
# a syscall missing from it). For each syscall, arguments under which the kernel itself answers
# something other than the errno the filter gives, so a denial is visible. `True` marks calls
# whose kernel checks a capability first: unprivileged, the kernel answers EPERM on its own
# and the filter's EPERM cannot be told apart, so those are checked with root only.
DENIED_IN_EVERY_PROFILE: dict[str, tuple[tuple[int, ...], bool]] = {
    "ptrace": ((-1,) * 5, False), "process_vm_readv": ((1,) * 6, False),
    "process_vm_writev": ((1,) * 6, False), "pidfd_getfd": ((-1,) * 3, False),
    "kcmp": ((-1,) * 5, False), "keyctl": ((1,) * 5, False), "add_key": ((0,) * 5, False),
    "request_key": ((0,) * 4, False), "bpf": ((1,) * 3, False),
    "perf_event_open": ((0,) * 5, False), "userfaultfd": ((-1,), False),
    "open_by_handle_at": ((0,) * 3, False), "name_to_handle_at": ((0,) * 5, False),
    "io_uring_setup": ((0,) * 2, False), "io_uring_enter": ((-1,) * 6, False),
    "io_uring_register": ((-1,) * 4, False), "setns": ((-1, -1), False),
    "mount": ((0,) * 5, False), "umount2": ((1, 1), False), "chroot": ((0,), False),
    "open_tree": ((0,) * 3, False), "open_tree_attr": ((0,) * 5, False),
    "mount_setattr": ((0,) * 5, False), "fsconfig": ((0,) * 5, False),
    "pivot_root": ((0, 0), True), "fsopen": ((0, 0), True), "fsmount": ((0,) * 3, True),
    "move_mount": ((0,) * 5, True), "fspick": ((0,) * 3, True),
    "kexec_load": ((1,) * 4, False), "kexec_file_load": ((-1, -1, 0, 1, 0), False),
    "init_module": ((0,) * 3, False), "finit_module": ((-1, 0, 0), False),
    "delete_module": ((0, 0), False), "reboot": ((0,) * 4, True),
    "settimeofday": ((1, 1), False), "clock_settime": ((1, 1), False),
    "clock_adjtime": ((0, 0), False), "adjtimex": ((0,), False),
    "swapon": ((-1, -1), False), "swapoff": ((0,), True), "acct": ((1,), True),
    "syslog": ((-1, 0, 0), True), "iopl": ((4,), False), "ioperm": ((-1, 1, 1), False),
    "quotactl": ((1,) * 4, False), "quotactl_fd": ((-1,) * 4, False), "uselib": ((0,), False),
    "fanotify_init": ((-1, -1), True), "lookup_dcookie": ((0,) * 3, False),
    # vhangup takes no arguments: unfiltered (as root) it would hang up the terminal.
}
ENOSYS_IN_EVERY_PROFILE = {"clone3": (0, 0), "openat2": (-100, 0, 0, 0)}
NOBODY = 65534
PROFILES = [(False, True), (False, False), (True, True), (True, False)]
PROFILE_IDS = ["offline", "offline-write", "net-read-only", "net-write"]


def as_user(uid: int | None, then: Callable[[], None] | None) -> Callable[[], None] | None:
    """Setup that first drops to `uid` (when given), then installs `then` (a filter)."""
    if uid is None:
        return then

    def setup() -> None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if then is not None:
            then()
    return setup


USERS = [None, NOBODY] if os.geteuid() == 0 else [None]


@pytest.mark.parametrize("uid", USERS, ids=lambda u: "nobody" if u else "as-is")
@pytest.mark.parametrize(("network", "read_only"), PROFILES, ids=PROFILE_IDS)
@pytest.mark.parametrize("name", sorted(DENIED_IN_EVERY_PROFILE))
def test_denied_in_every_profile(name: str, network: bool, read_only: bool,
                                 uid: int | None) -> None:
    if name not in NR:
        pytest.skip(f"{name} does not exist on {ARCH}")
    args, capability_first = DENIED_IN_EVERY_PROFILE[name]
    unprivileged = uid is not None or os.geteuid() != 0
    if capability_first and unprivileged:
        pytest.skip(f"unprivileged, the kernel answers {name} with EPERM itself")
    probe = lambda: raw(NR[name], *args)  # noqa: E731
    control = decide(as_user(uid, None), probe)
    assert control != errno.EPERM, f"{name}{args}: the kernel says EPERM without the filter"
    assert decide(as_user(uid, ours(network, read_only)), probe) == errno.EPERM
    if libseccomp_knows(name):
        assert decide(as_user(uid, libseccomp(network, read_only)), probe) == errno.EPERM


@pytest.mark.parametrize(("network", "read_only"), PROFILES, ids=PROFILE_IDS)
@pytest.mark.parametrize("name", sorted(ENOSYS_IN_EVERY_PROFILE))
def test_answered_enosys_in_every_profile(name: str, network: bool, read_only: bool) -> None:
    probe = lambda: raw(NR[name], *ENOSYS_IN_EVERY_PROFILE[name])  # noqa: E731
    assert decide(None, probe) != errno.ENOSYS
    assert decide(ours(network, read_only), probe) == errno.ENOSYS
    if libseccomp_knows(name):
        assert decide(libseccomp(network, read_only), probe) == errno.ENOSYS


def test_the_hand_written_lists_cover_the_rule_table() -> None:
    """Every unconditional deny in the table has an independent expectation above (vhangup is
    checked only statically, see DENIED_IN_EVERY_PROFILE)."""
    for network, read_only in PROFILES:
        unconditional = {(r.syscall, r.errno_value) for r in sf.rules_for(network, read_only)
                         if not r.conditions}
        expected = ({(n, errno.EPERM) for n in [*DENIED_IN_EVERY_PROFILE, "vhangup"]}
                    | {(n, errno.ENOSYS) for n in ENOSYS_IN_EVERY_PROFILE}
                    | {(n, errno.EOPNOTSUPP) for n in XATTR_SETTERS}
                    | ({(n, errno.EPERM) for n in METADATA_CHANGES} if read_only else set()))
        assert unconditional == expected


def _on_temp_file(action: Callable[[str], int]) -> Callable[[], int]:
    def probe() -> int:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "f")
            Path(path).write_bytes(b"")
            return action(path)
    return probe


def _chmod(mode: int) -> Callable[[str], int]:
    def action(path: str) -> int:
        buf = ctypes.create_string_buffer(path.encode())  # kept alive across the call
        return raw(NR["fchmodat"], -100, ctypes.addressof(buf), mode, 0)
    return action


# Hand-written like DENIED_IN_EVERY_PROFILE: metadata changes Landlock does not cover, denied
# in read-only profiles; xattr setters, answered EOPNOTSUPP in every profile.
METADATA_CHANGES = ("chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
                    "fchownat", "utime", "utimes", "futimesat", "utimensat")
XATTR_SETTERS = ("setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
                 "fremovexattr", "setxattrat", "removexattrat", "file_setattr")


def _path_call(name: str) -> Callable[[str], int]:
    """One raw call of `name` on a file (by path or by descriptor) that changes nothing much."""
    def action(path: str) -> int:
        buf = ctypes.create_string_buffer(path.encode())
        at, p = -100, ctypes.addressof(buf)
        fd = os.open(path, os.O_RDONLY)
        value = ctypes.create_string_buffer(b"1")
        attr = ctypes.create_string_buffer(b"user.codex")
        by_name: dict[str, tuple[int, ...]] = {
            "chmod": (p, 0o600), "fchmod": (fd, 0o600), "fchmodat": (at, p, 0o600, 0),
            "fchmodat2": (at, p, 0o600, 0), "chown": (p, -1, -1), "fchown": (fd, -1, -1),
            "lchown": (p, -1, -1), "fchownat": (at, p, -1, -1, 0), "utime": (p, 0),
            "utimes": (p, 0), "futimesat": (at, p, 0), "utimensat": (at, p, 0, 0),
            "setxattr": (p, ctypes.addressof(attr), ctypes.addressof(value), 1, 0),
            "lsetxattr": (p, ctypes.addressof(attr), ctypes.addressof(value), 1, 0),
            "fsetxattr": (fd, ctypes.addressof(attr), ctypes.addressof(value), 1, 0),
            "removexattr": (p, ctypes.addressof(attr)),
            "lremovexattr": (p, ctypes.addressof(attr)),
            "fremovexattr": (fd, ctypes.addressof(attr)),
            "setxattrat": (at, p, 0, ctypes.addressof(attr), 0, 0),
            "removexattrat": (at, p, 0, ctypes.addressof(attr)),
            "file_setattr": (at, p, 0, 0, 0),
        }
        return raw(NR[name], *by_name[name])
    return action


@pytest.mark.parametrize(("network", "read_only"), PROFILES, ids=PROFILE_IDS)
@pytest.mark.parametrize("name", METADATA_CHANGES)
def test_metadata_changes_denied_only_in_read_only_profiles(name: str, network: bool,
                                                            read_only: bool) -> None:
    if name not in NR:
        pytest.skip(f"{name} does not exist on {ARCH}")
    probe = _on_temp_file(_path_call(name))
    control = decide(None, probe)
    assert control != errno.EPERM
    expected = errno.EPERM if read_only else control
    assert decide(ours(network, read_only), probe) == expected
    if libseccomp_knows(name):
        assert decide(libseccomp(network, read_only), probe) == expected


@pytest.mark.parametrize(("network", "read_only"), PROFILES, ids=PROFILE_IDS)
@pytest.mark.parametrize("name", XATTR_SETTERS)
def test_xattr_setters_answer_eopnotsupp_in_every_profile(name: str, network: bool,
                                                          read_only: bool) -> None:
    if name not in NR:
        pytest.skip(f"{name} does not exist on {ARCH}")
    probe = _on_temp_file(_path_call(name))
    control = decide(None, probe)
    if control == errno.EOPNOTSUPP:
        pytest.skip(f"the kernel answers {name} with EOPNOTSUPP itself here")
    assert decide(ours(network, read_only), probe) == errno.EOPNOTSUPP
    if libseccomp_knows(name):
        assert decide(libseccomp(network, read_only), probe) == errno.EOPNOTSUPP


@pytest.mark.parametrize("mode,denied", [(0o4755, True), (0o2755, True), (0o755, False),
                                         (0o4755 | HIGH, True)])
def test_setuid_bits_denied_in_write_profiles(mode: int, denied: bool) -> None:
    probe = _on_temp_file(_chmod(mode))
    assert decide(None, probe) == 0
    expected = errno.EPERM if denied else 0
    assert decide(ours(False, False), probe) == expected
    assert decide(libseccomp(False, False), probe) == expected


def test_read_only_profiles_deny_every_chmod() -> None:
    probe = _on_temp_file(_chmod(0o600))
    assert decide(None, probe) == 0
    assert decide(ours(False, True), probe) == errno.EPERM


def test_device_nodes_denied_fifos_allowed() -> None:
    def mknod(mode: int) -> Callable[[str], int]:
        def action(path: str) -> int:
            buf = ctypes.create_string_buffer((path + ".n").encode())
            return raw(NR["mknodat"], -100, ctypes.addressof(buf), mode, 0x0103)
        return action
    char_dev = _on_temp_file(mknod(0o020600))
    fifo = _on_temp_file(mknod(0o010600))
    if decide(None, char_dev) == errno.EPERM:
        pytest.skip("unprivileged, the kernel refuses device nodes with EPERM itself")
    assert decide(None, fifo) == 0
    assert decide(ours(False, False), char_dev) == errno.EPERM
    assert decide(ours(False, False), fifo) == 0


def test_creating_a_setuid_file_with_open_is_denied() -> None:
    def create(path: str) -> int:
        buf = ctypes.create_string_buffer((path + ".x").encode())
        return raw(NR["openat"], -100, ctypes.addressof(buf), os.O_CREAT | os.O_WRONLY, 0o4755)
    probe = _on_temp_file(create)
    assert decide(None, probe) == 0
    assert decide(ours(False, False), probe) == errno.EPERM
    assert decide(libseccomp(False, False), probe) == errno.EPERM


@pytest.mark.skipif(ARCH != "x86_64", reason="the x32 ABI exists only on x86_64")
def test_x32_abi_kills_the_process() -> None:
    getpid_x32 = sf.X32_SYSCALL_BIT | 39
    probe = lambda: raw(getpid_x32)  # noqa: E731
    assert decide(ours(True, False), probe) == -signal.SIGSYS
    assert decide(libseccomp(True, False), probe) == -signal.SIGSYS


def test_syscall_table_matches_libseccomp() -> None:
    pyseccomp = pytest.importorskip("pyseccomp")
    arches = {"x86_64": pyseccomp.Arch.X86_64, "aarch64": pyseccomp.Arch.AARCH64}
    for arch, table in syscall_numbers.TABLES.items():
        for name, number in table.items():
            known = pyseccomp.resolve_syscall(arches[arch], name)
            if known != -1:
                assert known == number, (arch, name)


def test_every_rule_names_a_syscall_known_on_x86_64() -> None:
    for network in (False, True):
        for read_only in (False, True):
            for rule in sf.rules_for(network, read_only):
                assert rule.syscall in syscall_numbers.X86_64, rule.syscall


def test_program_is_whole_instructions() -> None:
    program = sf.assemble("x86_64", network=False, read_only=True)
    assert len(program) % 8 == 0 and 0 < len(program) // 8 < 4096


@pytest.mark.parametrize("read_only", [False, True], ids=["write", "read-only"])
def test_xattr_setters_are_denied_in_every_confined_profile(read_only: bool) -> None:
    def setxattr(path: str) -> int:
        try:
            os.setxattr(path, "user.codex", b"1")
        except OSError as exc:
            return exc.errno or 1
        return 0
    probe = _on_temp_file(setxattr)
    control = decide(None, probe)
    if control != 0:
        pytest.skip(f"this filesystem refuses user xattrs itself ({errno.errorcode[control]})")
    assert decide(ours(False, read_only), probe) == errno.EOPNOTSUPP
    assert decide(libseccomp(False, read_only), probe) == errno.EOPNOTSUPP
