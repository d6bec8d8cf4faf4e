"""Network probes: the -net profiles (and trusted) reach a loopback listener the test owns;
every other profile leaves the listeners silent. Exotic socket families are judged by the
kernel's view of the child's descriptors (/proc/<pid>/fd, read from outside)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from escape_kit import (
    CONFINED,
    IS_ROOT,
    NET_PROFILES,
    Arena,
    Listeners,
    actor,
    actor_pids,
    control_once,
    findings_note,
    held,
    nonce,
    profile_params,
)

pytestmark = pytest.mark.timeout(120)


def outbound_argv(listeners: Listeners, kind: str, token: str) -> list[str]:
    if kind in ("tcp6", "udp6") and not listeners.has_ipv6:
        pytest.skip("control run: no IPv6 loopback on this machine")
    sock = {"tcp4": listeners.tcp4, "tcp6": listeners.tcp6, "udp4": listeners.udp4,
            "udp6": listeners.udp6, "dns": listeners.udp4}[kind]
    assert sock is not None
    host, port = sock.getsockname()[:2]
    action = {"tcp4": "tcp_connect", "tcp6": "tcp_connect", "udp4": "udp_send",
              "udp6": "udp_send", "dns": "dns_query"}[kind]
    return actor(action, token, host, port, token)


@pytest.mark.parametrize("profile", profile_params())
@pytest.mark.parametrize("kind", ["tcp4", "tcp6", "udp4", "udp6", "dns"])
def test_outbound_to_loopback_listener(kind: str, profile: str, arena: Arena,
                                       control_arena: Arena, listeners: Listeners) -> None:
    def control() -> str | None:
        token = nonce()
        control_arena.run(outbound_argv(listeners, kind, token), profile=None)
        return None if listeners.saw(token, 3) else f"{kind} to loopback not received"

    control_once(f"outbound-{kind}", control)
    token = nonce()
    outcome = arena.probe(outbound_argv(listeners, kind, token), token, profile=profile)
    if profile in NET_PROFILES:
        assert listeners.saw(token, 5), "-net profile could not reach loopback\n" + \
            findings_note(outcome)
    else:
        assert not listeners.saw(token, 0.5), "ESCAPE: listener received data\n" + \
            findings_note(outcome)


@pytest.mark.parametrize("profile", profile_params())
@pytest.mark.parametrize("kind", ["stream", "dgram", "abstract"])
def test_unix_sockets(kind: str, profile: str, arena: Arena, control_arena: Arena,
                      listeners: Listeners) -> None:
    """Unix sockets reach agents and daemons outside (ssh-agent, docker): confined profiles
    deny them; only trusted connects."""
    address = {"stream": listeners.unix_stream_path, "dgram": listeners.unix_dgram_path,
               "abstract": listeners.abstract_name}[kind]
    mode = "dgram" if kind == "dgram" else "stream"

    def control() -> str | None:
        token = nonce()
        control_arena.run(actor("unix_send", token, address, mode, token), profile=None)
        return None if listeners.saw(token, 3) else f"unix {kind} not received"

    control_once(f"unix-{kind}", control)
    token = nonce()
    outcome = arena.probe(actor("unix_send", token, address, mode, token), token,
                            profile=profile)
    if profile in CONFINED:
        assert not listeners.saw(token, 0.5), "ESCAPE: unix listener received data\n" + \
            findings_note(outcome)
    else:
        assert listeners.saw(token, 5), findings_note(outcome)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def greeting_from(port: int) -> bytes:
    """Connect from outside to whatever the child bound; return what it says."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 2) as conn:
        conn.settimeout(3)
        data = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(100):
                data += chunk
        return data
    return b""


@pytest.mark.parametrize("profile", profile_params())
def test_bind_and_listen(profile: str, arena: Arena, control_arena: Arena) -> None:
    """A server started inside must be unreachable from the host in no-network profiles."""
    def control() -> str | None:
        token, port = nonce(), free_port()
        with held(control_arena, actor("tcp_listen", token, port, token), token, profile=None):
            return None if token.encode() in greeting_from(port) else "listen not reachable"

    control_once("bind-listen", control)
    token, port = nonce(), free_port()
    with held(arena, actor("tcp_listen", token, port, token), token, profile=profile):
        greeting = greeting_from(port)
    if profile in NET_PROFILES:
        assert token.encode() in greeting, "-net profile could not serve on loopback"
    else:
        assert token.encode() not in greeting, f"ESCAPE: {profile} served on host loopback"


