"""The sandbox helper: a re-executed `codex` that confines itself, then execs the command.

Started by the runner as `<codex> __codex_sandbox_helper__ SPEC_FD STATUS_FD`; it reads the
spec, confines itself, and starts the command when GO follows on SPEC_FD (codex.sandbox.linux
.spec), so the runner may send the spec before its guards have decided. It imports only
the stdlib and `codex.sandbox.linux.*` (pyseccomp lazily). Layers, in order (SANDBOX.md):
probe, process hygiene, namespaces (user, PID, mount, IPC, network), mounts (every mount
read-only but the writable roots, fresh /proc, private /dev/shm and ptys, read-only
protected paths, masked secrets), privilege drop,
no_new_privs, Landlock, seccomp, exec.

Process shape with a PID namespace:
    runner -> helper (outside the namespace; waits, forwards SIGTERM/SIGINT/SIGHUP)
                -> init (PID 1 inside; confined; reaps; its exit tears the namespace down)
                    -> command
The helper holds PR_SET_PDEATHSIG on the runner and init holds it on the helper, so killing
the runner's child process group or the runner itself leaves no process behind.

The status pipe carries marshal frames (codex.sandbox.linux.spec) to the runner:
{"layers": ...} once confinement is in place, {"exit": ...} when the command ends, or
{"refused": ...} when a required layer is missing and degrading was not allowed. Exit
codes: the command's; 126/127 for exec errors; 128+n for signal n; 125 when the helper
itself fails or refuses.
"""

from __future__ import annotations

import errno
import os
import resource
import signal

from codex.sandbox import layer_names as L
from codex.sandbox.linux import landlock, mounts, pids_cgroup, probe, seccomp_filter
from codex.sandbox.linux import syscalls as sc
from codex.sandbox.linux.spec import (
    HelperSpec,
    encode_frame,
    read_frame,
    wait_for_command,
    wait_for_go,
)

# Startup discipline: no `typing`, `dataclasses`, `json` or `re` on this path (each costs
# milliseconds on every sandboxed command); type-only imports hide behind this constant.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

HELPER_FAILED = 125
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127

# rlimits: (resource, soft/hard cap). Caps never raise a limit the user already lowered.
RLIMITS: tuple[tuple[int, int], ...] = (
    (resource.RLIMIT_CORE, 0),
    (resource.RLIMIT_FSIZE, 8 << 30),
    (resource.RLIMIT_NPROC, 4096),
    (resource.RLIMIT_NOFILE, 65536),
)
UMASK = 0o022

# SECBIT_NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE, each with its _LOCKED bit, plus
# KEEP_CAPS_LOCKED: exec of anything (even uid 0) can never regain capabilities.
SECUREBITS = 0x1 | 0x2 | 0x4 | 0x8 | 0x20 | 0x40 | 0x80

DEVICES: tuple[str, ...] = ("/dev/null", "/dev/zero", "/dev/full")
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
PR_SET_CHILD_SUBREAPER = 36


class Refused(Exception):
    """A required layer could not be applied and degrading was not allowed."""

    def __init__(self, layer: str, reason: str) -> None:
        super().__init__(f"{layer}: {reason}")
        self.layer = layer
        self.reason = reason


class Progress:
    """Layers applied so far, and the ones given up (with the user's consent) or unavailable."""

    def __init__(self, allow_degraded: bool) -> None:
        self.allow_degraded = allow_degraded
        self.applied: list[str] = []
        self.degraded: list[dict[str, str]] = []
        self.unavailable: list[dict[str, str]] = []

    def attempt(self, name: str, step: Callable[[], object]) -> bool:
        """Run one layer; a failure refuses, degrades (opt-in) or, for optional layers, is
        recorded as unavailable."""
        try:
            step()
        except (OSError, ValueError) as exc:
            self.missing(name, reason(exc))
            return False
        self.applied.append(name)
        return True

    def missing(self, name: str, reason: str) -> None:
        entry = {"layer": name, "reason": reason}
        if name in L.OPTIONAL:
            self.unavailable.append(entry)
        elif self.allow_degraded:
            self.degraded.append(entry)
        else:
            raise Refused(name, reason)


def reason(exc: BaseException) -> str:
    """A one-line reason for a failed layer ("unshare: Operation not permitted")."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


class Status:
    """Status frames to the runner on an inherited, close-on-exec pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_inheritable(fd, False)

    def send(self, message: dict[str, object]) -> None:
        try:
            os.write(self.fd, encode_frame(message))
        except OSError:
            return  # the runner is gone; PDEATHSIG ends us


