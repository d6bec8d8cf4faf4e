"""`run_sandboxed`: run one command under a sandbox policy and report what happened.

Public interface (also re-exported by `codex.sandbox`):
    run_sandboxed(SandboxRequest) -> SandboxResult
        raises SandboxUnavailable (a required layer is missing; .profile/.layer/.reason) and
        SandboxError (bad request, helper failure); never raises for the command's own
        failure. KeyboardInterrupt / SystemExit (SIGTERM in the main thread) propagate after
        the run has been killed.
    SandboxRequest(policy, argv, cwd, timeout_s=None, allow_degraded=False, env={},
                   env_passthrough=(), capture=False, on_output=None, stdin=None,
                   scan_hardlinks=True, workspace=None)
    SandboxResult: exit_code, signal, duration_s, timed_out, profile, workspace, cwd, layers,
        degraded, unavailable, hardlinks, hardlinks_truncated, protected, protected_created,
        quarantined, masked, landlock_abi, stdout/stderr (bytes when captured); to_json().

Used by `codex sandbox`, the guard chain and the agent's shell tool. The caller chooses pass-
through (the command writes to our stdout/stderr), capture (bytes in the result) and/or a
streaming callback. Every run, `trusted` included, goes through the helper
(codex.sandbox.linux.helper). The runner owns the timeout and cleanup: on timeout, Ctrl-C or
SIGTERM a confined run's process group is killed (its PID namespace dies with its init);
an unconfined helper is asked with SIGTERM to kill what it reaped as child subreaper, then
killed. Parent-death signals cover the runner itself being killed: no process outlives a run.

Exit codes follow the shell: the command's own, 126 not executable, 127 not found, 124
timeout, 128+n killed by signal n.
"""

from __future__ import annotations

import marshal
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.config.home import codex_home
from codex.policies import SandboxPolicy
from codex.sandbox import env as sandbox_env
from codex.sandbox import hardlinks, quarantine
from codex.sandbox.layer_names import ENV, SESSION, STDIN
from codex.sandbox.linux import HELPER_TOKEN
from codex.sandbox.linux.spec import GO, HelperSpec, decode_status, encode_frame, read_frame

if TYPE_CHECKING:
    import socket

    from codex.sandbox.proxy import DomainProxy

EXIT_TIMEOUT = 124
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127
HELPER_FAILED = 125
UNCONFINED_GRACE_S = 3.0
PROXY_HANDOVER_S = 30.0
SIGKILL = getattr(signal, "SIGKILL", 9)

OutputCallback = Callable[[str, bytes], None]
# (host, port, allowed, reason) for each decision of the domain allow-list proxy; raising
# refuses that connection (an unrecorded decision must not take effect).
NetworkCallback = Callable[[str, int, bool, str], None]


class SandboxUnavailable(Exception):
    """A layer the profile requires is missing here, and degrading was not allowed."""

    def __init__(self, profile: str, layer: str, reason: str) -> None:
        self.profile = profile
        self.layer = layer
        self.reason = reason
        super().__init__(
            f"cannot enforce profile {profile} here: {layer} unavailable ({reason}); "
            "use --allow-degraded to run without it")


class SandboxError(Exception):
    """The sandbox itself failed (not the command): bad request or helper failure."""


@dataclass(frozen=True)
class SandboxRequest:
    """One command to run confined.

    `cwd`: where the command runs. `workspace`: the directory the policy was resolved for
    (reported in the result; defaults to `cwd`).
    `env`: variables the user named explicitly (always passed, even credential-looking).
    `env_passthrough`: names from configuration to pass when set (credential-looking ones
    are still dropped). `stdin`: bytes fed on a pipe the runner owns; None means /dev/null.
    `capture`: keep stdout/stderr in the result; `on_output(stream, chunk)` streams them
    ("stdout"/"stderr"); with neither, output passes through to our own stdout/stderr.
    `prepared`: the run `prepare(request)` set up in advance; used when it is this request's.
    """

    policy: SandboxPolicy
    argv: Sequence[str]
    cwd: Path
    timeout_s: float | None = None
    allow_degraded: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    env_passthrough: Sequence[str] = ()
    capture: bool = False
    on_output: OutputCallback | None = None
    stdin: bytes | None = None
    scan_hardlinks: bool = True
    workspace: Path | None = None
    prepared: PreparedRun | None = None
    on_network: NetworkCallback | None = None


