"""Stopping the commands of an interrupted turn.

Tool calls run in worker threads (the guard chain is synchronous), so cancelling the asyncio
task cannot reach them. Every command runs under a sandbox helper that this process started as
the leader of a new session (its process group id is its pid); killing that group ends the
command and everything it started (a confined run also loses its PID namespace). The runner in
the worker thread then sees its child gone and returns, so the thread finishes promptly.
Several sessions share one process under the supervisor, so a turn kills only the helpers its
own tool threads started (Linux lists a thread's children in /proc/self/task/TID/children).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from contextlib import suppress

from codex.sandbox.linux import HELPER_TOKEN
from codex.sandbox.runner import PIPED_PIDS


def running_helpers(parent: int | None = None,
                    threads: Iterable[int] | None = None) -> list[int]:
    """Pids of the sandbox helpers that are direct children of `parent` (default: us), or,
    with `threads`, of those threads of ours only."""
    parent = os.getpid() if parent is None else parent
    pids: list[int] = []
    try:
        entries = os.listdir("/proc") if threads is None else _children_of(threads)
    except OSError:
        return pids
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            # the fields after the parenthesised command name: state, ppid, ...
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            if ppid != parent:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if HELPER_TOKEN.encode() in handle.read().split(b"\0"):
                    pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _children_of(threads: Iterable[int]) -> list[str]:
    children: list[str] = []
    for tid in threads:
        with suppress(OSError), open(f"/proc/self/task/{tid}/children", "rb") as handle:
            children.extend(word.decode() for word in handle.read().split())
    return children


def kill_running_commands(threads: Iterable[int] | None = None) -> int:
    """SIGKILL the process group of every sandbox helper we started (with `threads`: that
    those threads started); how many were killed."""
    killed = 0
    for pid in running_helpers(threads=threads):
        if pid in PIPED_PIDS:  # session-long servers (MCP) are not the turn's commands
            continue
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
            killed += 1
    return killed
