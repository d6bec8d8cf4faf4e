"""Cost of the agent's turn loop on top of the model, against raw HTTP to the same server.

Three measurements, all against the loopback scripted server (tests/support/model_server.py)
answering instantly, so what is left is codex's own work (request building, SSE decoding,
events, scrubbing, durable rollout writes, tool dispatch):

1. Overhead per turn: `run_task` wall time minus the time a raw httpx POST of the same request
   body takes to read the same reply (the baseline, measured right before each turn). Two
   kinds of turn: text only (1 request), and an update_plan call then text (2 requests; the
   baseline is two raw requests). No sandboxed command is involved. Target: median <= 5 ms.
2. Sustained load: one session receives a task every 0.6 s (100 requests/minute) for
   --duration seconds (--full: 120 s), interleaved with raw requests at the same pace (which
   goes first alternates); p50/p99 latency of both and their ratio.
3. Peak RSS of a real `codex exec --json` process running a task with a sandboxed command, a
   plan and an answer (wait4 rusage of that child), against `python -c pass` as the baseline.

    .venv/bin/python bench/agent_turn.py [--turns 200] [--duration 20 | --full | --smoke]

--smoke (CI): 2 turns of each kind, 2 s of sustained load, one RSS run; exits non-zero if any
part fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx

from codex.agent import Session, SessionSettings, run_task
from codex.agent.rollout import RolloutWriter
from codex.approvals import NonInteractiveApprover
from codex.model import Message, Prompt, resolve_provider
from codex.policies import ApprovalPolicy
from codex.protocol import AgentEvent, UserInput
from codex.security.profiles import SecurityProfile, resolve_policy
from support.model_server import (
    Call,
    ModelServer,
    Reply,
    Text,
    responses_reply,
    responses_text,
)

RATE_PER_MINUTE = 100
ANSWER = "The answer is forty-two, as computed carefully by the model for this bench."
PLAN = json.dumps({"plan": [{"step": "look", "status": "completed"},
                            {"step": "answer", "status": "in_progress"}]})


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:7.2f} ms"


def settings_for(server: ModelServer, root: Path) -> SessionSettings:
    workspace = root / "ws"
    workspace.mkdir(parents=True, exist_ok=True)
    provider = resolve_provider("loop", {"loop": server.provider_table()}, env={})
    return SessionSettings(
        cwd=workspace, codex_home=root, model="bench-model", provider=provider,
        provider_id="loop", sandbox_policy=resolve_policy(SecurityProfile.OFFLINE, workspace),
        approval_policy=ApprovalPolicy.ON_REQUEST, approver=NonInteractiveApprover(),
        audit=None)


async def raw_turn(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> float:
    """The baseline: POST the body and read the whole reply, nothing else."""
    start = time.perf_counter()
    async with http.stream("POST", url, json=body) as response:
        async for _chunk in response.aiter_bytes():
            pass
    return time.perf_counter() - start


def next_body(session: Session, prompt_text: str) -> dict[str, object]:
    """The body the session's next request will send (history + the new prompt)."""
    prompt = Prompt(model=session.settings.model, instructions=session.instructions,
                    input=(*session.history, Message("user", prompt_text)),
                    tools=session.tools, prompt_cache_key=session.id)
    return session.client.request_body(prompt)


async def overhead(server: ModelServer, root: Path, turns: int,
                   replies: Callable[[], list[Reply]]) -> tuple[list[float], list[float]]:
    """(baseline seconds, overhead seconds) per turn; see the module docstring."""
    settings = settings_for(server, root)
    sink: list[AgentEvent] = []
    baselines: list[float] = []
    costs: list[float] = []
    async with httpx.AsyncClient() as http, Session.open(settings) as session:
        url = session.settings.provider.endpoint
        for i in range(turns):
            script = replies()
            body = next_body(session, f"question {i}")
            baseline = 0.0
            for reply in script:  # the same replies, read raw (call ids need no answer here)
                server.enqueue(reply)
                baseline += await raw_turn(http, url, body)
            server.enqueue(*script)
            start = time.perf_counter()
            result = await run_task(session, UserInput(text=f"question {i}"), sink.append)
            took = time.perf_counter() - start
            assert result.status == "completed", result.error
            baselines.append(baseline)
            costs.append(took - baseline)
            sink.clear()
    return baselines, costs


async def sustained(server: ModelServer, root: Path, duration: float) -> tuple[
        list[float], list[float], float]:
    """Latencies of raw requests and of agent tasks at RATE_PER_MINUTE each, and the rate."""
    settings = settings_for(server, root)
    interval = 60.0 / RATE_PER_MINUTE
    raw: list[float] = []
    ours: list[float] = []
    async with httpx.AsyncClient() as http, Session.open(settings) as session:
        url = session.settings.provider.endpoint
        start = time.perf_counter()
        tick = 0
        while time.perf_counter() - start < duration:
            body = next_body(session, f"q{tick}")
            if tick % 2:  # alternate which side goes first after the idle gap
                server.enqueue(responses_text(ANSWER))
                raw.append(await raw_turn(http, url, body))
            server.enqueue(responses_text(ANSWER))
            began = time.perf_counter()
            result = await run_task(session, UserInput(text=f"q{tick}"), lambda _e: None)
            ours.append(time.perf_counter() - began)
            assert result.status == "completed", result.error
            if not tick % 2:
                server.enqueue(responses_text(ANSWER))
                raw.append(await raw_turn(http, url, body))
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * interval - time.perf_counter()))
        rate = len(ours) / (time.perf_counter() - start) * 60
    return raw, ours, rate


