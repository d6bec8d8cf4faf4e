"""Shared machinery for the escape suite: how to run codex, arenas, listeners, victims.

Every probe runs one action of `actor.py` twice: once directly (the control, proving the action
works on this machine) and once under `codex sandbox --profile P`. The verdict always comes from
an oracle owned by the test (listener logs, file state, a victim process, /proc seen from
outside), never from the child's exit code.

`CODEX_TEST_BINARY` points the suite at a native build instead of `python -m codex`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support.procs import pids_with

ACTOR = Path(__file__).with_name("actor.py")
PROFILES = ("offline", "net-read-only", "workspace-write", "workspace-net", "trusted")
NET_PROFILES = frozenset({"net-read-only", "workspace-net", "trusted"})
WRITE_PROFILES = frozenset({"workspace-write", "workspace-net", "trusted"})
CONFINED = frozenset(PROFILES) - {"trusted"}
IS_ROOT = os.geteuid() == 0
RUN_TIMEOUT = 40.0

# Credentials planted in the supervisor's environment: none may ever reach a child.
SECRET_ENV_NAMES = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "GITHUB_TOKEN", "GH_TOKEN", "NPM_TOKEN", "DATABASE_PASSWORD", "MY_SERVICE_SECRET",
    "AZURE_CLIENT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS", "CODEX_API_KEY",
)
# Secret files planted under the fake HOME: the confined child must never read them.
SECRET_FILES = (
    ".ssh/id_ed25519", ".aws/credentials", ".config/gh/hosts.yml", ".netrc",
    ".docker/config.json", ".kube/config", ".gnupg/private.key", ".codex/auth.json",
)


def nonce() -> str:
    return "n" + secrets.token_hex(8)


def codex_command() -> list[str]:
    binary = os.environ.get("CODEX_TEST_BINARY")
    return [binary] if binary else [sys.executable, "-m", "codex"]


def actor(action: str, token: str, *args: object) -> list[str]:
    return [sys.executable, str(ACTOR), action, token, *(str(a) for a in args)]


# --- results and runs ----------------------------------------------------------------------

@dataclass
class Outcome:
    """What a finished run left behind (exit code is recorded, never trusted alone)."""

    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def output(self) -> bytes:
        return self.stdout + self.stderr

    def result_json(self) -> dict[str, Any]:
        """The `--json` result object (the last JSON object line on stdout or stderr)."""
        for stream in (self.stdout, self.stderr):
            for line in reversed(stream.decode(errors="replace").splitlines()):
                line = line.strip()
                if line.startswith("{"):
                    with contextlib.suppress(ValueError):
                        parsed = json.loads(line)
                        if isinstance(parsed, dict):
                            return parsed
        raise AssertionError(f"no JSON result in output of {self.argv}: {self.output!r}")

    def describe(self) -> str:
        return (f"argv={self.argv}\nexit={self.returncode}\nstdout={self.stdout[-2000:]!r}\n"
                f"stderr={self.stderr[-2000:]!r}")


@dataclass
class Arena:
    """A fresh workspace, an outside directory and a fake HOME full of planted secrets."""

    root: Path
    ws: Path
    outside: Path
    home: Path
    env: dict[str, str]
    secret_values: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> Path:
        """A file outside every writable root; its bytes must never change when confined."""
        return self.outside / "target.txt"

    def sandbox_argv(self, profile: str, argv: Sequence[str], *, json_result: bool = False,
                     timeout: float = 20, extra: Sequence[str] = ()) -> list[str]:
        cmd = [*codex_command(), "sandbox", "--profile", profile, "-C", str(self.ws),
               "--timeout", str(timeout), *extra]
        if json_result:
            cmd.append("--json")
        return [*cmd, "--", *argv]

    def run(self, argv: Sequence[str], *, profile: str | None, json_result: bool = False,
            timeout: float = 20, extra: Sequence[str] = (), pass_fds: Sequence[int] = (),
            stdin: int | None = subprocess.DEVNULL, env: dict[str, str] | None = None,
            ) -> Outcome:
        """Run `argv` sandboxed under `profile`, or directly (the control) when None."""
        full = list(argv) if profile is None else self.sandbox_argv(
            profile, argv, json_result=json_result, timeout=timeout, extra=extra)
        proc = subprocess.run(full, cwd=self.ws, env=env or self.env, stdin=stdin,
                              capture_output=True, timeout=RUN_TIMEOUT, pass_fds=pass_fds,
                              check=False)
        return Outcome(full, proc.returncode, proc.stdout, proc.stderr)

    def probe(self, argv: Sequence[str], token: str, *, profile: str,
              pass_fds: Sequence[int] = (), stdin: int | None = subprocess.DEVNULL,
              timeout: float = 20) -> Outcome:
        """A sandboxed actor run that must really have started the actor (so that a broken
        or refusing sandbox cannot make a denial probe pass vacuously)."""
        outcome = self.run(argv, profile=profile, pass_fds=pass_fds, stdin=stdin,
                           timeout=timeout)
        assert f"ACTOR-STARTED {token}".encode() in outcome.stdout, (
            "the sandboxed actor never ran, so this probe proves nothing\n"
            + outcome.describe())
        return outcome

    def start(self, argv: Sequence[str], *, profile: str | None,
              pass_fds: Sequence[int] = (), stdin: int | None = subprocess.DEVNULL,
              stdout: int | None = subprocess.PIPE, stderr: int | None = subprocess.PIPE,
              ) -> subprocess.Popen[bytes]:
        full = list(argv) if profile is None else self.sandbox_argv(profile, argv, timeout=30)
        return subprocess.Popen(full, cwd=self.ws, env=self.env, stdin=stdin, stdout=stdout,
                                stderr=stderr, pass_fds=pass_fds)


def make_arena(root: Path) -> Arena:
    root.mkdir(parents=True, exist_ok=True)
    ws, outside, home = root / "ws", root / "outside", root / "home"
    for d in (ws, outside, home):
        d.mkdir()
    (outside / "target.txt").write_bytes(b"original\n")
    (ws / "inside.txt").write_bytes(b"inside\n")
    git_dir = ws / ".git"
    (git_dir / "hooks").mkdir(parents=True)
    (git_dir / "objects").mkdir()
    (git_dir / "refs" / "heads").mkdir(parents=True)
    (git_dir / "HEAD").write_text("ref: refs/heads/main\n")
    (git_dir / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
    (git_dir / "hooks" / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (ws / ".gitmodules").write_text("")
    (ws / ".envrc").write_text("# direnv\n")
    for d in (".vscode", ".idea", ".codex"):
        (ws / d).mkdir()
    (ws / ".vscode" / "settings.json").write_text("{}\n")
    (ws / ".idea" / "workspace.xml").write_text("<project/>\n")
    (ws / ".codex" / "config.toml").write_text("")
    values: dict[str, str] = {}
    for rel in SECRET_FILES:
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        values[rel] = "secretfile" + secrets.token_hex(8)
        path.write_text(values[rel] + "\n")
    (home / ".bashrc").write_text("# rc\n")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(root),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in SECRET_ENV_NAMES:
        values[name] = "secretenv" + secrets.token_hex(8)
        env[name] = values[name]
    return Arena(root, ws, outside, home, env, values)


@pytest.fixture
def arena(tmp_path: Path) -> Arena:
    return make_arena(tmp_path / "sandboxed")


@pytest.fixture
def control_arena(tmp_path: Path) -> Arena:
    return make_arena(tmp_path / "control")


# --- controls: prove the action works on this machine, once per probe ------------------------

_CONTROL_CACHE: dict[str, str | None] = {}


def control_once(key: str, check: Any) -> None:
    """Run `check()` (returning None when the action worked, else why not) once per session;
    skip the probe when the machine itself does not allow the action."""
    if key not in _CONTROL_CACHE:
        _CONTROL_CACHE[key] = check()
    reason = _CONTROL_CACHE[key]
    if reason is not None:
        pytest.skip(f"control run: {reason} on this machine (uid {os.geteuid()})")


# --- /proc oracles ---------------------------------------------------------------------------

def actor_pids(token: str) -> list[int]:
    """The probe's own processes: the token in argv, minus the codex supervisor (whose argv
    also carries it, after `sandbox`)."""
    out = []
    for pid in pids_with(token):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"sandbox" not in argv:
                out.append(pid)
    return out


def kill_token(token: str, wait: float = 20.0) -> None:
    """SIGKILL every process carrying `token`, then wait until the kernel has reaped them
    (zombies lose their cmdline but still count against the uid's process limit)."""
    deadline = time.monotonic() + wait
    seen: set[int] = set()
    while time.monotonic() < deadline:
        pids = pids_with(token)
        seen.update(pids)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if not pids and not any(os.path.exists(f"/proc/{pid}") for pid in seen):
            return
        time.sleep(0.1)


@contextlib.contextmanager
def held(arena: Arena, argv: Sequence[str], token: str, *, profile: str | None,
         pass_fds: Sequence[int] = (), stdin: int | None = subprocess.DEVNULL,
         stdout: int | None = None) -> Iterator[list[int]]:
    """Start an actor that holds its state after `READY`; yield its pids for inspection."""
    proc = arena.start(argv, profile=profile, pass_fds=pass_fds, stdin=stdin,
                       stdout=subprocess.PIPE if stdout is None else stdout,
                       stderr=subprocess.STDOUT if stdout is None else stdout)
    seen = b""
    try:
        if stdout is None:
            assert proc.stdout is not None
            deadline = time.monotonic() + RUN_TIMEOUT
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                seen += line
                if not line or line.strip() == b"READY":
                    break
        else:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not actor_pids(token):
                time.sleep(0.05)
            time.sleep(1.0)
        time.sleep(0.1)
        pids = actor_pids(token)
        assert pids, f"the actor is not running, so this probe proves nothing: {seen[-3000:]!r}"
        yield pids
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        proc.kill()
        proc.wait(5)
        kill_token(token)


# --- listeners --------------------------------------------------------------------------------

class Listeners:
    """Loopback TCP/UDP/unix listeners that record every byte they receive (the network
    oracle). One selector thread serves them all for the whole session."""

    def __init__(self, directory: Path) -> None:
        self.received: list[bytes] = []
        self.lock = threading.Lock()
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.tcp4 = self._stream(socket.AF_INET, ("127.0.0.1", 0))
        self.udp4 = self._dgram(socket.AF_INET, ("127.0.0.1", 0))
        self.has_ipv6 = socket.has_ipv6
        self.tcp6 = self.udp6 = None
        if self.has_ipv6:
            try:
                self.tcp6 = self._stream(socket.AF_INET6, ("::1", 0))
                self.udp6 = self._dgram(socket.AF_INET6, ("::1", 0))
            except OSError:
                self.has_ipv6 = False
        directory.mkdir(parents=True, exist_ok=True)
        self.unix_stream_path = str(directory / "stream.sock")
        self.unix_dgram_path = str(directory / "dgram.sock")
        self.abstract_name = "@codex-escape-" + secrets.token_hex(6)
        self._stream(socket.AF_UNIX, self.unix_stream_path)
        self._dgram(socket.AF_UNIX, self.unix_dgram_path)
        self._stream(socket.AF_UNIX, "\0" + self.abstract_name[1:])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _stream(self, family: int, address: Any) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(64)
        sock.setblocking(False)
        self.sel.register(sock, selectors.EVENT_READ, "accept")
        return sock

    def _dgram(self, family: int, address: Any) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind(address)
        sock.setblocking(False)
        self.sel.register(sock, selectors.EVENT_READ, "dgram")
        return sock

    def _serve(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.sel.select(0.1):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                with contextlib.suppress(OSError):
                    if key.data == "accept":
                        conn, _ = sock.accept()
                        conn.setblocking(False)
                        self.sel.register(conn, selectors.EVENT_READ, "stream")
                        self._record(b"<connect>")
                    elif key.data == "stream":
                        data = sock.recv(65536)
                        if data:
                            self._record(data)
                        else:
                            self.sel.unregister(sock)
                            sock.close()
                    else:
                        self._record(sock.recv(65536))

    def _record(self, data: bytes) -> None:
        with self.lock:
            self.received.append(data)

    def saw(self, token: str, wait: float) -> bool:
        """True once any listener received `token`; waits up to `wait` seconds for it."""
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                if any(token.encode() in chunk for chunk in self.received):
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)


@pytest.fixture(scope="session")
def listeners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listeners]:
    hub = Listeners(tmp_path_factory.mktemp("sock"))
    yield hub
    hub.close()


