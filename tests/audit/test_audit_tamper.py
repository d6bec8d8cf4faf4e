"""Tampering with a written log is caught, and the first bad entry is named."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from audit_helpers import day_clock, fill

from codex.audit import AuditLog, verify_log
from codex.audit.entry import entry_hash

LogFactory = Callable[..., AuditLog]


def _one_day_log(make_log: LogFactory, codex_home: Path, count: int = 10) -> Path:
    fill(make_log(), count)
    (day_file,) = (codex_home / "audit").glob("audit-*.jsonl")
    return day_file


def _rewrite(path: Path, edit: Callable[[list[bytes]], list[bytes]]) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(edit(lines)))


def _edit_json(line: bytes, **changes: object) -> bytes:
    entry = json.loads(line)
    entry.update(changes)
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def test_intact_log_verifies(make_log: LogFactory, codex_home: Path) -> None:
    _one_day_log(make_log, codex_home)
    report = verify_log(codex_home / "audit")
    assert report.ok and report.entries == 10 and report.last_seq == 10
    assert report.findings == []


def test_edited_field_is_a_hash_mismatch(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    _rewrite(day_file, lambda ls: [*ls[:4], _edit_json(ls[4], decision="denied"), *ls[5:]])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.file, error.line, error.seq) == (
        "hash_mismatch", day_file.name, 5, 5)


def test_edit_with_recomputed_hash_breaks_the_next_link(
    make_log: LogFactory, codex_home: Path
) -> None:
    day_file = _one_day_log(make_log, codex_home)

    def forge(lines: list[bytes]) -> list[bytes]:
        entry = json.loads(lines[4])
        entry["target"] = "echo innocent"
        entry["hash"] = entry_hash({k: v for k, v in entry.items() if k != "hash"})
        forged = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
        return [*lines[:4], forged, *lines[5:]]

    _rewrite(day_file, forge)
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.line, error.seq) == ("prev_hash_mismatch", 6, 6)


def test_deleted_line_is_a_seq_gap(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    _rewrite(day_file, lambda ls: ls[:3] + ls[4:])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.line, error.seq) == ("seq_gap", 4, 5)
    assert "seq 4 deleted" in error.message


def test_deleted_last_line_is_caught_by_the_head(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    _rewrite(day_file, lambda ls: ls[:-1])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.seq) == ("truncated", 10)


def test_reordered_lines_are_named(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    _rewrite(day_file, lambda ls: [*ls[:6], ls[7], ls[6], *ls[8:]])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.line, error.seq) == ("reorder", 7, 8)
    assert f"{day_file.name}:8" in error.message


def test_truncated_mid_file(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    data = day_file.read_bytes()
    day_file.write_bytes(data[: len(data) // 2 + 7])
    report = verify_log(codex_home / "audit")
    assert report.error is not None and report.error.kind == "truncated"
    assert [w.kind for w in report.warnings] == ["torn_write"]  # the cut line itself


def test_line_made_unreadable_in_the_middle(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    _rewrite(day_file, lambda ls: [*ls[:2], b'{"ts": garbage\n', *ls[3:]])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.line) == ("malformed", 3)


def test_inserted_forged_entry(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)

    def insert(lines: list[bytes]) -> list[bytes]:
        return [*lines[:5], _edit_json(lines[4], target="forged"), *lines[5:]]

    _rewrite(day_file, insert)
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.line) == ("hash_mismatch", 6)


def test_duplicate_keys_are_rejected(make_log: LogFactory, codex_home: Path) -> None:
    day_file = _one_day_log(make_log, codex_home)
    _rewrite(day_file, lambda ls: [*ls[:3], ls[3][:-2] + b',"target":"echo 3"}\n', *ls[4:]])
    error = verify_log(codex_home / "audit").error
    assert error is not None and error.kind == "malformed" and error.line == 4


def _two_day_log(make_log: LogFactory, codex_home: Path) -> tuple[Path, Path]:
    fill(make_log(day_clock("2026-02-28", step=timedelta(minutes=3))), 8)
    day1, day2 = sorted((codex_home / "audit").glob("audit-*.jsonl"))
    assert len(day1.read_bytes().splitlines()) == 4
    return day1, day2


def test_edit_in_an_older_day_file(make_log: LogFactory, codex_home: Path) -> None:
    day1, _ = _two_day_log(make_log, codex_home)
    _rewrite(day1, lambda ls: [*ls[:1], _edit_json(ls[1], actor="someone"), *ls[2:]])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.file, error.line, error.seq) == (
        "hash_mismatch", "audit-2026-02-28.jsonl", 2, 2)


def test_last_entry_of_a_day_removed(make_log: LogFactory, codex_home: Path) -> None:
    day1, day2 = _two_day_log(make_log, codex_home)
    _rewrite(day1, lambda ls: ls[:-1])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.file, error.line, error.seq) == ("seq_gap", day2.name, 1, 5)


def test_whole_day_file_removed(make_log: LogFactory, codex_home: Path) -> None:
    day1, day2 = _two_day_log(make_log, codex_home)
    day1.unlink()
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.file, error.seq) == ("seq_gap", day2.name, 5)
    assert "seq 1..4 deleted" in error.message


def test_newest_day_file_removed(make_log: LogFactory, codex_home: Path) -> None:
    _, day2 = _two_day_log(make_log, codex_home)
    day2.unlink()
    error = verify_log(codex_home / "audit").error
    assert error is not None and error.kind == "truncated"


def test_lines_moved_between_day_files(make_log: LogFactory, codex_home: Path) -> None:
    day1, day2 = _two_day_log(make_log, codex_home)
    first_of_day2 = day2.read_bytes().splitlines(keepends=True)[0]
    _rewrite(day2, lambda ls: ls[1:])
    _rewrite(day1, lambda ls: [*ls[:2], first_of_day2, *ls[2:]])
    error = verify_log(codex_home / "audit").error
    assert error is not None
    assert (error.kind, error.file, error.line, error.seq) == ("reorder", day1.name, 3, 5)
