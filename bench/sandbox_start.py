#!/usr/bin/env python3
"""Sandbox start benchmark: what confining a command costs, against baselines measured in the
same run.

Times (wall clock, median of N alternating runs after warm-up):
- `true` run directly (the floor: fork + exec),
- `codex sandbox --profile offline -- true` (python -m codex from this checkout),
- the same through a native build, when --codex-binary is given, twice: as a repeated command
  (its settings cached, so it takes the stdlib-only fast lane) and as the first run after a
  config change (cache emptied before each sample: the full typer + pydantic path),
- the OpenAI Codex CLI's own sandbox start (`codex sandbox -P :read-only -- true` on
  versions with permission profiles (0.171 needs -P), `codex sandbox -- true` before them,
  or `codex sandbox linux --full-auto -- true` on versions whose --help lists that
  subcommand), when its native
  binary is found: pass --openai-codex PATH, or install
  it with `npm install --prefix DIR @openai/codex` and pass --openai-prefix DIR.
Prints each median and the ratios against `true` and against the OpenAI Codex CLI.

Usage: bench/sandbox_start.py [--runs N] [--codex-binary PATH] [--openai-codex PATH]
                              [--openai-prefix DIR] [--json] [--smoke]
--openai-prefix defaults to $CODEX_BENCH_OPENAI_PREFIX (dev/test sets it to the cached install
of dev/setup). --smoke (CI): one warm-up and one timed run per subject; any failure exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRUE = shutil.which("true") or "/bin/true"
OPENAI_PREFIX_ENV = "CODEX_BENCH_OPENAI_PREFIX"


@dataclass
class Subject:
    name: str
    argv: list[str]
    samples: list[float] = field(default_factory=list)
    before: Callable[[], None] | None = None  # untimed preparation of every run

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark subject failed (exit {proc.returncode}): {argv}\n"
                         f"{proc.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def native_triple() -> str:
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64",
            "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine())
    return f"{arch}-unknown-linux-musl"


def find_openai_binary(prefix: Path) -> Path | None:
    """The OpenAI Codex CLI's native executable inside an npm prefix (its JS launcher only
    adds node start-up, which is not what we compare)."""
    triple = native_triple()
    for candidate in sorted(prefix.glob("**/vendor/*/*/codex")):
        if triple in str(candidate) and os.access(candidate, os.X_OK):
            return candidate
    launcher = prefix / "node_modules" / ".bin" / "codex"
    return launcher if launcher.exists() else None


def openai_sandbox_argv(binary: Path, env: dict[str, str]) -> list[str]:
    """Ask the binary's own help which sandbox form it accepts."""
    help_text = subprocess.run([str(binary), "sandbox", "--help"], capture_output=True,
                               text=True, env=env, check=False, timeout=30).stdout
    if re.search(r"^\s+linux\s", help_text, re.MULTILINE):  # older CLIs: a subcommand
        linux_help = subprocess.run([str(binary), "sandbox", "linux", "--help"],
                                    capture_output=True, text=True, env=env, check=False,
                                    timeout=30).stdout
        flags = ["--full-auto"] if "--full-auto" in linux_help else []
        return [str(binary), "sandbox", "linux", *flags, "--", TRUE]
    if "--permission-profile" in help_text:
        return [str(binary), "sandbox", "-P", ":read-only", "--", TRUE]
    return [str(binary), "sandbox", "--", TRUE]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per subject")
    parser.add_argument("--codex-binary", type=Path,
                        help="also time a native build (e.g. vendor/<triple>/codex/codex)")
    parser.add_argument("--openai-codex", type=Path, help="the OpenAI Codex CLI binary")
    parser.add_argument("--openai-prefix", type=Path,
                        default=os.environ.get(OPENAI_PREFIX_ENV) or None,
                        help="an npm prefix where @openai/codex is installed "
                             f"(default: ${OPENAI_PREFIX_ENV})")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check that every subject runs: one timed run each")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    warmups = 1 if args.smoke else 2
    if args.smoke:
        args.runs = 1

    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        ws = Path(tmp)
        home = ws / "home"
        (home / ".codex").mkdir(parents=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
               "CODEX_HOME": str(home / ".codex"), "LANG": "C.UTF-8"}
        subjects = [
            Subject("true", [TRUE]),
            Subject("codex sandbox (python)", [sys.executable, "-m", "codex", "sandbox",
                                               "--profile", "offline", "--", TRUE]),
        ]
        if args.codex_binary:
            if not os.access(args.codex_binary, os.X_OK):
                parser.error(f"--codex-binary {args.codex_binary} is not an executable file")
            native = [str(args.codex_binary.resolve()), "sandbox", "--profile", "offline",
                      "--", TRUE]
            subjects.append(Subject("codex sandbox (native)", native))
            cache = home / ".codex" / "cache"
            subjects.append(Subject("  first run, no cache", native,
                                    before=lambda: shutil.rmtree(cache, ignore_errors=True)))
        openai: Path | None = None
        if args.openai_codex:
            openai = args.openai_codex.resolve()
        elif args.openai_prefix:
            openai = find_openai_binary(args.openai_prefix)
        if args.openai_prefix and openai is None:
            parser.error(f"no @openai/codex binary under {args.openai_prefix}")
        if openai is not None:
            subjects.append(Subject("openai codex sandbox", openai_sandbox_argv(openai, env)))

        for subject in subjects:  # warm-up (page cache, pyc files)
            for _ in range(warmups):
                if subject.before:
                    subject.before()
                timed(subject.argv, ws, env)
        for _ in range(args.runs):  # alternate so machine noise hits every subject alike
            for subject in subjects:
                if subject.before:
                    subject.before()
                subject.samples.append(timed(subject.argv, ws, env))

    rows = ratio_rows({s.name: s.median_ms for s in subjects}, "openai codex sandbox")
    for row, subject in zip(rows, subjects, strict=True):
        row["argv"] = subject.argv
    if args.json:
        print(json.dumps({"runs": args.runs, "subjects": rows}, indent=2))
        return 0
    print(f"sandbox start, median of {args.runs} runs (wall clock)")
    print_rows(rows)
    return 0


def ratio_rows(medians: dict[str, float], reference: str) -> list[dict[str, object]]:
    """Per subject (the first is the floor, e.g. `true`): its median, the time it adds over
    the floor, and its ratios against the floor and against `reference` when measured."""
    floor = next(iter(medians.values()))
    base = medians.get(reference)
    rows: list[dict[str, object]] = []
    for name, median in medians.items():
        row: dict[str, object] = {"name": name, "median_ms": round(median, 2),
                                  "added_ms": round(median - floor, 2),
                                  "ratio_vs_true": round(median / floor, 2)}
        if base is not None:
            row["ratio_vs_openai"] = round(median / base, 2)
        rows.append(row)
    return rows


def print_rows(rows: list[dict[str, object]]) -> None:
    for row in rows:
        extra = (f"  x{row['ratio_vs_openai']} vs openai codex"
                 if "ratio_vs_openai" in row else "")
        print(f"  {row['name']:<36} {row['median_ms']:>9.2f} ms  (+{row['added_ms']} ms)  "
              f"x{row['ratio_vs_true']} vs true{extra}")
    if not any("ratio_vs_openai" in row for row in rows):
        print("  (OpenAI Codex CLI not measured: pass --openai-codex or --openai-prefix)")


if __name__ == "__main__":
    sys.exit(main())
