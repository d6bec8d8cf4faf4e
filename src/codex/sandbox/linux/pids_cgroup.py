"""A pids cgroup per run, so a fork bomb hits a wall even when RLIMIT_NPROC cannot.

RLIMIT_NPROC binds unprivileged users but not root (the kernel exempts the initial user
namespace's root user), so a root-run sandbox needs a pids controller. The runner creates
the group and removes it after the run; the helper moves itself in before it forks, so
everything the command starts is counted. Used only where this process may create
cgroups (root, or a delegated cgroup v2 subtree); otherwise the layer is reported missing.
"""

from __future__ import annotations

import os
import time

PIDS_MAX = 1024
_V1_ROOT = "/sys/fs/cgroup/pids"
_V2_ROOT = "/sys/fs/cgroup"


def _parent() -> str | None:
    """Where a child group can be made: cgroup v1's pids hierarchy, or a cgroup v2 group
    that delegates the pids controller to its children."""
    if os.path.isfile(os.path.join(_V1_ROOT, "cgroup.procs")):
        return _V1_ROOT if os.access(_V1_ROOT, os.W_OK) else None
    try:
        with open("/proc/self/cgroup", encoding="ascii") as fh:
            lines = fh.read().splitlines()
        with open(os.path.join(_V2_ROOT, "cgroup.controllers"), encoding="ascii"):
            pass
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None:
        return None
    parent = os.path.join(_V2_ROOT, own.lstrip("/"))
    try:
        with open(os.path.join(parent, "cgroup.subtree_control"), encoding="ascii") as fh:
            delegated = "pids" in fh.read().split()
    except OSError:
        return None
    return parent if delegated and os.access(parent, os.W_OK) else None


def available() -> bool:
    """Whether `create` can work here (for `codex doctor`)."""
    return _parent() is not None


def create(limit: int = PIDS_MAX) -> str | None:
    """Make a fresh pids group with `limit`; None when this machine does not let us."""
    parent = _parent()
    if parent is None:
        return None
    path = os.path.join(parent, f"codex-sandbox-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        os.mkdir(path, 0o755)
    except OSError:
        return None
    try:
        with open(os.path.join(path, "pids.max"), "w", encoding="ascii") as fh:
            fh.write(str(limit))
    except OSError:
        remove(path)
        return None
    return path


def join(path: str) -> None:
    """Move the calling process into the group (its future children follow)."""
    with open(os.path.join(path, "cgroup.procs"), "w", encoding="ascii") as fh:
        fh.write(str(os.getpid()))


def remove(path: str, wait_s: float = 2.0) -> None:
    """Remove the group once its last process is gone (exiting processes linger briefly)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)