# --- victims ------------------------------------------------------------------------------------

VICTIM_SOURCE = """
import ctypes, os, sys, time
buf = ctypes.create_string_buffer(b"VICTIM-ORIGINAL-MEMORY")
held = open(sys.argv[1], "a")
print(ctypes.addressof(buf), held.fileno(), flush=True)
time.sleep(120)
"""


@dataclass
class Victim:
    """A process the test owns; confined children must not touch it."""

    proc: subprocess.Popen[bytes]
    address: int
    held_fd: int
    held_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def memory(self) -> bytes:
        with open(f"/proc/{self.pid}/mem", "rb") as mem:
            mem.seek(self.address)
            return mem.read(22)

    def tracer(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
        return 0


def spawn_victim(directory: Path, env: dict[str, str]) -> Victim:
    held_path = directory / "victim-held.txt"
    held_path.write_bytes(b"")
    proc = subprocess.Popen([sys.executable, "-c", VICTIM_SOURCE, str(held_path)],
                            env=env, stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    address, fd = proc.stdout.readline().split()
    return Victim(proc, int(address), int(fd), held_path)


@pytest.fixture
def victim_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Victim] = []

    def factory(arena: Arena) -> Victim:
        env = dict(arena.env, VICTIM_TOKEN="victimsecret" + secrets.token_hex(8))
        victim = spawn_victim(arena.outside, env)
        made.append(victim)
        return victim

    yield factory
    for victim in made:
        with contextlib.suppress(OSError):
            os.killpg(victim.pid, signal.SIGKILL)
        victim.proc.wait(5)


# --- expectations -------------------------------------------------------------------------------

def state_of(path: Path) -> tuple[Any, ...] | None:
    """Bytes, mode, owner, mtime, link count and xattrs: everything a write could change."""
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
    try:
        xattrs = tuple(sorted((n, os.getxattr(path, n, follow_symlinks=False))
                              for n in os.listxattr(path, follow_symlinks=False)))
    except OSError:
        xattrs = ()
    return (data, st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_nlink, xattrs)


def profile_params(*, skip_trusted: str | None = None) -> list[Any]:
    """Every profile as a pytest param; `skip_trusted` names why trusted is not meaningful."""
    params = []
    for profile in PROFILES:
        marks = []
        if profile == "trusted" and skip_trusted:
            marks.append(pytest.mark.skip(reason=skip_trusted))
        params.append(pytest.param(profile, marks=marks, id=profile))
    return params


def findings_note(outcome: Outcome) -> str:
    return f"uid={os.geteuid()}\n{outcome.describe()}"


FORKBOMB_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* forkbomb TOKEN N: fork up to N sleeping children, report, then hold. */
int main(int argc, char **argv) {
    int n = atoi(argv[2]), made = 0;
    printf("ACTOR-STARTED %s\n", argv[1]);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) { sleep(30); _exit(0); }
        made++;
    }
    printf("forked %d\nREADY\n", made);
    fflush(stdout);
    sleep(30);
    return 0;
}
"""


@pytest.fixture(scope="session")
def forkbomb_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny C fork bomb (Python children would cost megabytes each), built once."""
    if not shutil.which("gcc"):
        pytest.skip("control run: no gcc to build the fork bomb")
    directory = tmp_path_factory.mktemp("cbin")
    source = directory / "forkbomb.c"
    source.write_text(FORKBOMB_C)
    subprocess.run(["gcc", "-O1", "-o", str(directory / "forkbomb"), str(source)], check=True)
    return directory / "forkbomb"


@pytest.fixture(scope="session", autouse=True)
def _codex_present() -> None:
    """Fail loudly (not skip) when the command under test is missing."""
    binary = os.environ.get("CODEX_TEST_BINARY")
    if binary and not shutil.which(binary) and not Path(binary).exists():
        pytest.fail(f"CODEX_TEST_BINARY={binary} does not exist")
