"""`codex sandbox` as users and scripts see it: exit codes, --json, warnings, refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sbx_support import codex, needs_sandbox

from codex.sandbox import hardlinks

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("args,needle", [
    ((), "no command given"),
    (("--timeout", "0", "--", "true"), "--timeout"),
    (("--profile", "bogus", "--", "true"), "bogus"),
    (("--writable-root", "/tmp", "--", "true"), "needs a write profile"),
    (("--env", "1BAD", "--", "true"), "--env"),
])
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...], needle: str,
                                           workspace: Path) -> None:
    proc = codex("sandbox", *args, cwd=workspace)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr.decode()


def test_help_teaches_the_exit_codes() -> None:
    proc = codex("sandbox", "--help")
    text = proc.stdout.decode()
    assert proc.returncode == 0
    for needle in ("126", "127", "124", "--allow-degraded", "--json", "--writable-root"):
        assert needle in text


@needs_sandbox
def test_json_result_object(workspace: Path) -> None:
    proc = codex("sandbox", "--json", "--", "sh", "-c", "echo hi; exit 4", cwd=workspace)
    assert proc.returncode == 4
    data = json.loads(proc.stdout)
    assert data["exit_code"] == 4 and data["stdout"] == "hi\n"
    assert data["profile"] == "offline" and data["degraded"] == []
    for layer in ("user-namespace", "network-namespace", "landlock-fs", "seccomp"):
        assert layer in data["layers"]
    assert isinstance(data["duration_ms"], float)


@needs_sandbox
def test_workspace_write_must_show(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git" / "hooks").mkdir(parents=True)
    hook = ws / ".git" / "hooks" / "pre-commit"
    hook.write_text("safe\n")
    ok = codex("sandbox", "--profile", "workspace-write", "-C", "ws", "--", "touch", "ws/a",
               cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (ws / "a").exists()
    bad = codex("sandbox", "--profile", "workspace-write", "-C", "ws", "--", "sh", "-c",
                "echo evil > ws/.git/hooks/pre-commit", cwd=tmp_path)
    assert bad.returncode != 0
    assert hook.read_text() == "safe\n"


@needs_sandbox
def test_hard_links_are_warned_and_listed(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    os.link(outside, workspace / "innocent.txt")
    human = codex("sandbox", "--profile", "workspace-write", "--", "true", cwd=workspace)
    assert human.returncode == 0
    assert "hard links" in human.stderr.decode()
    assert str(workspace / "innocent.txt") in human.stderr.decode()
    machine = codex("sandbox", "--profile", "workspace-write", "--json", "--", "true",
                    cwd=workspace)
    assert json.loads(machine.stdout)["hardlinks"] == [str(workspace / "innocent.txt")]
    quiet = codex("sandbox", "--profile", "offline", "--", "true", cwd=workspace)
    assert "hard links" not in quiet.stderr.decode(), "read-only profiles cannot write links"


def test_hard_link_scan_is_bounded(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i}").write_text("x")
        os.link(tmp_path / f"f{i}", tmp_path / f"g{i}")
    full = hardlinks.scan([str(tmp_path)])
    assert len(full.paths) == 60 and not full.truncated
    capped = hardlinks.scan([str(tmp_path)], max_entries=10)
    assert capped.truncated and len(capped.paths) <= 10
    few = hardlinks.scan([str(tmp_path)], max_reported=5)
    assert few.truncated and len(few.paths) == 5
    hurried = hardlinks.scan([str(tmp_path)], max_seconds=0)
    assert hurried.truncated


@needs_sandbox
def test_missing_layer_refuses_then_degrades_on_request(workspace: Path) -> None:
    """Inside a sandbox, user namespaces are denied (seccomp), so a nested `codex sandbox`
    cannot build its namespaces: it must refuse, naming the layer, unless degrading is
    explicitly allowed, and then record what it ran without."""
    # Auditing off for the inner run: its CODEX_HOME is read-only inside the outer sandbox.
    inner = [sys.executable, "-m", "codex", "-c", "audit.enabled=false", "sandbox"]
    refused = codex("sandbox", "--", *inner, "--", "true", cwd=workspace)
    assert refused.returncode == 1
    assert "user-namespace unavailable" in refused.stderr.decode()
    assert "--allow-degraded" in refused.stderr.decode()
    degraded = codex("sandbox", "--", *inner, "--allow-degraded", "--json", "--", "true",
                     cwd=workspace)
    assert degraded.returncode == 0, degraded.stderr
    data = json.loads(degraded.stdout)
    assert data["degraded_allowed"] is True
    assert {"user-namespace", "pid-namespace"} <= {d["layer"] for d in data["degraded"]}
    assert {"landlock-fs", "seccomp", "no-new-privs"} <= set(data["layers"])


@needs_sandbox
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to switch to uid 65534")
def test_unprivileged_uid_gets_every_layer() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # pytest's tmp_path is root-only
        os.chown(tmp, 65534, 65534)  # HOME and CODEX_HOME (audit log) of the unprivileged user
        proc = subprocess.run(
            ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
             sys.executable, "-m", "codex", "sandbox", "--json", "--", "id", "-u"],
            cwd=tmp, capture_output=True, timeout=60, check=False,
            env={**os.environ, "HOME": tmp, "CODEX_HOME": os.path.join(tmp, ".codex")})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stdout"] == "65534\n"
    assert data["degraded"] == []
    assert {"user-namespace", "capability-drop", "landlock-fs", "seccomp"} <= set(data["layers"])
