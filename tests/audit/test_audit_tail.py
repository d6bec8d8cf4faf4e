"""Cutting or rewriting the END of the log, with and without the head record in audit.lock.

A hash chain cannot see a missing tail by itself: the head record (seq and hash of the newest
entry, kept in audit.lock) is the anchor. These tests cut and rewrite the tail the ways an
adversary with write access to the audit directory would, and require `verify` to fail, also
after a later legitimate append (which must not erase the evidence).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_helpers import PYTHON, child_env, fill

from codex.audit import AuditLog, verify_log
from codex.audit.entry import entry_hash
from codex.audit.store import LOCK_NAME

LogFactory = Callable[..., AuditLog]
ENTRIES = 6


def _log(make_log: LogFactory, codex_home: Path) -> Path:
    fill(make_log(), ENTRIES)
    (day_file,) = (codex_home / "audit").glob("audit-*.jsonl")
    return day_file


def _cut(day_file: Path, keep: int) -> None:
    lines = day_file.read_bytes().splitlines(keepends=True)
    day_file.write_bytes(b"".join(lines[:keep]))


def _rewrite_tail(day_file: Path, count: int) -> None:
    """Replace the last `count` entries with forged ones whose hashes and links are recomputed:
    a chain that is internally perfect."""
    lines = day_file.read_bytes().splitlines(keepends=True)
    kept, forged = lines[:-count], []
    prev = json.loads(kept[-1])["hash"] if kept else "0" * 64
    for raw in lines[-count:]:
        entry = json.loads(raw)
        entry["target"] = "echo nothing to see"
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash({k: v for k, v in entry.items() if k != "hash"})
        forged.append(json.dumps(entry, separators=(",", ":")).encode() + b"\n")
    day_file.write_bytes(b"".join([*kept, *forged]))


def _treat_lock(directory: Path, how: str) -> None:
    lock = directory / LOCK_NAME
    if how == "deleted":
        lock.unlink()
    elif how == "emptied":
        lock.write_bytes(b"")
    elif how == "garbage":
        lock.write_bytes(b"not a head record\n")
    else:
        assert how == "kept"


LOCKS = ["kept", "deleted", "emptied", "garbage"]
TAMPERING: dict[str, Callable[[Path], None]] = {
    "cut last entry": lambda f: _cut(f, ENTRIES - 1),
    "cut last three": lambda f: _cut(f, ENTRIES - 3),
    "cut all but the first": lambda f: _cut(f, 1),
    "rewrite last entry": lambda f: _rewrite_tail(f, 1),
    "rewrite last three": lambda f: _rewrite_tail(f, 3),
    "cut two, rewrite the new last": lambda f: (_cut(f, ENTRIES - 2), _rewrite_tail(f, 1)),
}


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize("tamper", sorted(TAMPERING))
def test_tampered_tail_fails(make_log: LogFactory, codex_home: Path, tamper: str,
                             lock: str) -> None:
    day_file = _log(make_log, codex_home)
    TAMPERING[tamper](day_file)
    _treat_lock(codex_home / "audit", lock)
    report = verify_log(codex_home / "audit")
    assert not report.ok, f"{tamper} with the lock {lock} verified: {report.to_dict()}"
    assert report.error is not None
    assert report.error.kind in {"truncated", "head_mismatch", "head_missing"}


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize("tamper", sorted(TAMPERING))
def test_a_later_append_does_not_erase_the_evidence(
    make_log: LogFactory, codex_home: Path, tamper: str, lock: str
) -> None:
    day_file = _log(make_log, codex_home)
    TAMPERING[tamper](day_file)
    _treat_lock(codex_home / "audit", lock)
    fill(make_log(), 2, session="after-the-cut")  # the agent goes on recording
    report = verify_log(codex_home / "audit")
    assert not report.ok, f"{tamper} with the lock {lock} verified: {report.to_dict()}"


def test_whole_log_deleted_with_the_head_kept(make_log: LogFactory, codex_home: Path) -> None:
    _log(make_log, codex_home).unlink()
    error = verify_log(codex_home / "audit").error
    assert error is not None and error.kind == "truncated"


def test_untouched_log_and_legit_appends_verify(make_log: LogFactory, codex_home: Path) -> None:
    _log(make_log, codex_home)
    fill(make_log(), 3)
    report = verify_log(codex_home / "audit")
    assert report.ok and report.entries == ENTRIES + 3 and report.findings == []


def test_head_lagging_one_entry_is_a_crash_not_tampering(
    make_log: LogFactory, codex_home: Path
) -> None:
    """A writer killed between appending its entry and updating the head leaves the head one
    entry behind; that is not tampering, and the next append repairs it."""
    directory = codex_home / "audit"
    _log(make_log, codex_home)
    lagging = (directory / LOCK_NAME).read_bytes()
    fill(make_log(), 1)
    (directory / LOCK_NAME).write_bytes(lagging)
    assert verify_log(directory).ok
    fill(make_log(), 1)
    report = verify_log(directory)
    assert report.ok and report.entries == ENTRIES + 2


def _codex(codex_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "codex", *args], env=child_env(codex_home),
                          capture_output=True, text=True, timeout=100, check=False)


@pytest.mark.timeout(120)
def test_cli_cut_tail_and_deleted_lock(make_log: LogFactory, codex_home: Path) -> None:
    """The issue's reproduction: six entries, the last three removed, audit.lock deleted."""
    day_file = _log(make_log, codex_home)
    _cut(day_file, 3)
    (codex_home / "audit" / LOCK_NAME).unlink()
    broken = _codex(codex_home, "audit", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout == ""
    (line,) = broken.stderr.splitlines()
    assert "no head record" in line and "cut off the end" in line

    legacy = _codex(codex_home, "audit", "verify", "--allow-missing-head")
    assert legacy.returncode == 0, legacy.stderr
    assert legacy.stdout.startswith("audit log intact: 3 entries")
    assert "--allow-missing-head" in legacy.stderr and "written before" in legacy.stderr


@pytest.mark.timeout(120)
def test_cli_rewritten_last_entry_and_deleted_lock(make_log: LogFactory,
                                                   codex_home: Path) -> None:
    day_file = _log(make_log, codex_home)
    _rewrite_tail(day_file, 1)
    (codex_home / "audit" / LOCK_NAME).unlink()
    broken = _codex(codex_home, "audit", "verify")
    assert broken.returncode == 1 and len(broken.stderr.splitlines()) == 1
    as_json = _codex(codex_home, "audit", "verify", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["findings"][-1]["kind"] == "head_missing"
