#!/usr/bin/env python3
"""Agent shell benchmark: the wall time one sandboxed `shell` call (`true`) adds inside a
running session, against baselines measured in the same run.

Subjects (median of N alternating runs, wall clock):
- `true` spawned directly (the floor: fork + exec),
- the session's guard chain with warm confinement (exec policy, approvals, audit, sandbox;
  the helper was confined while the "model" thought, here a fixed pause between calls),
- the same chain cold (no warm helper: every call starts and confines a helper),
- the OpenAI Codex CLI's `codex sandbox -P :read-only -- true` (its native binary; pass
  --openai-codex PATH or --openai-prefix DIR where `npm install @openai/codex` put it).
Prints each median and its ratio against `true` and against the OpenAI Codex CLI (target for
the warm call: <= 0.5x).

Usage: bench/agent_shell.py [--runs N] [--think-ms MS] [--openai-codex PATH]
                            [--openai-prefix DIR] [--json] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from sandbox_start import (  # noqa: E402
    find_openai_binary,
    openai_sandbox_argv,
    print_rows,
    ratio_rows,
    timed,
)

from codex.approvals import NonInteractiveApprover  # noqa: E402
from codex.audit import AuditLog  # noqa: E402
from codex.policies import ApprovalPolicy  # noqa: E402
from codex.security.profiles import SecurityProfile, resolve_policy  # noqa: E402
from codex.tools.guarded_exec import ExecRequest, Guard, run_guarded  # noqa: E402
from codex.tools.warm_shell import WarmHelper  # noqa: E402

TRUE = shutil.which("true") or "/bin/true"


def make_guard(home: Path, warm: bool) -> Guard:
    guard = Guard.create(codex_home=home, approval_policy=ApprovalPolicy.ON_REQUEST,
                         approver=NonInteractiveApprover(), audit=AuditLog(home),
                         session_id="bench", actor="agent")
    if warm:
        guard.warm = WarmHelper()
    return guard


def time_call(guard: Guard, ws: Path) -> float:
    """One `shell` call as the agent makes it: streamed output, a timeout, the policy."""
    request = ExecRequest(argv=[TRUE], cwd=ws, workspace=ws,
                          policy=resolve_policy(SecurityProfile.WORKSPACE_WRITE, ws),
                          timeout_s=10, on_output=lambda _s, _c: None)
    start = time.perf_counter()
    outcome = run_guarded(guard, request)
    elapsed = time.perf_counter() - start
    if outcome.exit_code != 0:
        raise SystemExit(f"sandboxed call failed: {outcome.status.value} {outcome.reason}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--think-ms", type=float, default=150.0,
                        help="pause between calls, standing for the model's reply time")
    parser.add_argument("--openai-codex", type=Path)
    parser.add_argument("--openai-prefix", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="2 runs, no pause floor: proves the benchmark still works (CI)")
    args = parser.parse_args()
    runs = 2 if args.smoke else args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    openai = args.openai_codex or (find_openai_binary(args.openai_prefix)
                                   if args.openai_prefix else None)
    samples: dict[str, list[float]] = {"true": [], "shell call, warm": [],
                                       "shell call, cold": []}
    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        ws, home = Path(tmp) / "ws", Path(tmp) / "home"
        ws.mkdir()
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
               "CODEX_HOME": str(home), "LANG": "C.UTF-8"}
        openai_argv = openai_sandbox_argv(openai, env) if openai is not None else []
        if openai_argv:
            samples["openai codex sandbox -P :read-only"] = []
        warm, cold = make_guard(home, warm=True), make_guard(home, warm=False)
        try:
            time_call(warm, ws)  # warm-up: imports, page cache; leaves a helper ready
            time_call(cold, ws)
            for _ in range(runs):
                time.sleep(args.think_ms / 1000)
                samples["shell call, warm"].append(time_call(warm, ws))
                samples["shell call, cold"].append(time_call(cold, ws))
                samples["true"].append(timed([TRUE], ws, env))
                if openai_argv:
                    samples["openai codex sandbox -P :read-only"].append(
                        timed(openai_argv, ws, env))
        finally:
            assert warm.warm is not None
            warm.warm.close()
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    rows = ratio_rows(medians, "openai codex sandbox -P :read-only")
    if args.json:
        print(json.dumps({"runs": runs, "think_ms": args.think_ms, "subjects": rows}, indent=2))
        return 0
    print(f"agent shell call, median of {runs} runs (wall clock)")
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
