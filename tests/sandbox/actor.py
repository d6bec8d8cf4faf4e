"""The sandboxed actor: one small program that attempts one forbidden (or allowed) action.

Run as `python actor.py ACTION NONCE ARGS...`. The nonce sits in argv so the test can find the
process in /proc from outside. The actor never judges itself: whatever it prints is only
synchronisation (`READY`) or material the test searches for leaked secrets; the verdict comes
from an oracle the test owns (a listener, a file, a victim process, /proc seen from outside).
Errors are expected and swallowed: a denied action simply leaves no trace.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import platform
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable

LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
HOLD_SECONDS = 20.0

# Syscall numbers without a glibc wrapper, per architecture.
SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "add_key": 248, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "io_uring_setup": 425, "pidfd_open": 434, "pidfd_getfd": 438,
    },
    "aarch64": {
        "add_key": 217, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "io_uring_setup": 425, "pidfd_open": 434, "pidfd_getfd": 438,
    },
}


def nr(name: str) -> int:
    return SYSCALLS[platform.machine()][name]


def report(what: str) -> None:
    """Say what happened (for humans reading a failure; the test does not trust it)."""
    print(what, flush=True)


def ready_and_hold() -> None:
    """Tell the test the attempt is over, then stay alive so /proc can be inspected."""
    print("READY", flush=True)
    time.sleep(HOLD_SECONDS)


def attempt(label: str, fn: Callable[[], object]) -> object | None:
    try:
        result = fn()
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, exc.errno)
        report(f"{label}: {exc.__class__.__name__} {code}")
        return None
    report(f"{label}: ok {result!r}")
    return result


def check(result: int, label: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{label}: {os.strerror(err)}")
    return result


# --- network ---------------------------------------------------------------------------

def family_of(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_connect(host: str, port: str, nonce: str) -> None:
    def go() -> None:
        with socket.create_connection((host, int(port)), timeout=3) as conn:
            conn.sendall(nonce.encode())
    attempt("tcp_connect", go)


def udp_send(host: str, port: str, nonce: str) -> None:
    def go() -> None:
        with socket.socket(family_of(host), socket.SOCK_DGRAM) as sock:
            for _ in range(3):
                sock.sendto(nonce.encode(), (host, int(port)))
                time.sleep(0.05)
    attempt("udp_send", go)


def dns_query(host: str, port: str, nonce: str) -> None:
    """A real DNS question for `<nonce>.example.` over UDP."""
    header = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in (nonce, "example")) + b"\0"
    packet = header + qname + struct.pack(">HH", 1, 1)

    def go() -> None:
        with socket.socket(family_of(host), socket.SOCK_DGRAM) as sock:
            sock.sendto(packet, (host, int(port)))
    attempt("dns_query", go)


def resolve(name: str) -> None:
    attempt("getaddrinfo", lambda: socket.getaddrinfo(name, 80))


def tcp_listen(port: str, nonce: str) -> None:
    """Listen where the test will try to connect; greet whoever comes with the nonce."""
    srv = attempt("listen", lambda: socket.create_server(("127.0.0.1", int(port))))
    print("READY", flush=True)
    if not isinstance(srv, socket.socket):
        time.sleep(3)
        return
    srv.settimeout(8)
    with contextlib.suppress(OSError):
        conn, _ = srv.accept()
        conn.sendall(nonce.encode())
        conn.close()


def open_socket(family: str, kind: str, proto: str) -> None:
    fam, typ, prt = int(family), int(kind), int(proto)
    attempt("socket", lambda: socket.socket(fam, typ, prt).detach())
    ready_and_hold()


def unix_send(path: str, kind: str, nonce: str) -> None:
    address = "\0" + path[1:] if path.startswith("@") else path
    typ = socket.SOCK_STREAM if kind == "stream" else socket.SOCK_DGRAM

    def go() -> None:
        with socket.socket(socket.AF_UNIX, typ) as sock:
            sock.settimeout(3)
            if typ == socket.SOCK_STREAM:
                sock.connect(address)
                sock.sendall(nonce.encode())
            else:
                sock.sendto(nonce.encode(), address)
    attempt("unix_send", go)


def setns_connect(pid: str, port: str, nonce: str) -> None:
    """Join the victim's (host) network namespace, then phone home."""
    def go() -> int:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        return check(LIBC.setns(fd, 0), "setns")
    attempt("setns", go)
    tcp_connect("127.0.0.1", port, nonce)