def append_costs(root: Path, count: int = 100) -> tuple[float, float]:
    """Median seconds of a rollout append as the turn pays it (write, fsync queued), and of
    an append waited through to the disk (write + fsync): the cost kept off the turn."""
    writer = RolloutWriter.create(root, "00000000-0000-7000-8000-000000000000", {"cwd": "/"})
    queued, durable = [], []
    for _ in range(count):
        start = time.perf_counter()
        writer.append("bench", {"text": ANSWER})
        queued.append(time.perf_counter() - start)
        writer.sync()
        durable.append(time.perf_counter() - start)
    writer.close()
    return statistics.median(queued), statistics.median(durable)


# Runs argv and prints the peak RSS of its children. Measured from this small launcher, not
# from the bench process: a child forked from a big parent reports the parent's pages as its
# own peak until it execs.
_RSS_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL,"
    " stdout=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_rss_kib(argv: list[str], env: dict[str, str], cwd: Path) -> int:
    out = subprocess.run([sys.executable, "-c", _RSS_LAUNCHER, *argv], env=env, cwd=cwd,
                         capture_output=True, text=True, check=True)
    code, rss = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{argv[:4]} failed with {code}: {out.stderr}")
    return int(rss)


def session_rss(server: ModelServer, root: Path) -> tuple[int, int]:
    """(baseline KiB, codex exec KiB): peak RSS of `python -c pass` and of a real session."""
    workspace = root / "rss-ws"
    workspace.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    server.enqueue(
        responses_reply(Call("update_plan", PLAN, "call_plan"),
                        Call("shell", json.dumps({"command": ["ls", "-la"]}), "call_ls")),
        responses_text(ANSWER))
    env = {**os.environ, "CODEX_HOME": str(root)}
    argv = [sys.executable, "-m", "codex", "-C", str(workspace), "exec", "--json",
            "-c", "model_provider=loop", "-c", f"model_providers.loop.base_url={server.url}",
            "-c", "model_providers.loop.wire_api=responses", "list the files"]
    baseline = peak_rss_kib([sys.executable, "-c", "pass"], env, workspace)
    return baseline, peak_rss_kib(argv, env, workspace)


def report(name: str, baseline: Sequence[float], costs: Sequence[float]) -> None:
    median = statistics.median(costs)
    print(f"{name:34s} overhead median {ms(median)}  p99 {ms(percentile(costs, 0.99))}   "
          f"(raw HTTP baseline median {ms(statistics.median(baseline))}; "
          f"turn/baseline {1 + median / statistics.median(baseline):.2f}x; "
          f"target <= 5 ms: {'met' if median <= 0.005 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="turns per overhead kind")
    parser.add_argument("--duration", type=float, default=20.0,
                        help="seconds of sustained load (default 20)")
    parser.add_argument("--full", action="store_true", help="sustained load for 120 s")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check that the bench runs: 2 turns each, 2 s of load")
    args = parser.parse_args()
    if args.smoke:
        args.turns, args.duration = 2, 2.0
    duration = 120.0 if args.full else args.duration
    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp, ModelServer() as server:
        root = Path(tmp)
        text_only: Callable[[], list[Reply]] = lambda: [responses_text(ANSWER)]  # noqa: E731
        with_plan: Callable[[], list[Reply]] = lambda: [  # noqa: E731
            responses_reply(Call("update_plan", PLAN, "call_plan")),
            responses_reply(Text(ANSWER))]
        asyncio.run(overhead(server, root / "warm", min(10, args.turns), text_only))
        queued, durable = append_costs(root / "fs")
        print(f"rollout append: {ms(queued)} on the turn (write; fsync queued), "
              f"{ms(durable)} waited through to the disk (write + fsync)")
        base, cost = asyncio.run(overhead(server, root / "text", args.turns, text_only))
        report("text-only turn (1 request)", base, cost)
        base, cost = asyncio.run(overhead(server, root / "plan", args.turns, with_plan))
        report("update_plan turn (2 requests)", base, cost)
        raw, ours, rate = asyncio.run(sustained(server, root / "load", duration))
        print(f"sustained {rate:.0f} tasks/min for {duration:.0f} s ({len(ours)} tasks): "
              f"agent p50 {ms(statistics.median(ours))} p99 {ms(percentile(ours, 0.99))}; "
              f"raw p50 {ms(statistics.median(raw))} p99 {ms(percentile(raw, 0.99))}; "
              f"ratio p50 {statistics.median(ours) / statistics.median(raw):.2f}x")
        baseline_rss, rss = session_rss(server, root)
        print(f"peak RSS of a codex exec session {rss / 1024:.1f} MiB "
              f"(python -c pass {baseline_rss / 1024:.1f} MiB; ratio {rss / baseline_rss:.1f}x)")


if __name__ == "__main__":
    main()
