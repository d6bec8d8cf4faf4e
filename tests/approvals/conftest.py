"""A tiny expect-style driver for a child process on a real pseudo-terminal (stdlib `pty`)."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sys
import time
from collections.abc import Iterator, Sequence

import pytest


class PtyChild:
    """A process whose controlling terminal is a pty we type into and read from."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # child: the pty is now our controlling terminal and stdio
            try:
                os.execve(argv[0], list(argv), env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.output = b""  # not yet consumed by expect()
        self.transcript = b""  # everything the child wrote
        self.status: int | None = None

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match[bytes]:
        """Read until `pattern` (a regex) appears in the output after the last match."""
        regex = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.output)
            if found:
                self.output = self.output[found.end():]
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; got {self.output!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"child exited before {pattern!r}; got {self.output!r}")
                self.output += chunk
                self.transcript += chunk

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            try:  # keep draining so the child never blocks on a full terminal buffer
                if select.select([self.fd], [], [], 0.05)[0]:
                    chunk = os.read(self.fd, 4096)
                    self.output += chunk
                    self.transcript += chunk
            except OSError:
                time.sleep(0.05)
        raise AssertionError("child did not exit")

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


@pytest.fixture
def spawn_pty() -> Iterator[object]:
    children: list[PtyChild] = []

    def start(args: Sequence[str], env: dict[str, str]) -> PtyChild:
        child = PtyChild([sys.executable, *args], env)
        children.append(child)
        return child

    yield start
    for child in children:
        child.close()