# --- filesystem --------------------------------------------------------------------------

def write(path: str, data: str) -> None:
    def go() -> None:
        with open(path, "w") as fh:
            fh.write(data)
    attempt("write", go)


def append(path: str, data: str) -> None:
    def go() -> None:
        with open(path, "a") as fh:
            fh.write(data)
    attempt("append", go)


def symlink_write(link: str, target: str, data: str, through: str = "") -> None:
    """Plant a symlink pointing out, then write through it (or through `through`)."""
    attempt("symlink", lambda: os.symlink(target, link))
    write(through or link, data)


def setuid_bit(path: str) -> None:
    attempt("chmod", lambda: os.chmod(path, 0o4755))
    attempt("chmod-setgid", lambda: os.chmod(path, 0o2755))


def write_fd(fd: str, data: str) -> None:
    attempt("write_fd", lambda: os.write(int(fd), data.encode()))


def reopen_fd(fd: str, data: str) -> None:
    """Upgrade a read-only inherited descriptor by re-opening it through /proc."""
    def go() -> None:
        with open(f"/proc/self/fd/{fd}", "a") as fh:
            fh.write(data)
    attempt("reopen", go)


def proc_fd_scan(target: str, data: str) -> None:
    """Find any process holding `target` open and write through its /proc fd link."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = f"/proc/{pid}/fd/{fd}"
                with contextlib.suppress(OSError):
                    if os.readlink(link) == target:
                        append(link, data)


def mknod(path: str) -> None:
    import stat
    attempt("mknod", lambda: os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3)))


def dump(*paths: str) -> None:
    """Print the files (a secret that reaches stdout reaches the model)."""
    for path in paths:
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            sys.stdout.write(fh.read().decode(errors="replace") + "\n")
        with contextlib.suppress(OSError):
            for name in os.listdir(path):
                dump(os.path.join(path, name))
    sys.stdout.flush()


def git_fsmonitor(command: str) -> None:
    attempt("git", lambda: subprocess.run(
        ["git", "config", "core.fsmonitor", command], check=True).returncode)


def replace_git(data: str) -> None:
    """Move .git aside and rebuild it with a hook, dodging any mount over .git/hooks."""
    attempt("rename", lambda: os.rename(".git", ".git-aside"))
    attempt("mkdir", lambda: os.makedirs(".git/hooks", exist_ok=True))
    write(".git/hooks/pre-commit", data)
    write(".git/config", data)


def replace_dir(directory: str, name: str, data: str) -> None:
    """Swap a protected directory for a fresh one containing `name`."""
    attempt("rename", lambda: os.rename(directory, directory + "-aside"))
    attempt("mkdir", lambda: os.makedirs(directory, exist_ok=True))
    write(os.path.join(directory, name), data)


def umount_write(mountpoint: str, path: str, data: str) -> None:
    """Try to peel a read-only mount off a protected path, then write below it."""
    mnt_detach, ms_remount, ms_bind = 2, 32, 4096
    attempt("umount", lambda: check(LIBC.umount2(mountpoint.encode(), mnt_detach), "umount"))
    attempt("remount", lambda: check(LIBC.mount(None, mountpoint.encode(), None,
                                                ms_remount | ms_bind, None), "mount"))
    write(path, data)


def mount_tmpfs(target: str) -> None:
    attempt("mount", lambda: check(LIBC.mount(b"codexescape", target.encode(), b"tmpfs", 0,
                                              None), "mount"))
    ready_and_hold()


def sparse(path: str, offset: str) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def go() -> int:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            return os.pwrite(fd, b"x", int(offset))
        finally:
            os.close(fd)
    attempt("pwrite", go)


def open_by_handle(path: str, data: str) -> None:
    """Re-open a file through a file handle, bypassing path-based checks."""
    class Handle(ctypes.Structure):
        _fields_ = (("bytes", ctypes.c_uint), ("type", ctypes.c_int),
                    ("f_handle", ctypes.c_ubyte * 128))

    def go() -> int:
        handle = Handle(bytes=128)
        mount_id = ctypes.c_int()
        at_fdcwd = -100
        check(LIBC.name_to_handle_at(at_fdcwd, path.encode(), ctypes.byref(handle),
                                     ctypes.byref(mount_id), 0), "name_to_handle_at")
        mount_fd = os.open(os.path.dirname(path), os.O_RDONLY)
        fd = check(LIBC.open_by_handle_at(mount_fd, ctypes.byref(handle),
                                          os.O_WRONLY | os.O_APPEND), "open_by_handle_at")
        return os.write(fd, data.encode())
    attempt("open_by_handle_at", go)


# --- processes ---------------------------------------------------------------------------

def ptrace_attach(pid: str) -> None:
    ptrace_attach_req = 16
    LIBC.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    attempt("ptrace", lambda: check(LIBC.ptrace(ptrace_attach_req, int(pid), None, None),
                                    "ptrace"))
    ready_and_hold()


def mem_write(pid: str, address: str, data: str) -> None:
    def go() -> int:
        with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
            mem.seek(int(address))
            return mem.write(data.encode())
    attempt("mem_write", go)


def vm_write(pid: str, address: str, data: str) -> None:
    class IOVec(ctypes.Structure):
        _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))

    payload = ctypes.create_string_buffer(data.encode())
    local = IOVec(ctypes.cast(payload, ctypes.c_void_p), len(data))
    remote = IOVec(int(address), len(data))
    LIBC.process_vm_writev.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong,
                                       ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong)
    attempt("process_vm_writev", lambda: check(LIBC.process_vm_writev(
        int(pid), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0), "process_vm_writev"))


def environ_dump(*pids: str) -> None:
    """Print every environment this process can see (the supervisor's, the victim's...)."""
    targets = list(pids) or [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in [*targets, "self"]:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/environ", "rb") as fh:
            sys.stdout.write(fh.read().replace(b"\0", b"\n").decode(errors="replace"))
    sys.stdout.write("\n".join(f"{k}={v}" for k, v in os.environ.items()) + "\n")
    sys.stdout.flush()


def send_signal(pid: str, group: str) -> None:
    if group == "group":
        attempt("killpg", lambda: os.killpg(int(pid), signal.SIGKILL))
    else:
        attempt("kill", lambda: os.kill(int(pid), signal.SIGKILL))


def unshare(flags: str) -> None:
    """Fork a witness that stays in the original namespaces, then unshare."""
    witness = os.fork()
    if witness == 0:
        time.sleep(HOLD_SECONDS)
        os._exit(0)
    attempt("unshare", lambda: check(LIBC.unshare(int(flags, 0)), "unshare"))
    if os.fork() == 0:  # a child is what enters a new PID namespace
        time.sleep(HOLD_SECONDS)
        os._exit(0)
    report(f"WITNESS {witness}")
    ready_and_hold()


def daemon(seconds: str) -> None:
    """Double-fork into a new session so a careless supervisor leaves us running."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            time.sleep(float(seconds))
        os._exit(0)
    time.sleep(0.2)


