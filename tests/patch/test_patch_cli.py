"""`codex apply-patch` as a user runs it: a real subprocess, exit codes, stdin, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from patch_helpers import envelope, snapshot

pytestmark = pytest.mark.timeout(120)

ADD = envelope("*** Add File: hello.txt", "+hello")


def codex(args: list[str], cwd: Path, home: Path, stdin: str | None = None
          ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
    env["CODEX_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "codex", *args], cwd=cwd, env=env, input=stdin,
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "codex-home"
    path.mkdir()
    return path


def test_applies_patch_from_stdin(ws: Path, home: Path) -> None:
    result = codex(["--profile", "workspace-write", "apply-patch"], ws, home, stdin=ADD)
    assert result.returncode == 0, result.stderr
    assert (ws / "hello.txt").read_text() == "hello\n"
    assert result.stdout == "Success. Updated the following files:\nA hello.txt\n"


def test_applies_patch_from_file_with_dash_c(tmp_path: Path, ws: Path, home: Path) -> None:
    patch_file = tmp_path / "fix.patch"
    patch_file.write_text(ADD)
    result = codex(["--profile", "workspace-write", "-C", str(ws), "apply-patch",
                    str(patch_file)], tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert (ws / "hello.txt").read_text() == "hello\n"


def test_dash_reads_stdin(ws: Path, home: Path) -> None:
    result = codex(["--profile", "workspace", "apply-patch", "-"], ws, home, stdin=ADD)
    assert result.returncode == 0, result.stderr
    assert (ws / "hello.txt").exists()


def test_default_offline_profile_explains_how_to_write(ws: Path, home: Path) -> None:
    result = codex(["apply-patch"], ws, home, stdin=ADD)
    assert result.returncode == 1
    assert not (ws / "hello.txt").exists()
    assert "'offline' security profile does not allow writing" in result.stderr
    assert "--profile workspace-write" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_profile_is_followed(ws: Path, home: Path) -> None:
    (home / "config.toml").write_text('security_profile = "workspace-write"\n')
    result = codex(["apply-patch"], ws, home, stdin=ADD)
    assert result.returncode == 0, result.stderr
    assert (ws / "hello.txt").exists()


def test_failed_patch_exits_1_and_changes_nothing(ws: Path, home: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    before = snapshot(ws)
    bad = envelope("*** Update File: a.txt", "@@", "-a", "+A", "*** Update File: a.txt",
                   "@@", "-zzz", "+q")
    result = codex(["--profile", "workspace-write", "apply-patch"], ws, home, stdin=bad)
    assert result.returncode == 1
    assert "Update File a.txt: hunk 1 (patch line 7)" in result.stderr
    assert snapshot(ws) == before


def test_protected_path_refused_with_json(ws: Path, home: Path) -> None:
    result = codex(["--profile", "workspace-write", "apply-patch", "--json"], ws, home,
                   stdin=envelope("*** Add File: .envrc", "+export X=1"))
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["refused"] is True
    assert "protected path" in payload["problems"][0]
    assert not (ws / ".envrc").exists()


def test_json_success_lists_changes_with_diffs(ws: Path, home: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    result = codex(["--profile", "workspace-write", "apply-patch", "--json"], ws, home,
                   stdin=envelope("*** Update File: a.txt", "@@", "-a", "+b"))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    [change] = payload["changes"]
    assert change["kind"] == "updated"
    assert change["path"] == str((ws / "a.txt").resolve())
    assert "-a\n+b" in change["diff"]


def test_dry_run_prints_diff_and_writes_nothing(ws: Path, home: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    result = codex(["--profile", "workspace-write", "apply-patch", "--dry-run"], ws, home,
                   stdin=envelope("*** Update File: a.txt", "@@", "-a", "+b"))
    assert result.returncode == 0, result.stderr
    assert "+b" in result.stdout and "would update" in result.stdout
    assert (ws / "a.txt").read_text() == "a\n"


def test_parse_error_exits_1(ws: Path, home: Path) -> None:
    result = codex(["--profile", "workspace-write", "apply-patch"], ws, home,
                   stdin="not a patch\n")
    assert result.returncode == 1
    assert "first line must be '*** Begin Patch'" in result.stderr


def test_missing_patch_file_is_usage_error(ws: Path, home: Path) -> None:
    result = codex(["--profile", "workspace-write", "apply-patch", "nope.patch"], ws, home)
    assert result.returncode == 2
    assert "patch file not found: nope.patch" in result.stderr


def test_unknown_option_is_usage_error(ws: Path, home: Path) -> None:
    result = codex(["apply-patch", "--frobnicate"], ws, home, stdin=ADD)
    assert result.returncode == 2


def test_help_teaches_the_profile(ws: Path, home: Path) -> None:
    result = codex(["apply-patch", "--help"], ws, home)
    assert result.returncode == 0
    assert "--profile workspace-write" in result.stdout
    assert "all-or-nothing" in result.stdout


def test_applied_and_refused_patches_are_audited(ws: Path, home: Path) -> None:
    from codex.audit import read_entries, verify_log

    assert codex(["--profile", "workspace-write", "apply-patch"], ws, home,
                 stdin=ADD).returncode == 0
    assert codex(["--profile", "workspace-write", "apply-patch"], ws, home,
                 stdin=envelope("*** Add File: .vscode/tasks.json", "+{}")).returncode == 1
    assert verify_log(home / "audit").ok
    entries = [(e.operation, e.decision, e.actor) for e in read_entries(home / "audit")]
    assert entries == [("patch_apply", "allowed", "user"), ("patch_apply", "denied", "user")]


def test_audit_can_be_disabled(ws: Path, home: Path) -> None:
    (home / "config.toml").write_text("[audit]\nenabled = false\n")
    assert codex(["--profile", "workspace-write", "apply-patch"], ws, home,
                 stdin=ADD).returncode == 0
    assert not (home / "audit").exists()
