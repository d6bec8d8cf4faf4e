"""Many real processes appending at once, and writers killed with SIGKILL mid-append."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest
from audit_helpers import PYTHON, child_env

from codex.audit import Scrubber, read_entries, verify_log
from codex.audit.store import AuditLog

WRITER = r"""
import os, sys, time
from pathlib import Path
from codex.audit import AuditLog

home, session, count, go, size = sys.argv[1:6]
log = AuditLog(Path(home))
while not os.path.exists(go):
    time.sleep(0.005)
i = 0
while int(count) < 0 or i < int(count):
    log.record("command_exec", f"{session} {i} " + "x" * int(size), "allowed", "load test",
               "offline", session, "writer")
    i += 1
"""


def _spawn(codex_home: Path, session: str, count: int, go: Path,
           size: int = 40) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, "-c", WRITER, str(codex_home), session, str(count), str(go), str(size)],
        env=child_env(codex_home),
    )


@pytest.mark.timeout(240)
def test_eight_processes_times_five_hundred(codex_home: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [_spawn(codex_home, f"writer-{n}", 500, go) for n in range(8)]
    go.touch()  # all start appending at the same moment
    for proc in writers:
        assert proc.wait(timeout=200) == 0

    directory = codex_home / "audit"
    report = verify_log(directory)
    assert report.ok, report.error
    assert report.findings == []
    assert report.entries == 4000 and report.last_seq == 4000

    entries = list(read_entries(directory))
    assert [e.seq for e in entries] == list(range(1, 4001))
    per_writer: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        per_writer[entry.session_id].append(int(entry.target.split()[1]))
    assert sorted(per_writer) == [f"writer-{n}" for n in range(8)]
    for counters in per_writer.values():
        assert counters == list(range(500))  # each writer's entries, complete and in order
    # The interleaving really was concurrent: writers alternate many times.
    switches = sum(1 for a, b in itertools.pairwise(entries)
                   if a.session_id != b.session_id)
    assert switches > 50


@pytest.mark.timeout(240)
def test_sigkill_mid_append_then_verify_and_append(codex_home: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    go.touch()
    directory = codex_home / "audit"
    chooser = random.Random(os.getpid())
    log = AuditLog(codex_home, scrubber=Scrubber())
    for round_number in range(6):
        # Two writers with large entries (several pages per write) maximise the chance that
        # the kill lands inside a write or between the write and the head update.
        victims = [_spawn(codex_home, f"victim-{round_number}-{n}", -1, go, size=20000)
                   for n in range(2)]
        before = verify_log(directory).last_seq if directory.exists() else 0
        deadline = time.monotonic() + 60
        while verify_log(directory).last_seq < before + 20:
            assert time.monotonic() < deadline, "writers made no progress"
            time.sleep(0.01)
        time.sleep(chooser.uniform(0, 0.05))
        for proc in victims:
            os.kill(proc.pid, signal.SIGKILL)
        for proc in victims:
            assert proc.wait(timeout=30) == -signal.SIGKILL

        report = verify_log(directory)
        assert report.ok, report.error
        assert {w.kind for w in report.warnings} <= {"torn_write"}
        # The lock died with its holder: a fresh append goes through and chains on.
        entry = log.record("command_exec", f"after kill {round_number}", "allowed", "", "offline",
                           "survivor", "test")
        assert entry.seq == report.last_seq + 1
        after = verify_log(directory)
        assert after.ok and after.last_seq == entry.seq
        assert after.entries == entry.seq  # contiguous: no entry lost or duplicated