@dataclass
class SandboxResult:
    """What happened; `to_json()` is the `codex sandbox --json` object."""

    exit_code: int
    signal: int | None
    duration_s: float
    timed_out: bool
    profile: str
    workspace: str
    layers: list[str]
    cwd: str = ""
    degraded: list[dict[str, str]] = field(default_factory=list)
    unavailable: list[dict[str, str]] = field(default_factory=list)
    hardlinks: list[str] = field(default_factory=list)
    hardlinks_truncated: bool = False
    protected: list[str] = field(default_factory=list)
    protected_created: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)
    masked: list[str] = field(default_factory=list)
    landlock_abi: int | None = None
    stdout: bytes | None = None
    stderr: bytes | None = None

    @property
    def is_degraded(self) -> bool:
        return bool(self.degraded)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("stdout")
        data.pop("stderr")
        data["duration_ms"] = round(self.duration_s * 1000, 1)
        data.pop("duration_s")
        data["degraded_allowed"] = bool(self.degraded)
        return data


# Re-executing through /proc/self/exe reaches our own binary even when the path to it is not
# searchable by the current uid (an interpreter under /root run via setpriv as nobody);
# argv[0] stays sys.executable so Python still finds its prefix the usual way.
_SELF_EXE = "/proc/self/exe" if os.path.exists("/proc/self/exe") else sys.executable


def helper_command() -> list[str]:
    """How to start the helper: the same program, re-executed with the helper token.

    In a Nuitka-compiled binary sys.executable is the binary itself, which dispatches the
    token in its __main__ before importing anything else. From Python, the interpreter
    running us enters codex.__main__ the same way, in isolated mode without `site` (-I -S:
    no user site, no .pth processing, no PYTHON* variables, cwd not on sys.path), with the
    directory holding the codex package appended after the stdlib. That avoids `-m`
    (runpy and its imports) and site's work: several ms on every sandboxed command.
    """
    compiled = "__compiled__" in globals() or bool(getattr(sys, "frozen", False))
    if compiled:
        return [sys.executable, HELPER_TOKEN]
    package_parent = str(Path(__file__).resolve().parents[2])
    bootstrap = (f"import sys; sys.path.append({package_parent!r}); "
                 "from codex.__main__ import main; main()")
    return [sys.executable, "-I", "-S", "-c", bootstrap, HELPER_TOKEN]


def run_sandboxed(request: SandboxRequest) -> SandboxResult:
    """Run `request.argv` confined by `request.policy`; see the module docstring."""
    if not sys.platform.startswith("linux"):
        return _run_elsewhere(request)
    prepared = request.prepared
    if prepared is None or not prepared.serves(request):
        if prepared is not None:
            prepared.abandon()
        prepared = prepare(request)
    return prepared.finish(request)


def _check(request: SandboxRequest) -> None:
    if not request.argv:
        raise SandboxError("no command given")
    if not Path(request.cwd).is_dir():
        raise SandboxError(f"working directory {request.cwd} does not exist")


@dataclass
class _Setup:
    """What a run needs around the command on every platform, undone by `cleanup`."""

    roots: list[str]
    scan: hardlinks.HardlinkScan
    private_tmp: str | None
    cgroup: str | None
    command_env: dict[str, str]

    @classmethod
    def create(cls, request: SandboxRequest) -> _Setup:
        policy = request.policy
        roots = [str(p) for p in policy.writable_roots]
        scan = (hardlinks.scan(roots) if roots and request.scan_hardlinks
                else hardlinks.HardlinkScan())
        private_tmp = _private_tmp() if policy.private_tmp else None
        setup = cls(roots, scan, private_tmp, None, {})
        try:
            setup.cgroup = _pids_cgroup(policy)
            explicit = dict(request.env)
            if private_tmp:
                explicit.setdefault("TMPDIR", private_tmp)
            if _uses_proxy(policy):
                from codex.sandbox.proxy import proxy_environment

                for name, value in proxy_environment().items():
                    explicit.setdefault(name, value)
            setup.command_env = sandbox_env.scrub(os.environ, explicit,
                                                  request.env_passthrough)
        except BaseException:
            setup.cleanup()
            raise
        return setup

    def complete(self, result: SandboxResult, request: SandboxRequest) -> SandboxResult:
        result.workspace = str(request.workspace or request.cwd)
        result.cwd = str(request.cwd)
        result.hardlinks, result.hardlinks_truncated = self.scan.paths, self.scan.truncated
        return result

    def cleanup(self) -> None:
        if self.private_tmp:
            import shutil

            shutil.rmtree(self.private_tmp, ignore_errors=True)
            self.private_tmp = None
        if self.cgroup:
            from codex.sandbox.linux import pids_cgroup

            pids_cgroup.remove(self.cgroup)
            self.cgroup = None