def sleep(seconds: str) -> None:
    time.sleep(float(seconds))


def forkbomb(count: str) -> None:
    """Fork up to `count` sleeping children; a process limit must stop us early."""
    made = 0
    for _ in range(int(count)):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(HOLD_SECONDS)
            os._exit(0)
        made += 1
    report(f"forked {made}")
    ready_and_hold()


def pidfd_steal(pid: str, target_fd: str, data: str) -> None:
    """Copy a descriptor out of another process with pidfd_getfd and write through it."""
    def go() -> int:
        pidfd = check(LIBC.syscall(nr("pidfd_open"), int(pid), 0), "pidfd_open")
        fd = check(LIBC.syscall(nr("pidfd_getfd"), pidfd, int(target_fd), 0), "pidfd_getfd")
        return os.write(fd, data.encode())
    attempt("pidfd_getfd", go)


def hold() -> None:
    ready_and_hold()


# --- terminal ----------------------------------------------------------------------------

def inject(fd: int, text: str) -> None:
    with contextlib.suppress(OSError):
        os.setsid()
    attempt("TIOCSCTTY", lambda: fcntl.ioctl(fd, termios.TIOCSCTTY, 0))
    for ch in text:
        if attempt("TIOCSTI", lambda c=ch: fcntl.ioctl(fd, termios.TIOCSTI, c.encode())) is None:
            break


