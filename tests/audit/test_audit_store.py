"""Appending: entry shape, permissions, chaining across day files, torn lines, failures."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_helpers import StepClock, day_clock, fill

from codex.audit import GENESIS_HASH, AuditError, AuditLog, read_entries, verify_log
from codex.audit.entry import entry_hash

LogFactory = Callable[..., AuditLog]


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_entry_fields_hash_and_genesis(make_log: LogFactory, codex_home: Path) -> None:
    log = make_log(StepClock(datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)))
    first = log.record("command_exec", "ls -la", "allowed", "known safe", "offline", "s1",
                       "user")
    second = log.record("approval", "rm x", "denied", "user said no", "workspace-write", "s1",
                        "model")
    stored = _lines(codex_home / "audit" / "audit-2026-03-04.jsonl")
    assert [e["seq"] for e in stored] == [1, 2]
    assert stored[0] == first.to_dict()
    assert stored[0]["ts"] == "2026-03-04T05:06:07.890123Z"
    assert stored[0]["prev_hash"] == GENESIS_HASH
    assert stored[1]["prev_hash"] == stored[0]["hash"]
    assert second.operation == "approval" and second.decision == "denied"
    for entry in stored:
        body = {k: v for k, v in entry.items() if k != "hash"}
        assert entry["hash"] == entry_hash(body)
    assert list(stored[0]) == ["ts", "seq", "session_id", "actor", "operation", "target",
                               "decision", "reason", "profile", "prev_hash", "hash"]


def test_directory_and_files_are_private(make_log: LogFactory, codex_home: Path) -> None:
    old = os.umask(0o022)
    try:
        fill(make_log(), 1)
    finally:
        os.umask(old)
    directory = codex_home / "audit"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_loose_permissions_are_tightened(make_log: LogFactory, codex_home: Path) -> None:
    log = make_log()
    fill(log, 1)
    directory = codex_home / "audit"
    (day_file,) = directory.glob("audit-*.jsonl")
    os.chmod(directory, 0o755)
    os.chmod(day_file, 0o644)
    assert {f.kind for f in verify_log(directory).warnings} == {"permissions"}
    fill(log, 1)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(day_file.stat().st_mode) == 0o600


def test_unknown_operation_or_decision_is_refused(make_log: LogFactory) -> None:
    log = make_log()
    with pytest.raises(ValueError):
        log.record("launch_missiles", "x", "allowed", "", "offline", "s", "user")
    with pytest.raises(ValueError):
        log.record("command_exec", "x", "maybe", "", "offline", "s", "user")


def test_chain_continues_across_day_files(make_log: LogFactory, codex_home: Path) -> None:
    log = make_log(day_clock("2026-01-31", step=timedelta(minutes=4)))
    fill(log, 6)  # 23:50 .. 00:10: three entries on each day
    directory = codex_home / "audit"
    day1, day2 = sorted(directory.glob("audit-*.jsonl"))
    assert (day1.name, day2.name) == ("audit-2026-01-31.jsonl", "audit-2026-02-01.jsonl")
    first_of_day2 = _lines(day2)[0]
    assert first_of_day2["seq"] == 4
    assert first_of_day2["prev_hash"] == _lines(day1)[-1]["hash"]
    report = verify_log(directory)
    assert report.ok and report.entries == 6 and report.files == 2


def test_clock_going_back_keeps_appending_to_the_newest_file(
    make_log: LogFactory, codex_home: Path
) -> None:
    fill(make_log(day_clock("2026-05-02")), 1)
    fill(make_log(day_clock("2026-05-01")), 1)
    files = sorted((codex_home / "audit").glob("audit-*.jsonl"))
    assert [f.name for f in files] == ["audit-2026-05-02.jsonl"]
    assert [e["seq"] for e in _lines(files[0])] == [1, 2]
    assert verify_log(codex_home / "audit").ok


def test_torn_last_line_is_a_warning_and_the_next_append_starts_fresh(
    make_log: LogFactory, codex_home: Path
) -> None:
    log = make_log()
    fill(log, 3)
    directory = codex_home / "audit"
    (day_file,) = directory.glob("audit-*.jsonl")
    whole = day_file.read_bytes()
    # What a writer killed halfway through its write() leaves behind: half a line, no newline.
    fragment = whole.splitlines(keepends=True)[1][:57]
    with open(day_file, "ab") as handle:
        handle.write(fragment)
    report = verify_log(directory)
    assert report.ok, report.error
    assert [(w.kind, w.line) for w in report.warnings] == [("torn_write", 4)]

    fill(log, 1)
    lines = day_file.read_bytes().split(b"\n")
    assert lines[3] == fragment  # the fragment keeps its own line
    fresh = json.loads(lines[4])
    assert fresh["seq"] == 4
    assert fresh["prev_hash"] == json.loads(lines[2])["hash"]
    report = verify_log(directory)
    assert report.ok and report.entries == 4
    assert [(w.kind, w.line) for w in report.warnings] == [("torn_write", 4)]


def test_newest_file_holding_only_a_torn_line(make_log: LogFactory, codex_home: Path) -> None:
    log = make_log(day_clock("2026-07-01", step=timedelta(minutes=1)))
    fill(log, 2)
    directory = codex_home / "audit"
    (directory / "audit-2026-07-02.jsonl").write_bytes(b'{"ts":"2026-07-02T00:00')
    os.chmod(directory / "audit-2026-07-02.jsonl", 0o600)
    log = make_log(day_clock("2026-07-02"))
    fill(log, 1)
    new = _lines_after_fragment(directory / "audit-2026-07-02.jsonl")
    assert new["seq"] == 3
    assert verify_log(directory).ok


def _lines_after_fragment(path: Path) -> dict[str, object]:
    fragment, entry, tail = path.read_bytes().split(b"\n")
    assert fragment and not tail
    result: dict[str, object] = json.loads(entry)
    return result


def test_unwritable_log_raises_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    log = AuditLog(tmp_path, directory=blocker / "audit")
    with pytest.raises(AuditError, match="cannot open the audit log"):
        fill(log, 1)


def test_huge_fields_are_capped(make_log: LogFactory) -> None:
    entry = make_log().record("command_exec", "x" * 100_000, "allowed", "", "offline", "s",
                              "user")
    assert len(entry.target) < 8300
    assert entry.target.endswith("...[91808 more characters]")


def test_non_utf8_arguments_are_stored_escaped(make_log: LogFactory, codex_home: Path) -> None:
    target = os.fsdecode(b"cat caf\xe9.txt")  # argv bytes that are not UTF-8
    entry = make_log().record("command_exec", target, "allowed", "", "offline", "s", "user")
    assert entry.target == "cat caf\\xe9.txt"
    assert verify_log(codex_home / "audit").ok


def test_read_entries_filters_by_session_and_time(make_log: LogFactory, codex_home: Path) -> None:
    clock = StepClock(datetime(2026, 8, 1, tzinfo=UTC), timedelta(hours=1))
    log = make_log(clock)
    fill(log, 3, session="alpha-1")
    fill(log, 2, session="beta-2")
    directory = codex_home / "audit"
    assert [e.seq for e in read_entries(directory, session="beta")] == [4, 5]
    assert [e.seq for e in read_entries(directory, session="alpha-1")] == [1, 2, 3]
    since = datetime(2026, 8, 1, 2, 30, tzinfo=UTC)
    assert [e.seq for e in read_entries(directory, since=since)] == [4, 5]
    assert list(read_entries(codex_home / "missing")) == []


def test_symlinked_day_file_is_refused(make_log: LogFactory, codex_home: Path,
                                       tmp_path: Path) -> None:
    log = make_log(day_clock("2026-09-09"))
    fill(log, 1)
    directory = codex_home / "audit"
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"")
    (directory / "audit-2026-09-10.jsonl").symlink_to(elsewhere)
    with pytest.raises(AuditError, match="cannot write the audit log"):
        fill(make_log(day_clock("2026-09-10")), 1)
    assert elsewhere.read_bytes() == b""