def prepare(request: SandboxRequest, *, warm: bool = False) -> PreparedRun:
    """Linux: start the helper with the request's spec. It confines itself right away and
    waits; `finish` starts the command, `abandon` calls it off. So a caller can confine while
    its guards are still deciding (`codex sandbox` does). Confining changes nothing outside
    the helper's namespaces, except that a `.git` without `hooks` in a writable root gets an
    empty one (as git itself would make) so it can be made read-only.

    `warm`: confine ahead of a command not known yet (an agent session's next one); the run
    then serves any request with the same policy, environment and streams, and `finish`
    sends that request's argv and working directory instead of GO."""
    _check(request)
    setup = _Setup.create(request)
    try:
        policy = request.policy
        before = quarantine.present(setup.roots, policy.protected_subpaths)
        spec = _helper_spec(request, setup, warm)
        if warm:
            spec.argv, spec.cwd = [], str(request.workspace or request.cwd)
        return PreparedRun(request, setup, before, spec, proxy=_uses_proxy(policy))
    except BaseException:
        setup.cleanup()
        raise


def _uses_proxy(policy: SandboxPolicy) -> bool:
    """A domain allow-list: the command's only way out is the codex proxy."""
    return policy.confined and bool(policy.allowed_domains)


def _helper_spec(request: SandboxRequest, setup: _Setup, warm: bool = False) -> HelperSpec:
    """What the helper is told: the command, where, and every layer the policy asks for."""
    policy = request.policy
    return HelperSpec(
        argv=list(request.argv), cwd=str(request.cwd), env=setup.command_env,
        profile=policy.profile, confined=policy.confined, network=policy.network,
        writable_roots=setup.roots, protected_subpaths=list(policy.protected_subpaths),
        masked_paths=_masked_paths(policy), private_tmp=setup.private_tmp,
        allow_degraded=request.allow_degraded, parent_pid=os.getpid(),
        pids_cgroup=setup.cgroup,
        read_only_paths=[str(p) for p in policy.read_only_paths],
        denied_paths=[str(p) for p in policy.denied_paths], deferred=warm)


def _private_tmp() -> str:
    """A fresh temp directory for a write profile's TMPDIR (tempfile is imported only then:
    it brings shutil, random, bz2 and lzma, which read-only runs never need)."""
    import tempfile

    return tempfile.mkdtemp(prefix="codex-sandbox-")


def _pids_cgroup(policy: SandboxPolicy) -> str | None:
    """A pids cgroup for confined runs as root (RLIMIT_NPROC does not bind root)."""
    if not policy.confined or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return None
    from codex.sandbox.linux import pids_cgroup

    return pids_cgroup.create()


def _masked_paths(policy: SandboxPolicy) -> list[str]:
    """The policy's masks plus the agent's own credentials wherever CODEX_HOME points."""
    own = codex_home() / "auth.json"
    return list(dict.fromkeys([*(str(p) for p in policy.masked_paths), str(own)]))


def _run_elsewhere(request: SandboxRequest) -> SandboxResult:
    """macOS: Seatbelt through /usr/bin/sandbox-exec; Windows: only unconfined profiles.
    Either way the command is spawned directly (no Linux helper) in a new session."""
    _check(request)
    setup = _Setup.create(request)
    try:
        return setup.complete(_spawn_elsewhere(request, setup.command_env, setup.private_tmp),
                              request)
    finally:
        setup.cleanup()