def tiocsti(fd: str, text: str) -> None:
    inject(int(fd), text + "\n")


def tiocsti_path(path: str, text: str) -> None:
    fd = attempt("open", lambda: os.open(path, os.O_RDWR | os.O_NOCTTY))
    if isinstance(fd, int):
        inject(fd, text + "\n")


# --- kernel interfaces --------------------------------------------------------------------

def add_key(description: str) -> None:
    key_spec_process_keyring = -2
    LIBC.syscall.restype = ctypes.c_long
    attempt("add_key", lambda: check(LIBC.syscall(
        nr("add_key"), b"user", description.encode(), b"payload", 7,
        key_spec_process_keyring), "add_key"))
    ready_and_hold()


def bpf_map() -> None:
    bpf_map_create, bpf_map_type_array = 0, 2
    attr = ctypes.create_string_buffer(struct.pack("IIII", bpf_map_type_array, 4, 8, 1), 128)
    attempt("bpf", lambda: check(LIBC.syscall(nr("bpf"), bpf_map_create, attr, 128), "bpf"))
    ready_and_hold()


def perf_event() -> None:
    perf_type_software, sw_cpu_clock = 1, 0
    exclude_kernel_and_hv = (1 << 5) | (1 << 6)
    attr = ctypes.create_string_buffer(
        struct.pack("IIQQQQQ", perf_type_software, 128, sw_cpu_clock, 0, 0, 0,
                    exclude_kernel_and_hv), 128)
    attempt("perf_event_open", lambda: check(LIBC.syscall(
        nr("perf_event_open"), attr, 0, -1, -1, 0), "perf_event_open"))
    ready_and_hold()


def userfaultfd() -> None:
    uffd_user_mode_only = 1
    attempt("userfaultfd", lambda: check(LIBC.syscall(
        nr("userfaultfd"), os.O_CLOEXEC | uffd_user_mode_only), "userfaultfd"))
    ready_and_hold()


def io_uring() -> None:
    params = ctypes.create_string_buffer(120)
    attempt("io_uring_setup", lambda: check(LIBC.syscall(
        nr("io_uring_setup"), 4, params), "io_uring_setup"))
    ready_and_hold()


def env() -> None:
    environ_dump("self")


def stdin_isatty() -> None:
    report(f"isatty {os.isatty(0)}")
    ready_and_hold()


ACTIONS: dict[str, Callable[..., None]] = {
    fn.__name__: fn for fn in (
        tcp_connect, udp_send, dns_query, resolve, tcp_listen, open_socket, unix_send,
        setns_connect, write, append, symlink_write, setuid_bit, write_fd, reopen_fd,
        proc_fd_scan, mknod, dump, git_fsmonitor, replace_git, replace_dir, umount_write,
        mount_tmpfs, sparse, open_by_handle, ptrace_attach, mem_write, vm_write, environ_dump,
        send_signal, unshare, daemon, sleep, forkbomb, pidfd_steal, hold, tiocsti, tiocsti_path,
        add_key, bpf_map, perf_event, userfaultfd, io_uring, env, stdin_isatty,
    )
}
ACTIONS.update({
    "truncate": lambda path: attempt("truncate", lambda: os.truncate(path, 0)),
    "unlink": lambda path: attempt("unlink", lambda: os.unlink(path)),
    "rename": lambda src, dst: attempt("rename", lambda: os.rename(src, dst)),
    "link": lambda src, dst: attempt("link", lambda: os.link(src, dst)),
    "chmod": lambda path, mode: attempt("chmod", lambda: os.chmod(path, int(mode, 8))),
    "chown": lambda path, uid, gid: attempt("chown", lambda: os.chown(path, int(uid), int(gid))),
    "utime": lambda path, t: attempt("utime", lambda: os.utime(path, (float(t), float(t)))),
    "setxattr": lambda path, name, value: attempt(
        "setxattr", lambda: os.setxattr(path, name, value.encode())),
})


def main() -> None:
    action, token, *args = sys.argv[1:]
    print(f"ACTOR-STARTED {token}", flush=True)
    ACTIONS[action](*args)


if __name__ == "__main__":
    main()
