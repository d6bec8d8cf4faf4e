"""`codex audit show | verify | path` as a user runs them: a real process, real files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_helpers import PYTHON, StepClock, child_env, fill

from codex.audit import AuditLog

pytestmark = pytest.mark.timeout(120)
LogFactory = Callable[..., AuditLog]


def codex(codex_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "codex", *args], env=child_env(codex_home),
                          capture_output=True, text=True, timeout=100, check=False)


def test_verify_intact_then_tampered(make_log: LogFactory, codex_home: Path) -> None:
    fill(make_log(), 6)
    ok = codex(codex_home, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("audit log intact: 6 entries in 1 file(s), seq 1..6")

    (day_file,) = (codex_home / "audit").glob("audit-*.jsonl")
    day_file.write_bytes(day_file.read_bytes().replace(b'"echo 4"', b'"echo 9"'))
    broken = codex(codex_home, "audit", "verify")
    assert broken.returncode == 1
    assert f"at {day_file.name}:5 (seq 5): hash mismatch" in broken.stderr

    as_json = codex(codex_home, "audit", "verify", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["findings"][0] == {"severity": "error", "kind": "hash_mismatch",
                                     "message": report["findings"][0]["message"],
                                     "file": day_file.name, "line": 5, "seq": 5}


def test_verify_empty_and_torn(make_log: LogFactory, codex_home: Path) -> None:
    empty = codex(codex_home, "audit", "verify")
    assert empty.returncode == 0 and "empty" in empty.stdout
    fill(make_log(), 2)
    (day_file,) = (codex_home / "audit").glob("audit-*.jsonl")
    with open(day_file, "ab") as handle:
        handle.write(b'{"ts":"2026')
    torn = codex(codex_home, "audit", "verify")
    assert torn.returncode == 0
    assert f"warning: {day_file.name}:3: skipped a line" in torn.stderr


def test_show_filters_and_formats(make_log: LogFactory, codex_home: Path) -> None:
    old = StepClock(datetime.now(UTC) - timedelta(days=3))
    fill(make_log(old), 2, session="old-session")
    log = make_log()
    fill(log, 2, session="new-session")
    log.record("command_exec", "printf '\x1b[31mred'", "denied", "escape\x07", "offline",
               "new-session", "model")

    recent = codex(codex_home, "audit", "show", "--since", "2h", "--json")
    assert recent.returncode == 0, recent.stderr
    lines = recent.stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [3, 4, 5]
    stored = b"".join(p.read_bytes() for p in sorted((codex_home / "audit").glob("*.jsonl")))
    assert all(line.encode() in stored for line in lines)  # exactly as stored

    by_session = codex(codex_home, "audit", "show", "--session", "old", "--json")
    assert [json.loads(line)["session_id"] for line in by_session.stdout.splitlines()] == [
        "old-session", "old-session"]

    table = codex(codex_home, "audit", "show", "-n", "1")
    header, row = table.stdout.splitlines()
    assert header.split()[:3] == ["TIME", "(UTC)", "SEQ"]
    assert "\x1b" not in table.stdout and "\\x1b[31mred" in row and "(escape\\x07)" in row
    assert " 5 " in row and "denied" in row

    nothing = codex(codex_home, "audit", "show", "--session", "nobody")
    assert nothing.returncode == 0 and nothing.stdout == ""
    assert "no matching audit entries" in nothing.stderr


def test_bad_since_is_a_usage_error(codex_home: Path) -> None:
    bad = codex(codex_home, "audit", "show", "--since", "5 parsecs")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "invalid --since '5 parsecs'" in bad.stderr and "10m" in bad.stderr


def test_path_follows_config(codex_home: Path) -> None:
    default = codex(codex_home, "audit", "path")
    assert default.stdout.strip() == str(codex_home / "audit")
    (codex_home / "config.toml").write_text('[audit]\ndir = "logs/audit"\n')
    configured = codex(codex_home, "audit", "path")
    assert configured.stdout.strip() == str(codex_home / "logs" / "audit")
