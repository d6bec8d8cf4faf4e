#!/usr/bin/env python3
"""Audit log benchmark: what one recorded decision costs, against the floor measured in the
same run.

Single writer: median and p99 of `AuditLog.record` (scrub, lock, read the chain tip, hash, one
write, fsync, head update) against the floor of any durable append: one write() + fsync() of
the same bytes to a file in the same directory. Concurrent: N processes appending M entries
each; entries per second against N processes doing the raw write+fsync loop.
Also `verify` throughput (entries per second) over the log written.

Usage: bench/audit_append.py [--runs N] [--procs P] [--per-proc M] [--json] [--smoke]
--smoke (CI): 20 appends, 2 processes x 10, to prove the bench still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from codex.audit import AuditLog, Scrubber, verify_log  # noqa: E402

TARGET = "git -C [HOME]/project status --porcelain && make -j2 test"

RAW_WRITER = r"""
import os, sys
path, count = sys.argv[1], int(sys.argv[2])
line = b"x" * 330 + b"\n"
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
for _ in range(count):
    os.write(fd, line)
    os.fsync(fd)
"""

LOG_WRITER = r"""
import sys
from pathlib import Path
from codex.audit import AuditLog, Scrubber
home, count = Path(sys.argv[1]), int(sys.argv[2])
log = AuditLog(home, scrubber=Scrubber.from_environment())
for i in range(count):
    log.record("command_exec", f"{sys.argv[3]} {i}", "allowed", "bench", "offline", "bench",
               "bench")
"""


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def single_writer(runs: int, scratch: Path) -> dict[str, float]:
    log = AuditLog(scratch / "single", scrubber=Scrubber.from_environment())
    raw_path = scratch / "raw.jsonl"
    line = b"x" * 330 + b"\n"
    fd = os.open(raw_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    raw, logged = [], []
    try:
        for i in range(runs):
            start = time.perf_counter()
            os.write(fd, line)
            os.fsync(fd)
            raw.append(time.perf_counter() - start)
            start = time.perf_counter()
            log.record("command_exec", f"{TARGET} {i}", "allowed", "bench", "offline", "s", "b")
            logged.append(time.perf_counter() - start)
    finally:
        os.close(fd)
    return {
        "raw_median_ms": statistics.median(raw) * 1000,
        "record_median_ms": statistics.median(logged) * 1000,
        "record_p99_ms": _percentile(logged, 0.99) * 1000,
        "ratio_median": statistics.median(logged) / statistics.median(raw),
    }


def concurrent(procs: int, per_proc: int, scratch: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}

    def run(code: str, args: list[list[str]]) -> float:
        start = time.perf_counter()
        children = [subprocess.Popen([sys.executable, "-c", code, *a], env=env) for a in args]
        for child in children:
            if child.wait() != 0:
                raise SystemExit(f"a writer failed: {child.args}")
        return time.perf_counter() - start

    total = procs * per_proc
    raw_s = run(RAW_WRITER, [[str(scratch / "raw-many.jsonl"), str(per_proc)]] * procs)
    home = scratch / "many"
    log_s = run(LOG_WRITER, [[str(home), str(per_proc), f"w{n}"] for n in range(procs)])
    start = time.perf_counter()
    report = verify_log(home / "audit")
    verify_s = time.perf_counter() - start
    if not report.ok or report.entries != total:
        raise SystemExit(f"verify failed after the concurrent run: {report.to_dict()}")
    return {
        "raw_entries_per_s": total / raw_s,
        "record_entries_per_s": total / log_s,
        "ratio_throughput": (total / log_s) / (total / raw_s),
        "verify_entries_per_s": total / verify_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--per-proc", type=int, default=250)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check: 20 appends, 2 processes x 10")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.procs, args.per_proc = 20, 2, 10
    with tempfile.TemporaryDirectory(prefix="codex-audit-bench-") as tmp:
        scratch = Path(tmp)
        results = {"single": single_writer(args.runs, scratch),
                   "concurrent": concurrent(args.procs, args.per_proc, scratch)}
    if args.json:
        print(json.dumps(results))
        return 0
    single, many = results["single"], results["concurrent"]
    print(f"single writer ({args.runs} appends)")
    print(f"  write+fsync floor     median {single['raw_median_ms']:.3f} ms")
    print(f"  AuditLog.record       median {single['record_median_ms']:.3f} ms  "
          f"p99 {single['record_p99_ms']:.3f} ms  ratio {single['ratio_median']:.2f}x")
    print(f"concurrent ({args.procs} processes x {args.per_proc})")
    print(f"  write+fsync floor     {many['raw_entries_per_s']:.0f} entries/s")
    print(f"  AuditLog.record       {many['record_entries_per_s']:.0f} entries/s  "
          f"ratio {many['ratio_throughput']:.2f}x of the floor")
    print(f"  verify                {many['verify_entries_per_s']:.0f} entries/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