# (family, type, proto, profiles where the family is expected to work)
FAMILIES = {
    "packet": (17, socket.SOCK_RAW, 0x0300),
    "raw-inet": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    "raw-inet6": (socket.AF_INET6, socket.SOCK_RAW, 58),
    "netlink-route": (16, socket.SOCK_RAW, 0),
    "netlink-audit": (16, socket.SOCK_RAW, 9),
    "vsock": (40, socket.SOCK_STREAM, 0),
    "alg": (38, socket.SOCK_SEQPACKET, 0),
    "pfkey": (15, socket.SOCK_RAW, 2),
    "xdp": (44, socket.SOCK_RAW, 0),
}


def socket_created(pids: list[int]) -> bool:
    """A socket beyond stdio in any actor process: the kernel created the family."""
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if int(fd) > 2 and os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    return True
    return False


@pytest.mark.parametrize("profile", profile_params())
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_exotic_socket_families(family: str, profile: str, arena: Arena,
                                control_arena: Arena) -> None:
    if family == "netlink-route" and profile in NET_PROFILES - {"trusted"}:
        pytest.skip("route netlink is how getaddrinfo learns local addresses in -net profiles")
    fam, typ, proto = FAMILIES[family]

    def control() -> str | None:
        token = nonce()
        with held(control_arena, actor("open_socket", token, fam, typ, proto), token,
                  profile=None) as pids:
            return None if socket_created(pids) else f"cannot create {family} sockets"

    control_once(f"family-{family}", control)
    token = nonce()
    with held(arena, actor("open_socket", token, fam, typ, proto), token,
              profile=profile) as pids:
        created = socket_created(pids)
    if profile in CONFINED:
        assert not created, f"ESCAPE: {family} socket created under {profile}"
    else:
        assert created


# --- the system resolver: observable only where /etc/resolv.conf points at a listener we own ---

JAIL = Path(__file__).with_name("resolver_jail.py")


def resolver_queries(a: Arena, argv: list[str], token: str) -> bytes:
    """Run `argv` in resolver_jail.py (private netns + resolv.conf -> our listener on :53)
    and return what that listener received."""
    record = a.root / "dns-record.bin"
    proc = subprocess.run([sys.executable, str(JAIL), str(record), "--", *argv], cwd=a.ws,
                          env=a.env, capture_output=True, timeout=60, check=False)
    assert record.exists(), f"resolver jail failed: {proc.stderr!r}"
    assert f"ACTOR-STARTED {token}".encode() in proc.stdout, proc.stderr
    return record.read_bytes()


@pytest.mark.parametrize("profile", profile_params())
def test_system_resolver(profile: str, arena: Arena, control_arena: Arena) -> None:
    """A lookup through the system resolver is a channel out (DNS exfiltration)."""
    if not IS_ROOT:
        pytest.skip("control run: redirecting the system resolver needs root (namespaces, :53)")

    def control() -> str | None:
        token = nonce()
        seen = resolver_queries(control_arena, actor("resolve", token, token + ".example"),
                                token)
        return None if token.encode() in seen else "system resolver query not observed"

    control_once("system-resolver", control)
    token = nonce()
    seen = resolver_queries(arena, arena.sandbox_argv(
        profile, actor("resolve", token, token + ".example")), token)
    if profile in NET_PROFILES:
        assert token.encode() in seen, "-net profile could not resolve through the system"
    else:
        assert token.encode() not in seen, f"ESCAPE: a DNS query left {profile}"


def test_actor_pids_helper_sees_only_actors(arena: Arena) -> None:
    """The /proc oracle must find the actor (else every fd-based probe would pass vacuously)."""
    token = nonce()
    with held(arena, actor("hold", token), token, profile=None) as pids:
        assert pids and pids == actor_pids(token)
