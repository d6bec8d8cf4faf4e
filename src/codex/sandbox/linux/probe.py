"""What confinement this kernel offers, asked of the kernel itself rather than assumed.

`probe()` is cheap enough for `codex doctor`: a handful of reads under /proc/sys, one
Landlock syscall, one prctl, and (optionally) a forked child that tries to unshare a user
namespace. The helper does not call `probe()`: it simply applies each layer and reports a
failure as a missing layer, which is the same answer without a second trip to the kernel.
"""

from __future__ import annotations

import ctypes
import errno
import os

from codex.sandbox.linux import syscalls

LANDLOCK_CREATE_RULESET_VERSION = 1 << 0

SYSCTLS: tuple[str, ...] = (
    "kernel/unprivileged_userns_clone",
    "user/max_user_namespaces",
    "kernel/yama/ptrace_scope",
    "kernel/unprivileged_bpf_disabled",
    "kernel/perf_event_paranoid",
    "kernel/apparmor_restrict_unprivileged_userns",
    "kernel/seccomp/actions_avail",
    "dev/tty/legacy_tiocsti",
)

SUPPORTED_ARCHES: tuple[str, ...] = ("x86_64", "aarch64")


class KernelFeatures:
    """Facts about the running kernel that decide which sandbox layers can be enforced."""

    def __init__(self, *, arch: str, landlock_abi: int, landlock_error: str, seccomp: bool,
                 seccomp_error: str, userns: bool | None, userns_error: str,
                 sysctls: dict[str, str], uid: int) -> None:
        self.arch = arch
        self.landlock_abi = landlock_abi
        self.landlock_error = landlock_error
        self.seccomp = seccomp
        self.seccomp_error = seccomp_error
        self.userns = userns
        self.userns_error = userns_error
        self.sysctls = sysctls
        self.uid = uid

    @property
    def arch_supported(self) -> bool:
        return self.arch in SUPPORTED_ARCHES

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (for `codex doctor --json`)."""
        return {
            "arch": self.arch,
            "landlock_abi": self.landlock_abi,
            "landlock_error": self.landlock_error,
            "seccomp": self.seccomp,
            "seccomp_error": self.seccomp_error,
            "userns": self.userns,
            "userns_error": self.userns_error,
            "sysctls": dict(self.sysctls),
            "uid": self.uid,
        }


def landlock_abi() -> tuple[int, str]:
    """The Landlock ABI version (0 when unavailable) and why it is unavailable."""
    if syscalls.MACHINE not in SUPPORTED_ARCHES:
        return 0, f"unsupported architecture {syscalls.MACHINE}"
    try:
        version = syscalls.syscall(
            syscalls.SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
            ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION), what="landlock_create_ruleset")
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            return 0, "kernel built without Landlock (ENOSYS)"
        if exc.errno == errno.EOPNOTSUPP:
            return 0, "Landlock disabled at boot (add landlock to the lsm= kernel parameter)"
        return 0, f"landlock_create_ruleset failed: {exc.strerror}"
    return version, ""


def seccomp_status() -> tuple[bool, str]:
    """Whether this process can install a seccomp filter that kills on a foreign ABI."""
    if syscalls.MACHINE not in SUPPORTED_ARCHES:
        return False, f"no seccomp filter for architecture {syscalls.MACHINE}"
    try:
        mode = syscalls.prctl(syscalls.PR_GET_SECCOMP)
    except OSError as exc:
        return False, f"kernel built without seccomp ({exc.strerror})"
    if mode == 1:
        return False, "process is in seccomp strict mode"
    actions = read_sysctl("kernel/seccomp/actions_avail")
    if actions is not None and "kill_process" not in actions.split():
        return False, "seccomp lacks the kill_process action"
    return True, ""


def read_sysctl(name: str) -> str | None:
    """The value of /proc/sys/<name>, or None when absent or unreadable."""
    try:
        with open(f"/proc/sys/{name}", encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def userns_status(trial: bool = True) -> tuple[bool | None, str]:
    """Whether this uid can create a user namespace.

    The sysctls give a quick answer; `trial` confirms it by unsharing in a forked child,
    because LSMs (AppArmor) and container seccomp profiles can refuse what sysctls allow.
    None means "not known" (no trial and nothing in the sysctls forbids it).
    """
    if read_sysctl("kernel/unprivileged_userns_clone") == "0" and os.geteuid() != 0:
        return False, "kernel.unprivileged_userns_clone = 0"
    if read_sysctl("user/max_user_namespaces") == "0":
        return False, "user.max_user_namespaces = 0"
    if not trial:
        return None, ""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            syscalls.unshare(syscalls.CLONE_NEWUSER)
        except OSError as exc:
            os._exit(exc.errno or 1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return True, ""
    reason = os.strerror(code) if code > 0 else f"trial child killed by signal {-code}"
    if read_sysctl("kernel/apparmor_restrict_unprivileged_userns") == "1":
        reason += " (AppArmor restricts unprivileged user namespaces)"
    return False, f"unshare(CLONE_NEWUSER) failed: {reason}"


def probe(userns_trial: bool = True) -> KernelFeatures:
    """Ask the kernel what it offers right now."""
    abi, ll_err = landlock_abi()
    sc_ok, sc_err = seccomp_status()
    uns, uns_err = userns_status(trial=userns_trial)
    sysctls = {name.replace("/", "."): value for name in SYSCTLS
               if (value := read_sysctl(name)) is not None}
    return KernelFeatures(
        arch=syscalls.MACHINE, landlock_abi=abi, landlock_error=ll_err, seccomp=sc_ok,
        seccomp_error=sc_err, userns=uns, userns_error=uns_err, sysctls=sysctls,
        uid=os.geteuid())