def main(args: list[str]) -> int:
    """Entry point (argv after the helper token)."""
    if len(args) != 2 or not all(a.isdigit() for a in args):
        os.write(2, b"codex: the sandbox helper is internal; use `codex sandbox`\n")
        return 2
    status = Status(int(args[1]))
    spec_fd = int(args[0])
    try:
        os.set_inheritable(spec_fd, False)
        spec = HelperSpec.from_bytes(read_frame(spec_fd))
    except (OSError, ValueError, TypeError, EOFError) as exc:
        status.send({"error": f"bad helper spec: {exc}"})
        return HELPER_FAILED
    progress = Progress(spec.allow_degraded)
    try:
        return confine_and_run(spec, status, progress, go_fd=spec_fd)
    except Refused as exc:
        status.send({"refused": {"layer": exc.layer, "reason": exc.reason}})
        return HELPER_FAILED


def confine_and_run(spec: HelperSpec, status: Status, progress: Progress, go_fd: int) -> int:
    """Apply the layers in order, then run the command once the runner says GO (on `go_fd`);
    returns the exit code to report."""
    if not spec.confined:
        return run_unconfined(spec, status, progress, go_fd)
    abi, abi_error = probe.landlock_abi()
    keep = (status.fd, go_fd) if spec.proxy_fd is None else (status.fd, go_fd, spec.proxy_fd)
    progress.attempt(L.HYGIENE, lambda: hygiene(spec, keep))
    limit_processes(spec, progress)
    progress.applied += [L.ENV, L.STDIN, L.SESSION]
    pidns = enter_namespaces(spec, progress)
    if pidns:
        # The helper holds `alive_w` until it exits; init checks it after arming its
        # parent-death signal, which closes the window where the helper died just before.
        alive_r, alive_w = os.pipe()
        init_pid = os.fork()
        if init_pid:
            os.close(alive_r)
            os.close(go_fd)  # init waits for GO
            if spec.proxy_fd is not None:
                os.close(spec.proxy_fd)  # init hands the listener over
            return supervise(init_pid)
        os.close(alive_w)
        sc.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
        _exit_if_orphaned(alive_r)
    report = mounts.MountReport()
    private_dev = setup_mounts(spec, progress, report, pidns)
    if spec.proxy_port is not None:
        if pidns:
            progress.attempt(L.PROXY, lambda: hand_over_proxy_listener(spec))
        else:
            progress.missing(L.PROXY, "no network namespace to isolate the command in")
    drop_privileges(progress)
    progress.attempt(L.NNP, lambda: sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1))
    try:
        os.chdir(spec.cwd)
    except OSError as exc:
        status.send({"error": f"cannot enter {spec.cwd}: {exc.strerror}"})
        return HELPER_FAILED
    apply_landlock(spec, progress, abi, abi_error, private_dev)
    progress.attempt(L.SECCOMP, lambda: load_seccomp(spec))
    status.send({
        "layers": progress.applied, "degraded": progress.degraded,
        "unavailable": progress.unavailable, "landlock_abi": abi,
        "protected": report.protected, "masked": report.masked,
    })
    if spec.deferred:
        if not _receive_command(spec, status, go_fd):
            return HELPER_FAILED
    elif not wait_for_go(go_fd):
        return HELPER_FAILED  # called off: the command never starts
    return run_command(spec, status, pid1=pidns)


def _receive_command(spec: HelperSpec, status: Status, go_fd: int) -> bool:
    """A warm helper learns its command only now: argv and working directory."""
    command = wait_for_command(go_fd)
    if command is None:
        return False  # called off: the session ended or its policy changed
    argv, cwd = command.get("argv"), command.get("cwd")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv) \
            or not isinstance(cwd, str):
        status.send({"error": "bad command frame"})
        return False
    try:
        os.chdir(cwd)
    except OSError as exc:
        status.send({"error": f"cannot enter {cwd}: {exc.strerror}"})
        return False
    spec.argv, spec.cwd = argv, cwd
    return True


def _exit_if_orphaned(alive_r: int) -> None:
    """End init at once if the helper (holder of the pipe's write end) is already gone."""
    os.set_blocking(alive_r, False)
    try:
        gone = os.read(alive_r, 1) == b""
    except BlockingIOError:
        gone = False
    os.close(alive_r)
    if gone:
        os._exit(HELPER_FAILED)


