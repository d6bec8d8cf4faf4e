"""Terminal probes: a pty the test owns stands in for the user's terminal. Whatever reaches
the pty's input queue would be typed into the user's shell; its reader must see nothing."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import tty
from collections.abc import Iterator

import pytest
from escape_kit import (
    PROFILES,
    Arena,
    actor,
    actor_pids,
    control_once,
    held,
    kill_token,
    nonce,
    profile_params,
)

pytestmark = pytest.mark.timeout(120)
OUT_OF_SCOPE = "trusted is unconfined by design: the user's approved command owns the terminal"


@contextlib.contextmanager
def pty() -> Iterator[tuple[int, int]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def pending_input(slave: int) -> bytes:
    """Bytes waiting in the terminal's input queue (what the user's shell would read next)."""
    os.set_blocking(slave, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(slave, 4096):
            data += chunk
    return data


def drain(master: int) -> bytes:
    os.set_blocking(master, False)
    data = b""
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(master, 4096):
            data += chunk
    return data


def injected(a: Arena, prof: str | None, via: str) -> bytes:
    token = nonce()
    with pty() as (master, slave):
        path = os.ttyname(slave)
        args = (1, token) if via == "stdout" else (path, token)
        action = "tiocsti" if via == "stdout" else "tiocsti_path"
        argv = actor(action, token, *args)
        full = argv if prof is None else a.sandbox_argv(prof, argv)
        proc = subprocess.Popen(full, cwd=a.ws, env=a.env, stdin=subprocess.DEVNULL,
                                stdout=slave, stderr=slave)
        deadline = time.monotonic() + 40
        output = b""
        while proc.poll() is None and time.monotonic() < deadline:
            output += drain(master)
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        output += drain(master)
        kill_token(token)
        assert prof is None or f"ACTOR-STARTED {token}".encode() in output, output
        typed = pending_input(slave)
        return typed if token.encode() in typed else b""


@pytest.mark.parametrize("profile", profile_params(skip_trusted=OUT_OF_SCOPE))
@pytest.mark.parametrize("via", ["stdout", "pts-path"])
def test_tiocsti_injection(via: str, profile: str, arena: Arena, control_arena: Arena) -> None:
    control_once(f"tiocsti-{via}", lambda: None if injected(control_arena, None, via)
                 else "TIOCSTI cannot inject here (dev.tty.legacy_tiocsti or capability)")
    typed = injected(arena, profile, via)
    assert not typed, f"ESCAPE: {profile} injected {typed!r} into the terminal via {via}"


@pytest.mark.parametrize("profile", PROFILES)
def test_stdin_is_never_the_terminal(profile: str, arena: Arena) -> None:
    """Even trusted must not get the user's terminal as stdin (seen via /proc/<pid>/fd/0)."""
    with pty() as (_master, slave):
        path = os.ttyname(slave)
        token = nonce()
        with held(arena, actor("stdin_isatty", token), token, profile=None, stdin=slave) as pids:
            assert os.readlink(f"/proc/{pids[0]}/fd/0") == path, "control: oracle blind"
        token = nonce()
        with held(arena, actor("stdin_isatty", token), token, profile=profile,
                  stdin=slave) as pids:
            links = {os.readlink(f"/proc/{pid}/fd/0") for pid in actor_pids(token) or pids}
        assert path not in links, f"{profile}: the child's stdin is the terminal {path}"
