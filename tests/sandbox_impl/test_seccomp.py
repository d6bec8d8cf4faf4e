"""seccomp decisions in real child processes, checked against libseccomp as an oracle.

Each probe makes one raw syscall with chosen arguments in a forked child that installed
the filter, and reports the errno. The same probe under a libseccomp filter built from the
same rules (pyseccomp) must give the same answer, and under no filter the control answer
shows the kernel would have allowed it (or failed differently).
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
    assert decide(ours(True, False), probe) == errno.EPERM
    assert decide(libseccomp(True, False), probe) == errno.EPERM


def test_unshare_without_namespace_flags_is_allowed() -> None:
    probe = lambda: raw(NR["unshare"], 0x400)  # noqa: E731
    assert decide(ours(True, False), probe) == 0


def test_clone3_answers_enosys_so_libc_falls_back() -> None:
    probe = lambda: raw(NR["clone3"], 0, 0)  # noqa: E731
    assert decide(ours(False, True), probe) == errno.ENOSYS
    assert decide(None, probe) != errno.ENOSYS


@pytest.mark.parametrize("name", ["ptrace", "bpf", "perf_event_open", "userfaultfd", "keyctl",
                                  "io_uring_setup", "open_by_handle_at", "process_vm_readv",
                                  "pidfd_getfd", "setns", "mount", "fsopen", "kexec_load",
                                  "init_module", "swapon", "syslog", "open_tree_attr"])
def test_denied_families(name: str) -> None:
    probe = lambda: raw(NR[name], 0, 0, 0, 0, 0)  # noqa: E731
    assert decide(ours(True, False), probe) == errno.EPERM


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


@pytest.mark.parametrize("mode,denied", [(0o4755, True), (0o2755, True), (0o755, False),
                                         (0o4755 | HIGH, True)])
def test_setuid_bits_denied_in_write_profiles(mode: int, denied: bool) -> None:
    probe = _on_temp_file(_chmod(mode))
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
    assert decide(ours(False, False), char_dev) == errno.EPERM
    assert decide(ours(False, False), fifo) == 0


def test_creating_a_setuid_file_with_open_is_denied() -> None:
    def create(path: str) -> int:
        buf = ctypes.create_string_buffer((path + ".x").encode())
        return raw(NR["openat"], -100, ctypes.addressof(buf), os.O_CREAT | os.O_WRONLY, 0o4755)
    probe = _on_temp_file(create)
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
