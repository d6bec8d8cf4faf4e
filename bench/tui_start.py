#!/usr/bin/env python3
"""Interactive UI start benchmark: time from launch to the first drawn composer, in tmux.

Every subject is started in a new window of one tmux server and timed until its marker is
on the screen (the pane is polled every few milliseconds; the same cost for everyone):
- `codex --version` of the native build (the floor for this binary: "codex 0.1.0"),
- `codex` (the UI) of the native build and of `python -m codex` from this checkout, until
  the composer's hint row ("⏎ send") is drawn,
- the OpenAI Codex CLI's UI, pointed at a loopback provider with a dummy key and a
  pre-trusted workspace, until its composer ("Ask Codex to do anything") is drawn, when its
  binary is found (--openai-codex PATH, --openai-prefix DIR, or an install cached by the
  e2e tools); otherwise `node -e` printing a line stands in as the reference.
Prints medians and the ratios against `--version` and against the reference. Target: the
native UI within 1.5x of the Codex CLI's time to first frame.

Usage: bench/tui_start.py [--runs N] [--codex-binary PATH] [--openai-codex PATH]
                          [--openai-prefix DIR] [--json] [--smoke]
--smoke: one run of each subject found, failing loudly when a marker never shows (CI).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sandbox_start import find_openai_binary

REPO = Path(__file__).resolve().parents[1]
E2E_TOOLS = Path.home() / ".cache" / "codex-e2e-tools"
TIMEOUT_S = 30.0
POLL_S = 0.003


@dataclass
class Subject:
    name: str
    argv: list[str]
    marker: str
    env: dict[str, str]
    samples: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000


class Tmux:
    """One private tmux server; each run is a new window."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.counter = 0
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40")

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True,
                              text=True, check=False, timeout=30).stdout

    def time_to_marker(self, subject: Subject, cwd: Path) -> float:
        self.counter += 1
        window = f"w{self.counter}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in subject.env.items())
        script = f"cd {shlex.quote(str(cwd))}; env -i {exports} {shlex.join(subject.argv)}"
        start = time.perf_counter()
        self.run("new-window", "-d", "-n", window, "-t", "bench", "sh", "-c",
                 script + "; sleep 30")
        try:
            while True:
                if subject.marker in self.run("capture-pane", "-p", "-t", f"bench:{window}"):
                    return time.perf_counter() - start
                if time.perf_counter() - start > TIMEOUT_S:
                    screen = self.run("capture-pane", "-p", "-t", f"bench:{window}")
                    raise SystemExit(f"bench: {subject.name}: {subject.marker!r} never "
                                     f"appeared within {TIMEOUT_S:.0f}s; screen:\n{screen}")
                time.sleep(POLL_S)
        finally:
            self.run("kill-window", "-t", f"bench:{window}")

    def close(self) -> None:
        self.run("kill-server")


def native_binary() -> Path | None:
    from sandbox_start import native_triple

    for libc in ("gnu", native_triple().rsplit("-", 1)[-1]):
        triple = native_triple().rsplit("-", 1)[0] + "-" + libc
        binary = REPO / "vendor" / triple / "codex" / "codex"
        if os.access(binary, os.X_OK):
            return binary
    return None


def cached_openai() -> Path | None:
    for prefix in sorted(E2E_TOOLS.glob("*")) if E2E_TOOLS.is_dir() else []:
        found = find_openai_binary(prefix)
        if found is not None and found.name == "codex" and "vendor" in str(found):
            return found
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per subject")
    parser.add_argument("--codex-binary", type=Path, help="the native build to time "
                                                          "(default: vendor/<triple>/codex)")
    parser.add_argument("--openai-codex", type=Path, help="the OpenAI Codex CLI binary")
    parser.add_argument("--openai-prefix", type=Path,
                        help="an npm prefix where @openai/codex is installed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--smoke", action="store_true", help="one run each (CI)")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    if shutil.which("tmux") is None:
        parser.error("tmux is required (dev/setup installs it)")

    with tempfile.TemporaryDirectory(prefix="codex-tui-bench-") as tmp:
        root = Path(tmp)
        ws = root / "ws"
        ws.mkdir()
        subprocess.run(["git", "init", "-q", str(ws)], check=True)
        home = root / "home"
        ours_home = home / ".codex"
        theirs_home = root / "openai-home"
        ours_home.mkdir(parents=True)
        theirs_home.mkdir()
        (theirs_home / "config.toml").write_text(f'[projects."{ws}"]\ntrust_level = "trusted"\n')
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                "TERM": "xterm-256color", "LANG": "C.UTF-8"}
        ours_env = {**base, "CODEX_HOME": str(ours_home)}
        loop = ["-c", "model_provider=loop", "-c", "model_providers.loop.name=loop",
                "-c", "model_providers.loop.base_url=http://127.0.0.1:9/v1",
                "-c", "model_providers.loop.wire_api=responses"]
        subjects: list[Subject] = []
        binary = args.codex_binary or native_binary()
        if binary is not None:
            subjects.append(Subject("codex --version (native)", [str(binary), "--version"],
                                    "codex 0.1.0", ours_env))
            subjects.append(Subject("codex UI (native)", [str(binary), *loop], "⏎ send",
                                    ours_env))
        subjects.append(Subject("codex UI (python)", [sys.executable, "-m", "codex", *loop],
                                "⏎ send", {**ours_env, "PYTHONPATH": str(REPO / "src")}))
        openai = args.openai_codex or (find_openai_binary(args.openai_prefix)
                                       if args.openai_prefix else cached_openai())
        if openai is not None and not args.smoke:
            subjects.append(Subject(
                "openai codex UI", [str(openai), *loop, "-c",
                                    "model_providers.loop.env_key=OPENAI_API_KEY"],
                "Ask Codex to do anything",
                {**base, "CODEX_HOME": str(theirs_home), "OPENAI_API_KEY": "dummy"}))
        else:
            subjects.append(Subject("node -e (reference)", ["node", "-e",
                                                            "console.log('node ready')"],
                                    "node ready", base))
        tmux = Tmux(root / "tmux.sock")
        try:
            for subject in subjects:  # warm-up (page cache, pyc files, first-run writes)
                tmux.time_to_marker(subject, ws)
            for _ in range(runs):  # alternate so machine noise hits every subject alike
                for subject in subjects:
                    subject.samples.append(tmux.time_to_marker(subject, ws))
        finally:
            tmux.close()

    reference = subjects[-1]
    floor = subjects[0]
    rows = [{"name": s.name, "median_ms": round(s.median_ms, 1),
             "ratio_vs_first": round(s.median_ms / floor.median_ms, 2),
             "ratio_vs_reference": round(s.median_ms / reference.median_ms, 2)}
            for s in subjects]
    if args.json:
        print(json.dumps({"runs": runs, "reference": reference.name, "subjects": rows},
                         indent=2))
        return 0
    print(f"time to first drawn composer in tmux, median of {runs} run(s)")
    for row in rows:
        print(f"  {row['name']:<26} {row['median_ms']:>8.1f} ms  x{row['ratio_vs_first']} vs "
              f"{floor.name}  x{row['ratio_vs_reference']} vs {reference.name}")
    if reference.name.startswith("node"):
        print("  (OpenAI Codex CLI not measured: pass --openai-codex or --openai-prefix)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