def run_unconfined(spec: HelperSpec, status: Status, progress: Progress, go_fd: int) -> int:
    """`trusted`: no confinement, but the same descriptor and terminal hygiene, and the
    helper stays as a child subreaper so nothing the command starts outlives the run."""
    try:
        _detach(spec, (status.fd, go_fd), signal.SIGTERM)
    except OSError as exc:
        raise Refused(L.STDIN, reason(exc)) from exc
    progress.applied += [L.ENV, L.STDIN, L.SESSION]
    try:
        os.chdir(spec.cwd)
    except OSError as exc:
        status.send({"error": f"cannot enter {spec.cwd}: {exc.strerror}"})
        return HELPER_FAILED
    status.send({"layers": progress.applied, "degraded": [], "unavailable": []})
    if not wait_for_go(go_fd):
        return HELPER_FAILED
    return run_command(spec, status, pid1=False)


def hygiene(spec: HelperSpec, keep: tuple[int, ...]) -> None:
    """Close inherited descriptors (but `keep`), keep the terminal out of reach, cap
    resources, umask."""
    _detach(spec, keep, signal.SIGKILL)
    for res, cap in RLIMITS:
        soft, hard = resource.getrlimit(res)
        new_hard = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
        new_soft = new_hard if soft == resource.RLIM_INFINITY else min(soft, new_hard)
        resource.setrlimit(res, (new_soft, new_hard))
    os.umask(UMASK)


def limit_processes(spec: HelperSpec, progress: Progress) -> None:
    """Bound the number of processes: RLIMIT_NPROC (set by hygiene) binds any uid but root;
    root needs the pids cgroup the runner prepared."""
    if spec.pids_cgroup:
        progress.attempt(L.PROCESS_LIMIT, lambda: pids_cgroup.join(spec.pids_cgroup or ""))
    elif os.geteuid() == 0:
        progress.missing(L.PROCESS_LIMIT, "root is exempt from RLIMIT_NPROC and no pids "
                                          "cgroup could be created here")
    else:
        progress.applied.append(L.PROCESS_LIMIT)


def _detach(spec: HelperSpec, keep: tuple[int, ...], death_signal: int) -> None:
    """Die with the runner, close inherited descriptors but `keep` (our pipes to the runner),
    keep the terminal's input away."""
    sc.prctl(sc.PR_SET_PDEATHSIG, death_signal)
    if spec.parent_pid and os.getppid() != spec.parent_pid:
        raise OSError(errno.ESRCH, "the runner exited before the helper started")
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _max_fd())
    if os.isatty(0):
        _replace_fd(0, os.open("/dev/null", os.O_RDONLY))
    for fd in (1, 2):
        if os.isatty(fd):
            # A terminal opened read-write lets the command read the user's keystrokes;
            # re-open it write-only for the command (or refuse: never hand it over).
            try:
                reopened = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NOCTTY)
            except OSError as exc:
                raise OSError(exc.errno, f"cannot re-open the terminal on fd {fd} write-only "
                              f"({exc.strerror}); redirect the output or use --json") from exc
            _replace_fd(fd, reopened)


def _max_fd() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def _replace_fd(target: int, fd: int) -> None:
    os.dup2(fd, target)
    os.close(fd)


def enter_namespaces(spec: HelperSpec, progress: Progress) -> bool:
    """unshare user, PID, mount, IPC (and network) namespaces; whether we got them."""
    flags = sc.CLONE_NEWNS | sc.CLONE_NEWPID | sc.CLONE_NEWIPC
    if not spec.network:
        flags |= sc.CLONE_NEWNET
    error = ""
    uid, gid = os.getuid(), os.getgid()  # read before unshare: inside, they are unmapped
    try:
        sc.unshare(sc.CLONE_NEWUSER | flags)
        _map_ids(uid, gid)
        progress.applied.append(L.USERNS)
    except OSError as exc:
        error = reason(exc)
        progress.missing(L.USERNS, error)
        if os.geteuid() == 0:
            try:  # root can still have the other namespaces without a user namespace
                sc.unshare(flags)
                error = ""
            except OSError as exc2:
                error = reason(exc2)
    names = [L.PIDNS, L.MOUNTNS, L.IPCNS] + ([] if spec.network else [L.NETNS])
    for name in names:
        if error:
            progress.missing(name, error)
        else:
            progress.applied.append(name)
    return not error


