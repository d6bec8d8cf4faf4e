"""A helper started before its spec (`HelperLaunch`): it serves the run that fits it, and one
that is never used, or cannot serve the request, ends without leaving a process behind.

Oracles: the command's output and exit code, and /proc for the helper's pid.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sbx_support import codex, needs_sandbox, run

from codex.sandbox.runner import HelperLaunch


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@needs_sandbox
def test_a_fitting_launch_runs_the_command(tmp_path: Path) -> None:
    launch = HelperLaunch.start(capture=True)
    proc = launch.proc
    assert proc is not None
    result = run("offline", ["sh", "-c", "echo inside; exit 7"], tmp_path, launch=launch)
    assert (result.exit_code, result.stdout) == (7, b"inside\n")
    assert launch.proc is None  # taken: a second run cannot reuse it
    assert not alive(proc.pid)
    again = run("offline", ["sh", "-c", "echo again"], tmp_path, launch=launch)
    assert again.stdout == b"again\n"  # served by a fresh helper


@needs_sandbox
def test_a_launch_that_does_not_fit_is_ended(tmp_path: Path) -> None:
    launch = HelperLaunch.start(capture=False)  # pass-through; the run below captures
    proc = launch.proc
    assert proc is not None and alive(proc.pid)
    result = run("offline", ["echo", "captured"], tmp_path, launch=launch)
    assert result.stdout == b"captured\n"
    assert launch.proc is None
    assert not alive(proc.pid)


def test_an_unused_launch_is_discarded() -> None:
    launch = HelperLaunch.start(capture=True)
    proc = launch.proc
    assert proc is not None
    time.sleep(0.2)  # let it boot and block on the spec pipe
    assert alive(proc.pid)
    launch.discard()
    launch.discard()  # idempotent
    assert not alive(proc.pid)


def test_a_refused_command_leaves_no_helper(tmp_path: Path) -> None:
    before = helper_pids()
    result = codex("sandbox", "--", "sudo", "true", cwd=tmp_path)
    assert result.returncode == 1
    assert b"forbidden" in result.stderr
    assert not helper_pids() - before


def helper_pids() -> set[int]:
    """Processes running the sandbox helper entry point, ours or anyone's."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"__codex_sandbox_helper__" in cmdline and alive(int(entry)):
                found.add(int(entry))
    return found