def _spawn_elsewhere(request: SandboxRequest, command_env: dict[str, str],
                     private_tmp: str | None) -> SandboxResult:
    policy = request.policy
    argv = list(request.argv)
    layers = [ENV, STDIN, SESSION]
    if policy.confined and (policy.allowed_domains or policy.read_only_paths
                            or policy.denied_paths):
        raise SandboxUnavailable(policy.profile, "permission-profile-rules",
                                 "read/deny path rules and domain allow-lists are enforced on "
                                 "Linux only")
    if policy.confined and sys.platform == "darwin":
        from codex.sandbox import macos

        if not macos.sandbox_exec_available():
            raise SandboxUnavailable(policy.profile, "seatbelt", "/usr/bin/sandbox-exec not found")
        argv = macos.seatbelt_policy(policy, private_tmp=private_tmp).command(argv)
        layers.append("seatbelt")
    elif policy.confined:
        from codex.sandbox import windows

        raise SandboxUnavailable(policy.profile, windows.LAYER, windows.REASON)
    stdin, out = _stdio(request)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=request.cwd, env=command_env, stdin=stdin,
                                stdout=out, stderr=out, start_new_session=True)
    except OSError as exc:
        code = EXIT_NOT_FOUND if isinstance(exc, FileNotFoundError) else EXIT_NOT_EXECUTABLE
        what = "command not found" if code == EXIT_NOT_FOUND else exc.strerror
        message = f"codex sandbox: {argv[0]}: {what}\n".encode()
        result = SandboxResult(code, None, time.monotonic() - start, False, policy.profile,
                               str(request.cwd), layers)
        if request.capture:
            result.stdout, result.stderr = b"", message
        if request.on_output:
            request.on_output("stderr", message)
        if not request.capture and not request.on_output:
            sys.stderr.write(message.decode(errors="replace"))
        return result
    outcome = _supervise(request, proc, None, start, confined=True)
    return SandboxResult(
        exit_code=outcome.exit_code, signal=outcome.signal, duration_s=outcome.duration,
        timed_out=outcome.timed_out, profile=policy.profile, workspace=str(request.cwd),
        layers=layers, stdout=outcome.stdout, stderr=outcome.stderr)


def _stdio(request: SandboxRequest) -> tuple[int, int | None]:
    stdin = subprocess.PIPE if request.stdin is not None else subprocess.DEVNULL
    out = subprocess.PIPE if (request.capture or request.on_output) else None
    return stdin, out