def _map_ids(uid: int, gid: int) -> None:
    """Map our own uid/gid into the new user namespace (root stays 0, others stay themselves)."""
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{gid} {gid} 1")


def setup_mounts(spec: HelperSpec, progress: Progress, report: mounts.MountReport,
                 pidns: bool) -> bool:
    """Mount layer; returns whether the private /dev (shm, ptys) is in place."""
    if not pidns:
        for name in (L.READ_ONLY_MOUNTS, L.PROTECTED, L.MASKS):
            progress.missing(name, "no mount namespace")
        return False
    if not _step(progress, L.MOUNTNS, mounts.make_private):
        for name in (L.READ_ONLY_MOUNTS, L.PROTECTED, L.MASKS):
            progress.missing(name, "mounts are not private")
        return False
    writable = spec.writable_roots + ([spec.private_tmp] if spec.private_tmp else [])

    def read_only_outside() -> None:
        keep = mounts.writable_flags(writable)
        mounts.readonly_everything()
        mounts.rebind_writable(keep)

    progress.attempt(L.READ_ONLY_MOUNTS, read_only_outside)
    _step(progress, L.PIDNS, mounts.mount_proc)
    private_dev = _step(progress, L.MOUNTNS, mounts.private_dev)
    progress.attempt(L.PROTECTED, lambda: mounts.protect(
        spec.writable_roots, spec.protected_subpaths, report, spec.read_only_paths))
    progress.attempt(L.MASKS, lambda: mounts.mask(spec.masked_paths, report,
                                                  spec.denied_paths))
    return private_dev


def hand_over_proxy_listener(spec: HelperSpec) -> None:
    """Inside the new network namespace: bring `lo` up, listen on 127.0.0.1:proxy_port and
    pass the listening socket to the runner (SCM_RIGHTS), whose proxy accepts on it. The
    command's only way out is that port (codex.sandbox.proxy)."""
    import fcntl
    import socket
    import struct

    siocsifflags, iff_up_loopback_running = 0x8914, 0x1 | 0x8 | 0x40
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ctl:
        fcntl.ioctl(ctl, siocsifflags, struct.pack("16sH14s", b"lo", iff_up_loopback_running,
                                                   b""))
    channel = socket.socket(fileno=spec.proxy_fd)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", spec.proxy_port or 0))
            listener.listen(128)
            socket.send_fds(channel, [b"L"], [listener.fileno()])
    finally:
        channel.close()
        spec.proxy_fd = None


def _step(progress: Progress, layer: str, step: Callable[[], object]) -> bool:
    """A sub-step of a layer already listed as applied: on failure the layer is withdrawn."""
    try:
        step()
    except OSError as exc:
        if layer in progress.applied:
            progress.applied.remove(layer)
        progress.missing(layer, reason(exc))
        return False
    return True


def drop_privileges(progress: Progress) -> None:
    """Lock securebits and empty every capability set (bounding, ambient, the rest)."""

    def drop() -> None:
        # Without CAP_SETPCAP neither securebits nor the bounding set can change; then the
        # process holds no capability at all, and no_new_privs (next layer) stops execve from
        # granting any, so emptying the other sets is the whole job.
        if _has_capabilities():
            sc.prctl(sc.PR_SET_SECUREBITS, SECUREBITS)
            for cap in range(sc.last_capability() + 1):
                sc.prctl(sc.PR_CAPBSET_DROP, cap)
        sc.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_CLEAR_ALL)
        sc.clear_capability_sets()

    progress.attempt(L.CAPS, drop)


