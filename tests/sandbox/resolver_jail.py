"""Run a command where the system resolver points at a DNS listener this script owns.

`python resolver_jail.py RECORD_FILE -- CMD...` (root only): enters fresh mount and network
namespaces (so port 53 is free and the host is untouched), brings up loopback, bind-mounts a
resolv.conf naming 127.0.0.1 over /etc/resolv.conf, listens on 127.0.0.1:53/udp, runs CMD,
and writes every datagram received while CMD ran (plus a short grace) to RECORD_FILE. The
test reads RECORD_FILE: that is the oracle for DNS exfiltration through the system resolver.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import select
import socket
import struct
import sys
import tempfile
import time

LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def checked(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def main() -> int:
    record, separator, *command = sys.argv[1:]
    assert separator == "--" and command, "usage: resolver_jail.py RECORD -- CMD..."
    checked(LIBC.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    checked(LIBC.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    loopback_up()
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)  # noqa: SIM115
    conf.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    conf.close()
    checked(LIBC.mount(conf.name.encode(), b"/etc/resolv.conf", None, MS_BIND, None),
            "bind resolv.conf")
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 53))
    child = os.fork()
    if child == 0:
        listener.close()
        os.execvp(command[0], command)
    received = b""
    done_at: float | None = None
    status = 0
    while done_at is None or time.monotonic() < done_at + 0.5:
        ready, _, _ = select.select([listener], [], [], 0.1)
        if ready:
            received += listener.recv(65536) + b"\n"
        if done_at is None:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                done_at = time.monotonic()
    os.unlink(conf.name)
    with open(record, "wb") as out:
        out.write(received)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