class PreparedRun:
    """A helper started with its spec, confining itself while the caller decides.

    Starting the helper is the slowest part of a sandboxed run (a second interpreter start,
    then the layers). `prepare` does all of it up front; the command starts only on `finish`
    (GO on the spec pipe). `abandon` calls the run off: end of file on the spec pipe makes
    the helper exit without starting anything, and it is killed besides. A prepared run
    serves exactly the request it was prepared for, once.
    """

    def __init__(self, request: SandboxRequest, setup: _Setup, before: set[str],
                 spec: HelperSpec, proxy: bool = False) -> None:
        self.key = _request_key(request, warm=spec.deferred)
        self.setup, self.before, self.spec = setup, before, spec
        spec_r, self.spec_w = os.pipe()
        self.status_r, status_w = os.pipe()
        passed = [spec_r, status_w]
        self.proxy_channel: socket.socket | None = None
        if proxy:
            import socket

            from codex.sandbox.proxy import PROXY_PORT

            self.proxy_channel, child_end = socket.socketpair()
            spec.proxy_port, spec.proxy_fd = PROXY_PORT, child_end.detach()
            passed.append(spec.proxy_fd)
        stdin, out = _stdio(request)
        try:
            proc = subprocess.Popen(
                [*helper_command(), str(spec_r), str(status_w)], executable=_SELF_EXE,
                cwd="/", env={}, stdin=stdin, stdout=out, stderr=out,
                pass_fds=tuple(passed), start_new_session=True)
        except BaseException:
            for fd in (*passed, self.spec_w, self.status_r):
                os.close(fd)
            self._close_channel()
            raise
        for fd in passed:
            os.close(fd)
        self.proc: subprocess.Popen[bytes] | None = proc
        with suppress(BrokenPipeError):  # the helper died first; its exit status says why
            os.write(self.spec_w, spec.to_frame())

    def serves(self, request: SandboxRequest) -> bool:
        """Whether this (unused) run is the one `request` asks for."""
        return self.proc is not None and self.key == _request_key(request,
                                                                  warm=self.spec.deferred)

    def finish(self, request: SandboxRequest) -> SandboxResult:
        """Start the command and see the run through (timeout, output, quarantine)."""
        proc, self.proc = self.proc, None
        if proc is None:
            raise SandboxError("this prepared run was already used or abandoned")
        proxy = None
        try:
            proxy = self._start_proxy(request)
            start = time.monotonic()
            go = GO
            if self.spec.deferred:
                go = encode_frame({"argv": list(request.argv), "cwd": str(request.cwd)})
            try:
                os.write(self.spec_w, go)
            except BrokenPipeError:
                pass
            finally:
                os.close(self.spec_w)
            result = _helper_result(_supervise(request, proc, self.status_r, start,
                                               self.spec.confined), self.spec)
            # Every process of the run is gone now, so nothing can race the move. Paths the
            # helper itself made read-only (an empty .git/hooks it created) count as existing
            # before the run.
            policy = request.policy
            result.protected_created, result.quarantined = quarantine.quarantine(
                self.setup.roots, policy.protected_subpaths,
                self.before | set(result.protected), codex_home())
            return self.setup.complete(result, request)
        finally:
            if proxy is not None:
                proxy.stop()
            self._close_channel()
            self.setup.cleanup()

    def _start_proxy(self, request: SandboxRequest) -> DomainProxy | None:
        """Receive the listener the helper opened in the command's network namespace and
        serve the allow-list on it (nothing when the helper failed first: the run then
        reports why)."""
        channel = self.proxy_channel
        if channel is None:
            return None
        import socket

        from codex.sandbox.proxy import DomainProxy

        channel.settimeout(PROXY_HANDOVER_S)
        try:
            _, fds, _, _ = socket.recv_fds(channel, 16, 1)
        except OSError:
            return None
        if not fds:
            return None
        policy = request.policy
        proxy = DomainProxy(socket.socket(fileno=fds[0]), policy.allowed_domains,
                            policy.denied_domains, request.on_network or _unrecorded)
        proxy.start()
        return proxy

    def _close_channel(self) -> None:
        if self.proxy_channel is not None:
            self.proxy_channel.close()
            self.proxy_channel = None

    def abandon(self) -> None:
        """Call the run off (a no-op once finished or abandoned)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for fd in (self.spec_w, self.status_r):
            with suppress(OSError):
                os.close(fd)
        _kill_group(proc)
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        self._close_channel()
        self.setup.cleanup()


def _unrecorded(host: str, port: int, allowed: bool, reason: str) -> None:
    """Proxy decisions of a run nobody audits (a library caller without a callback)."""


def _request_key(request: SandboxRequest, warm: bool = False) -> tuple[object, ...]:
    """What a prepared run fixes in advance (everything but the timeout; for a warm run,
    also not the command and its working directory)."""
    command = () if warm else (tuple(request.argv), str(request.cwd))
    return (request.policy, *command,
            tuple(sorted(request.env.items())), tuple(request.env_passthrough),
            request.allow_degraded, _stdio(request), request.scan_hardlinks,
            str(request.workspace))


def _helper_result(outcome: _Outcome, spec: HelperSpec) -> SandboxResult:
    """The result of a helper run, or the exception for a helper that refused or failed."""
    report = outcome.report
    refused = report.get("refused")
    if isinstance(refused, dict):
        raise SandboxUnavailable(spec.profile, str(refused.get("layer")),
                                 str(refused.get("reason")))
    if "error" in report and "exit" not in report:
        raise SandboxError(f"sandbox helper failed: {report['error']}")
    if "layers" not in report and not outcome.timed_out:
        raise SandboxError(
            f"sandbox helper exited with status {outcome.exit_code} before confining the "
            "command" + (f": {outcome.stderr.decode(errors='replace').strip()}"
                         if outcome.stderr else ""))
    exit_info = report.get("exit")
    exit_code, sig = outcome.exit_code, outcome.signal
    if isinstance(exit_info, dict) and not outcome.timed_out:
        exit_code = int(exit_info["code"])
        sig = exit_info.get("signal")
    return SandboxResult(
        exit_code=exit_code, signal=sig, duration_s=outcome.duration,
        timed_out=outcome.timed_out, profile=spec.profile, workspace=spec.cwd,
        layers=list(report.get("layers", [])), degraded=list(report.get("degraded", [])),
        unavailable=list(report.get("unavailable", [])),
        protected=list(report.get("protected", [])), masked=list(report.get("masked", [])),
        landlock_abi=report.get("landlock_abi"), stdout=outcome.stdout, stderr=outcome.stderr)


@dataclass
class _Outcome:
    exit_code: int
    signal: int | None
    duration: float
    timed_out: bool
    report: dict[str, Any]
    stdout: bytes | None
    stderr: bytes | None


def _supervise(request: SandboxRequest, proc: subprocess.Popen[bytes], status_fd: int | None,
               start: float, confined: bool) -> _Outcome:
    """Pump output and status until the helper ends or the deadline passes; stop everything
    on timeout and on any exception (Ctrl-C, SIGTERM)."""
    deadline = None if request.timeout_s is None else start + request.timeout_s
    captured: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    status_buf: list[bytes] = []
    timed_out = False
    sel = selectors.DefaultSelector()
    try:
        with _sigterm_as_exit():
            if proc.stdin is not None:
                _feed_stdin(proc, request.stdin or b"")
            for name in ("stdout", "stderr"):
                stream = getattr(proc, name)
                if stream is not None:
                    os.set_blocking(stream.fileno(), False)
                    sel.register(stream.fileno(), selectors.EVENT_READ, name)
            if status_fd is not None:
                sel.register(status_fd, selectors.EVENT_READ, "status")
            reaped = False
            while True:
                if not reaped and proc.poll() is not None:
                    # The command (or the helper, whose exit ends the PID namespace) is done:
                    # whatever it left in its process group goes too, closing our pipes.
                    reaped = True
                    _kill_group(proc)
                if not sel.get_map() and reaped:
                    break
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not sel.get_map():
                    with suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=timeout)
                    ready = []
                else:
                    ready = sel.select(timeout=timeout)
                for key, _ in ready:
                    name = key.data
                    try:
                        chunk = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(key.fd)
                        continue
                    if name == "status":
                        status_buf.append(chunk)
                    else:
                        _emit(request, captured, name, chunk)
                if deadline is not None and time.monotonic() >= deadline and \
                        proc.poll() is None:
                    timed_out = True
                    _stop(proc, confined)
                    deadline = None
    except BaseException:
        _stop(proc, confined)
        proc.wait()
        raise
    finally:
        sel.close()
        if status_fd is not None:
            os.close(status_fd)
        for stream in (proc.stdout, proc.stderr, proc.stdin):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
    returncode = proc.wait()
    _kill_group(proc)  # anything the helper left in its process group
    duration = time.monotonic() - start
    sig = -returncode if returncode < 0 else None
    code = 128 + sig if sig else returncode
    if timed_out:
        code, sig = EXIT_TIMEOUT, SIGKILL
    report = decode_status(b"".join(status_buf))
    return _Outcome(code, sig, duration, timed_out, report,
                    b"".join(captured["stdout"]) if request.capture else None,
                    b"".join(captured["stderr"]) if request.capture else None)


def _emit(request: SandboxRequest, captured: dict[str, list[bytes]], name: str,
          chunk: bytes) -> None:
    if request.capture:
        captured[name].append(chunk)
    if request.on_output:
        request.on_output(name, chunk)


def _feed_stdin(proc: subprocess.Popen[bytes], data: bytes) -> None:
    """Feed stdin from a thread so a command that never reads cannot block the runner."""
    stdin = proc.stdin
    assert stdin is not None

    def feed() -> None:
        with suppress(BrokenPipeError, OSError):
            stdin.write(data)
        with suppress(OSError):
            stdin.close()

    threading.Thread(target=feed, name="codex-sandbox-stdin", daemon=True).start()


def _stop(proc: subprocess.Popen[bytes], confined: bool) -> None:
    """Stop a run now. A confined run dies with its helper (the PID namespace goes with its
    init; parent-death signals cover the rest), so SIGKILL the group. An unconfined helper
    is a subreaper that must kill the command's descendants itself: SIGTERM it, then give
    it a moment before the group is killed anyway."""
    if not confined and proc.poll() is None:
        with suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=UNCONFINED_GRACE_S)
    _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if not hasattr(os, "killpg"):  # Windows: no process groups to kill
        with suppress(OSError):
            proc.kill()
        return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, SIGKILL)


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While a run is in progress, SIGTERM raises SystemExit(143) in the main thread so the
    runner's cleanup kills the sandbox before this process goes away."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# Helper pids of piped runs (session-long servers): an interrupted turn's sweep of running
# commands (codex.agent.cancel) leaves them alone.
PIPED_PIDS: set[int] = set()


class PipedRun:
    """A long-running confined process whose stdin, stdout and stderr are pipes we own.

    For servers that talk over stdio for a whole session (MCP servers): `start_piped` confines
    and starts it, the caller reads and writes `proc`'s pipes, and `stop` kills the run's
    process group (and with it the PID namespace) and undoes the setup. `layers` says what
    the helper applied.
    """

    def __init__(self, proc: subprocess.Popen[bytes], setup: _Setup, status_r: int | None,
                 layers: list[str]) -> None:
        self.proc = proc
        self.layers = layers
        self._setup = setup
        self._status_r = status_r
        PIPED_PIDS.add(proc.pid)

    def stop(self) -> None:
        """Kill the run and release everything it held (idempotent)."""
        PIPED_PIDS.discard(self.proc.pid)
        _kill_group(self.proc)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=UNCONFINED_GRACE_S)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
        if self._status_r is not None:
            with suppress(OSError):
                os.close(self._status_r)
            self._status_r = None
        self._setup.cleanup()


def start_piped(request: SandboxRequest, confine_timeout_s: float = 30.0) -> PipedRun:
    """Start `request.argv` confined, with pipes on all three standard streams.

    Raises SandboxUnavailable / SandboxError like `run_sandboxed` when the helper cannot
    confine; `request.stdin`, `capture`, `on_output` and `timeout_s` are ignored (the caller
    owns the pipes and the lifetime)."""
    _check(request)
    setup = _Setup.create(request)
    policy = request.policy
    pipe = subprocess.PIPE
    try:
        if not sys.platform.startswith("linux"):
            if policy.confined:
                raise SandboxUnavailable(policy.profile, "piped",
                                         "long-running confined processes need Linux")
            proc = subprocess.Popen(list(request.argv), cwd=request.cwd,
                                    env=setup.command_env, start_new_session=True,
                                    stdin=pipe, stdout=pipe, stderr=pipe)
            return PipedRun(proc, setup, None, [ENV, STDIN, SESSION])
        spec = _helper_spec(request, setup)
        spec_r, spec_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            proc = subprocess.Popen(
                [*helper_command(), str(spec_r), str(status_w)], executable=_SELF_EXE,
                cwd="/", env={}, pass_fds=(spec_r, status_w), start_new_session=True,
                stdin=pipe, stdout=pipe, stderr=pipe)
        except BaseException:
            for fd in (spec_r, spec_w, status_r, status_w):
                os.close(fd)
            raise
        os.close(spec_r)
        os.close(status_w)
        with suppress(BrokenPipeError):
            os.write(spec_w, spec.to_frame() + GO)
        os.close(spec_w)
        run = PipedRun(proc, setup, status_r, [])
    except BaseException:
        setup.cleanup()
        raise
    try:
        run.layers = _confined_layers(status_r, spec, confine_timeout_s)
    except BaseException:
        run.stop()
        raise
    return run


def _confined_layers(status_r: int, spec: HelperSpec, timeout_s: float) -> list[str]:
    """Wait for the helper's first report: the layers it applied, or why it refused."""
    sel = selectors.DefaultSelector()
    sel.register(status_r, selectors.EVENT_READ)
    try:
        if not sel.select(timeout=timeout_s):
            raise SandboxError(f"the sandbox helper did not confine within {timeout_s:.0f}s")
    finally:
        sel.close()
    try:
        report = marshal.loads(read_frame(status_r))
    except (EOFError, ValueError) as exc:
        raise SandboxError("the sandbox helper exited before confining the command") from exc
    refused = report.get("refused") if isinstance(report, dict) else None
    if isinstance(refused, dict):
        raise SandboxUnavailable(spec.profile, str(refused.get("layer")),
                                 str(refused.get("reason")))
    layers = report.get("layers") if isinstance(report, dict) else None
    if not isinstance(layers, list):
        error = report.get("error") if isinstance(report, dict) else report
        raise SandboxError(f"sandbox helper failed: {error}")
    return [str(layer) for layer in layers]