def _has_capabilities() -> bool:
    """Whether any of our effective, permitted or inheritable capability sets is non-empty."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("CapEff:", "CapPrm:", "CapInh:")) and int(line.split()[1], 16):
                return True
    return False


def apply_landlock(spec: HelperSpec, progress: Progress, abi: int, abi_error: str,
                   private_dev: bool) -> None:
    """Landlock at the kernel's ABI; each Landlock-backed layer reported separately."""
    wanted = [L.LANDLOCK_FS] + ([] if spec.network else [L.LANDLOCK_NET]) + [
        L.LANDLOCK_SCOPE, L.LANDLOCK_LOG]
    too_old = [n for n in wanted if abi < L.LANDLOCK_MIN_ABI[n]]
    for name in too_old:
        progress.missing(name, abi_error or f"Landlock ABI {abi} < {L.LANDLOCK_MIN_ABI[name]}")
    if abi < 1:
        return
    writable = list(spec.writable_roots)
    if spec.private_tmp:
        writable.append(spec.private_tmp)
    devices = list(DEVICES)
    if private_dev:
        writable.append("/dev/shm")
        devices += ["/dev/pts", "/dev/ptmx"]
    ports = (spec.proxy_port,) if spec.proxy_port is not None else ()
    plan = landlock.plan_for(abi, writable, devices, spec.network, ports)
    try:
        applied = landlock.apply(plan)
    except OSError as exc:
        for name in wanted:
            if name not in too_old:
                progress.missing(name, reason(exc))
        return
    done = {L.LANDLOCK_FS: applied.fs, L.LANDLOCK_NET: applied.net,
            L.LANDLOCK_SCOPE: applied.scope, L.LANDLOCK_LOG: applied.log}
    progress.applied += [n for n in wanted if n not in too_old and done[n]]


def load_seccomp(spec: HelperSpec) -> None:
    # With the proxy, TCP sockets are needed to reach it; the namespace has nothing else.
    seccomp_filter.load(network=spec.network or spec.proxy_port is not None,
                        read_only=spec.read_only)


def supervise(child: int) -> int:
    """Outside the namespace: forward termination signals to init and relay its status."""
    for sig in FORWARDED_SIGNALS:
        signal.signal(sig, lambda signum, _frame: _forward(child, signum))
    while True:
        try:
            _, wstatus = os.waitpid(child, 0)
            break
        except ChildProcessError:
            return HELPER_FAILED
    return _exit_code(wstatus)


def _forward(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return


def _exit_code(wstatus: int) -> int:
    if os.WIFSIGNALED(wstatus):
        return 128 + os.WTERMSIG(wstatus)
    return os.WEXITSTATUS(wstatus)


def run_command(spec: HelperSpec, status: Status, pid1: bool) -> int:
    """Fork the command, reap everything until it ends, report how it ended.

    As PID 1 of the namespace, termination signals are forwarded to the command and our
    exit ends every other process in the namespace. Without a PID namespace we are a child
    subreaper instead: orphans come back to us, and a termination signal or the command's
    end kills every descendant left.
    """
    if not pid1:
        sc.prctl(PR_SET_CHILD_SUBREAPER, 1)
    command = os.fork()
    if command == 0:
        _exec(spec)
    for sig in FORWARDED_SIGNALS:
        if pid1:
            signal.signal(sig, lambda signum, _frame: _forward(command, signum))
        else:
            signal.signal(sig, _terminate_all)
    while True:
        try:
            pid, wstatus = os.wait()
        except ChildProcessError:
            return HELPER_FAILED
        if pid == command:
            break
    if not pid1:
        kill_descendants()
    if os.WIFSIGNALED(wstatus):
        signum = os.WTERMSIG(wstatus)
        status.send({"exit": {"code": 128 + signum, "signal": signum}})
        return 128 + signum
    code = os.WEXITSTATUS(wstatus)
    status.send({"exit": {"code": code, "signal": None}})
    return code


def _terminate_all(signum: int, _frame: object) -> None:
    kill_descendants()
    os._exit(128 + signum)


def kill_descendants() -> None:
    """SIGKILL every process below us until none is left (orphans reparent to us)."""
    while True:
        children = _children()
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        for _ in children:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break


def _children() -> list[int]:
    """Our direct children, from /proc (threads' children files, else a /proc scan)."""
    me = os.getpid()
    try:
        with open(f"/proc/self/task/{me}/children", encoding="ascii") as fh:
            return [int(pid) for pid in fh.read().split()]
    except OSError:
        pass
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
    return found


def _exec(spec: HelperSpec) -> None:
    """In the command's process: new session, default signals, exec. Never returns."""
    try:
        os.setsid()
        for sig in FORWARDED_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execvpe(spec.argv[0], spec.argv, spec.env)
    except OSError as exc:
        code = EXIT_NOT_FOUND if exc.errno == errno.ENOENT else EXIT_NOT_EXECUTABLE
        what = "command not found" if code == EXIT_NOT_FOUND else exc.strerror
        try:
            os.write(2, f"codex sandbox: {spec.argv[0]}: {what}\n".encode())
        finally:
            os._exit(code)
    os._exit(HELPER_FAILED)
