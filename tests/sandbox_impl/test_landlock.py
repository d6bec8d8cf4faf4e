"""Landlock: struct layout, rights per ABI, and enforcement in real child processes."""

from __future__ import annotations

import errno
import os
import socket
import threading
from pathlib import Path

import pytest
from sbx_support import FEATURES, in_child

from codex.sandbox.linux import landlock as ll
from codex.sandbox.linux import syscalls

needs_landlock = pytest.mark.skipif(FEATURES.landlock_abi < 3,
                                    reason=f"Landlock ABI {FEATURES.landlock_abi} < 3")


def test_struct_layouts_match_the_uapi() -> None:
    assert len(ll.pack_ruleset_attr(1, 2, 3)) == 24  # three __u64
    assert len(ll.pack_path_beneath(1, 5)) == 12  # __u64 + __s32, packed
    assert len(ll.pack_net_port(ll.NET_CONNECT_TCP, 443)) == 16
    assert ll.pack_path_beneath(0x3, -1)[8:] == b"\xff\xff\xff\xff"


def test_rights_grow_with_the_abi() -> None:
    assert ll.fs_rights_for_abi(0) == 0
    assert ll.fs_rights_for_abi(1) == (1 << 13) - 1
    assert ll.fs_rights_for_abi(2) & ll.FS_REFER
    assert ll.fs_rights_for_abi(3) & ll.FS_TRUNCATE
    assert not ll.fs_rights_for_abi(4) & ll.FS_IOCTL_DEV
    assert ll.fs_rights_for_abi(7) == (1 << 16) - 1


def test_writable_roots_never_get_device_rights() -> None:
    rights = ll.writable_rights(7)
    for forbidden in (ll.FS_MAKE_CHAR, ll.FS_MAKE_BLOCK, ll.FS_IOCTL_DEV):
        assert not rights & forbidden
    assert rights & ll.FS_MAKE_REG and rights & ll.FS_REMOVE_FILE and rights & ll.FS_REFER


def _restricted(writable: list[str], network: bool, body: object) -> int:
    def run() -> int:
        syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
        ll.apply(ll.plan_for(FEATURES.landlock_abi, writable, ["/dev/null"], network))
        return body()  # type: ignore[operator, no-any-return]
    return in_child(run)


def _write(path: Path) -> int:
    try:
        path.write_text("x")
    except OSError as exc:
        return exc.errno or 1
    return 0


@needs_landlock
def test_writes_only_inside_writable_roots(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    assert _restricted([str(inside)], False, lambda: _write(inside / "f")) == 0
    assert (inside / "f").read_text() == "x"
    assert _restricted([str(inside)], False, lambda: _write(outside / "f")) == errno.EACCES
    assert not (outside / "f").exists()
    assert in_child(lambda: _write(outside / "g")) == 0  # control


@needs_landlock
def test_truncate_outside_is_denied(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")

    def truncate() -> int:
        try:
            os.truncate(victim, 0)
        except OSError as exc:
            return exc.errno or 1
        return 0
    assert _restricted([], False, truncate) == errno.EACCES
    assert victim.read_text() == "keep"


@pytest.mark.skipif(FEATURES.landlock_abi < 4, reason="TCP rules need Landlock ABI 4")
def test_tcp_connect_is_denied_without_network() -> None:
    accepted: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def accept() -> None:
        server.settimeout(5)
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn.recv(16))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    def connect() -> int:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"hello")
        except OSError as exc:
            return exc.errno or 1
        return 0
    assert _restricted([], False, connect) == errno.EACCES
    assert _restricted([], True, connect) == 0  # network profiles do not handle TCP
    server.close()
    thread.join(6)
    assert accepted == [b"hello"], "only the network-allowed child may reach the listener"


@pytest.mark.skipif(FEATURES.landlock_abi < 6, reason="signal scoping needs Landlock ABI 6")
def test_signals_to_processes_outside_the_domain_are_denied() -> None:
    outsider = os.getpid()

    def signal_parent() -> int:
        try:
            os.kill(outsider, 0)
        except OSError as exc:
            return exc.errno or 1
        return 0
    assert in_child(signal_parent) == 0
    assert _restricted([], False, signal_parent) == errno.EPERM
