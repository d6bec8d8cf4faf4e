"""A run prepared before its guards decide (`prepare` / `PreparedRun`): the helper confines
itself at once, but the command starts only on `finish`; an abandoned or unfitting prepared
run ends without leaving a process, a temp dir or a cgroup behind.

Oracles: files the command would write, the command's output and exit code, and /proc.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest
from sbx_support import codex, needs_sandbox, policy

from codex.sandbox import SandboxRequest, run_sandboxed
from codex.sandbox.runner import SandboxError, prepare
from support.procs import pids_with


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def request(profile: str, argv: list[str], workspace: Path, **kwargs: object) -> SandboxRequest:
    return SandboxRequest(policy=policy(profile, workspace), argv=argv, cwd=workspace,
                          capture=True, timeout_s=60.0, **kwargs)  # type: ignore[arg-type]


@needs_sandbox
def test_the_command_waits_for_finish(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    req = request("workspace-write", ["sh", "-c", f"echo started > {marker}; echo out"],
                  tmp_path)
    # Control: the same request, run directly, writes the marker.
    run_sandboxed(req)
    assert marker.read_text() == "started\n"
    marker.unlink()
    prepared = prepare(req)
    time.sleep(0.5)  # ample time for the helper to boot, confine itself and wait
    assert not marker.exists()
    result = run_sandboxed(dataclasses.replace(req, prepared=prepared))
    assert (result.exit_code, result.stdout) == (0, b"out\n")
    assert marker.read_text() == "started\n"
    with pytest.raises(SandboxError):
        prepared.finish(req)  # once only


@needs_sandbox
def test_an_abandoned_run_never_starts_and_cleans_up(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    req = request("workspace-write", ["sh", "-c", f"echo x > {marker}"], tmp_path)
    prepared = prepare(req)
    proc = prepared.proc
    assert proc is not None
    private_tmp, cgroup = prepared.setup.private_tmp, prepared.setup.cgroup
    assert private_tmp is not None and os.path.isdir(private_tmp)
    time.sleep(0.3)
    assert alive(proc.pid)
    prepared.abandon()
    prepared.abandon()  # idempotent
    assert not alive(proc.pid)
    assert not os.path.exists(private_tmp)
    if cgroup is not None:  # root only: a pids cgroup per confined run
        assert not os.path.exists(cgroup)
    time.sleep(0.2)
    assert not marker.exists()


@needs_sandbox
def test_a_prepared_run_serves_only_its_own_request(tmp_path: Path) -> None:
    prepared = prepare(request("offline", ["echo", "prepared"], tmp_path))
    proc = prepared.proc
    assert proc is not None
    other = request("offline", ["echo", "other"], tmp_path, prepared=prepared)
    result = run_sandboxed(other)
    assert result.stdout == b"other\n"
    assert prepared.proc is None and not alive(proc.pid)


def test_a_refused_command_leaves_no_helper(tmp_path: Path) -> None:
    before = helper_pids()
    result = codex("sandbox", "--", "sudo", "true", cwd=tmp_path)
    assert result.returncode == 1
    assert b"forbidden" in result.stderr
    assert not helper_pids() - before


def helper_pids() -> set[int]:
    """Live processes running the sandbox helper entry point, ours or anyone's."""
    return {pid for pid in pids_with("__codex_sandbox_helper__") if alive(pid)}
