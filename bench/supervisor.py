"""The supervisor's costs against the loopback model server with a fixed model latency.

Every agent is a real session (rollout written and fsynced, events, guard chain loaded);
the model is tests/support/model_server.py, in its own process (so its request validation
does not compete with the agents for this interpreter), answering each request after
--latency-ms (default 100 ms; a `[delay=S]` marker in a prompt overrides it). Baselines are
measured in the same run:
1. cold start: importing the engine in a fresh interpreter, against `python -c pass`;
   in process, Supervisor() to the first agent running.
2. one agent, one-turn task: wall time, against one raw HTTP request to the same server.
3. 2 / 4 / 8 agents in parallel: wall time for all, as a ratio to one agent (target: 8
   agents <= 1.5x one agent, and under 500 ms).
4. state transitions (publish one AgentStateChanged) and the manager lifecycle (create,
   run one agent, shut down) at zero latency, against a bare Session.open + run_task.
5. sequential tasks: N one-turn agents one after another (max_parallel 1), per task.
6. sustained load: one agent task every 0.6 s (100 requests/min) with a raw request
   interleaved at the same pace; p50/p99 of both, the p99 ratio (target <= 1.5x) and the
   drift of the agents' p50 from the first to the last minute (--full: 10 minutes; smoke:
   first vs last third of a few seconds).
7. merge strategies: each strategy over 8 finished agents; first-success's cancellation of
   7 running agents; one scorer command through the guard chain and the sandbox.
8. peak RSS per extra agent: `codex fanout -n 1` vs `-n K` processes.

    .venv/bin/python bench/supervisor.py [--smoke | --full] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx

from codex.agent import Session, SessionSettings, run_task
from codex.approvals import NonInteractiveApprover
from codex.model import resolve_provider
from codex.policies import ApprovalPolicy
from codex.protocol import UserInput
from codex.security.profiles import SecurityProfile, resolve_policy
from codex.supervisor import STRATEGIES, AgentSpec, Limits, Strategy, Supervisor, merge_results
from codex.supervisor.engine import AgentRecord
from support.model_server import ModelServer, RecordedRequest, Reply, responses_text

ANSWER = "The answer is forty-two."


def pct(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:8.2f} ms"


_DELAY = re.compile(rb"\[delay=([0-9.]+)\]")


class Latency:
    """The server's answer to every request: ANSWER after `seconds` (or the prompt's
    `[delay=S]`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, request: RecordedRequest) -> Reply:
        reply = responses_text(ANSWER)
        marker = _DELAY.search(request.body)
        reply.pause_before_headers = float(marker.group(1)) if marker else self.seconds
        return reply


def serve(latency_ms: float) -> None:
    """`--serve`: run the model server, print its URL, stop when stdin closes."""
    with ModelServer() as server:
        server.responder = Latency(latency_ms / 1000)
        print(server.url, flush=True)
        sys.stdin.read()


def settings_for(url: str, root: Path) -> SessionSettings:
    workspace = root / "ws"
    workspace.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    table = {"name": "loopback", "base_url": url, "wire_api": "responses"}
    provider = resolve_provider("loop", {"loop": table}, env={})
    return SessionSettings(
        cwd=workspace, codex_home=root, model="bench-model", provider=provider,
        provider_id="loop", sandbox_policy=resolve_policy(SecurityProfile.OFFLINE, workspace),
        approval_policy=ApprovalPolicy.NEVER, approver=NonInteractiveApprover(), audit=None)


async def raw_request(http: httpx.AsyncClient, url: str) -> float:
    body = {"model": "bench-model", "input": "hello", "stream": True}
    start = time.perf_counter()
    async with http.stream("POST", url, json=body) as response:
        async for _chunk in response.aiter_bytes():
            pass
    return time.perf_counter() - start


async def fan(settings: SessionSettings, count: int, *, parallel: int | None = None,
              specs: list[AgentSpec] | None = None) -> tuple[float, list[AgentRecord]]:
    supervisor = Supervisor(settings, Limits(max_parallel=parallel or count))
    start = time.perf_counter()
    records = await supervisor.run_all(specs or [AgentSpec(prompt="q")] * count)
    took = time.perf_counter() - start
    await supervisor.shutdown()
    assert all(r.state == "succeeded" for r in records), [(r.id, r.error) for r in records]
    return took, records


def cold_import(reps: int) -> tuple[float, float]:
    def run(code: str) -> float:
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return min(times)
    return run("pass"), run("import codex.supervisor.engine, codex.supervisor.runner")


async def first_running(settings: SessionSettings, reps: int) -> list[float]:
    values = []
    for _ in range(reps):
        seen: list[float] = []

        def note(_agent: str, event: object, seen: list[float] = seen) -> None:
            if getattr(event, "state", "") == "running":
                seen.append(time.perf_counter())

        start = time.perf_counter()
        supervisor = Supervisor(settings, Limits(), emit=note)
        supervisor.spawn(AgentSpec(prompt="q"))
        while not seen:
            await asyncio.sleep(0)
        values.append(seen[0] - start)
        await supervisor.join()
        await supervisor.shutdown()
    return values


async def bare_session(settings: SessionSettings) -> float:
    start = time.perf_counter()
    async with Session.open(settings) as session:
        result = await run_task(session, UserInput(text="[delay=0] q"), lambda _e: None)
    assert result.status == "completed"
    return time.perf_counter() - start


async def sustained(settings: SessionSettings, url: str, duration: float) -> tuple[
        list[tuple[float, float]], list[float]]:
    """((start offset, agent task latency) per tick, raw latencies) at 100 requests/min."""
    interval = 0.6
    ours: list[tuple[float, float]] = []
    raw: list[float] = []
    supervisor = Supervisor(settings, Limits(max_parallel=8, max_agents=10_000))
    async with httpx.AsyncClient() as http:
        start = time.perf_counter()
        tick = 0
        while time.perf_counter() - start < duration:
            if tick % 2:
                raw.append(await raw_request(http, url))
            began = time.perf_counter()
            record = supervisor.spawn(AgentSpec(prompt=f"q{tick}"))
            await supervisor.wait([record.id], None)
            assert record.state == "succeeded", record.error
            ours.append((began - start, time.perf_counter() - began))
            if not tick % 2:
                raw.append(await raw_request(http, url))
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * interval - time.perf_counter()))
    await supervisor.shutdown()
    return ours, raw


async def merge_costs(settings: SessionSettings, reps: int) -> dict[Strategy, float]:
    _took, records = await fan(settings, 8)
    for n, record in enumerate(records):
        record.score = float(n)
    costs: dict[Strategy, float] = {}
    for strategy in STRATEGIES:
        start = time.perf_counter()
        for _ in range(reps):
            merge_results(strategy, records)
        costs[strategy] = (time.perf_counter() - start) / reps
    return costs


async def first_success_cancel(settings: SessionSettings) -> float:
    """Seconds from the first success to the seventh cancelled agent being final."""
    specs = [AgentSpec(prompt="[delay=0.05] q")] + [AgentSpec(prompt=f"[delay=30] q{n}")
                                                    for n in range(7)]
    supervisor = Supervisor(settings, Limits(max_parallel=8))
    records = await supervisor.run_all(specs, stop_on_success=True)
    await supervisor.shutdown()
    winner = records[0]
    assert winner.state == "succeeded" and all(r.state == "cancelled" for r in records[1:])
    return max(r.ended_at or 0 for r in records[1:]) - (winner.ended_at or 0)


async def scorer_cost(settings: SessionSettings, reps: int) -> tuple[float, float]:
    """(median wall of an agent with a scorer command, without)."""
    plain, scored = [], []
    for _ in range(reps):
        plain.append((await fan(settings, 1))[0])
        took, records = await fan(settings, 1, specs=[AgentSpec(
            prompt="q", score_command=("echo", "5 passed"))])
        assert records[0].score == 5.0, records[0].score_error
        scored.append(took)
    return statistics.median(scored), statistics.median(plain)


_RSS = ("import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def fanout_rss(url: str, root: Path, agents: int) -> int:
    workspace = root / "ws"
    argv = [sys.executable, "-m", "codex", "-C", str(workspace), "fanout", "-n", str(agents),
            "--json", "-c", "model_provider=loop",
            "-c", f"model_providers.loop.base_url={url}",
            "-c", "model_providers.loop.wire_api=responses", "q"]
    env = {**os.environ, "CODEX_HOME": str(root / f"rss-home-{agents}")}
    out = subprocess.run([sys.executable, "-c", _RSS, *argv], env=env, capture_output=True,
                         text=True, check=True)
    code, rss = out.stdout.split()
    if code != "0":
        raise SystemExit(f"codex fanout -n {agents} exited {code}")
    return int(rss)


async def in_process(url: str, root: Path, args: argparse.Namespace) -> None:
    settings = settings_for(url, root)
    reps = 2 if args.smoke else 15
    await fan(settings, 2)  # warm: imports, the TLS context, the server's connections
    async with httpx.AsyncClient() as http:
        await raw_request(http, settings.provider.endpoint)
        raw = [await raw_request(http, settings.provider.endpoint) for _ in range(reps)]
    one = [(await fan(settings, 1))[0] for _ in range(reps)]
    base = statistics.median(raw)
    one_median = statistics.median(one)
    print(f"raw HTTP request (model latency {args.latency_ms:.0f} ms) {ms(base)}")
    print(f"1 agent, one-turn task                       {ms(one_median)}  "
          f"({one_median / base:.2f}x raw request; engine+session cost "
          f"{ms(one_median - base)})")
    for count in (2, 4, 8):
        walls = [(await fan(settings, count))[0] for _ in range(reps)]
        wall = statistics.median(walls)
        target = ""
        if count == 8:
            ok = wall <= 1.5 * one_median and wall < 0.5
            target = f"  target <= 1.5x and < 500 ms: {'met' if ok else 'NOT met'}"
        print(f"{count} agents in parallel                         {ms(wall)}  "
              f"({wall / one_median:.2f}x one agent){target}")

    starts = await first_running(settings, reps)
    print(f"engine start to first agent running          {ms(statistics.median(starts))}")
    seq_n = 5 if args.smoke else 20
    took, _records = await fan(settings, seq_n, parallel=1)
    print(f"{seq_n} sequential tasks (max_parallel 1)           {ms(took)}  "
          f"({ms(took / seq_n).strip()} per task; {took / seq_n / one_median:.2f}x one agent)")

    instant = [AgentSpec(prompt="[delay=0] q")]
    supervisor = Supervisor(settings, Limits())
    record = supervisor.spawn(instant[0])
    await supervisor.join()
    count = 2000
    start = time.perf_counter()
    for _ in range(count):
        supervisor.publish(record)
    per = (time.perf_counter() - start) / count
    await supervisor.shutdown()
    print(f"state transition (publish AgentStateChanged) {ms(per)}")
    bare = [await bare_session(settings) for _ in range(reps)]
    life = [(await fan(settings, 1, specs=instant))[0] for _ in range(reps)]
    print(f"manager lifecycle (create, run 1, shut down) {ms(statistics.median(life))}  "
          f"(bare Session.open + run_task {ms(statistics.median(bare)).strip()}; engine adds "
          f"{ms(statistics.median(life) - statistics.median(bare)).strip()})")
    for strategy, cost in (await merge_costs(settings, 200)).items():
        print(f"merge {strategy:<14} over 8 agents           {ms(cost)}")
    cancel = await first_success_cancel(settings)
    print(f"first-success: 7 running agents cancelled in {ms(cancel)} after the winner")
    scored, plain = await scorer_cost(settings, 2 if args.smoke else 5)
    print(f"highest-score scorer (sandboxed echo)        {ms(scored - plain)} per agent "
          f"(agent with scorer {ms(scored).strip()}, without {ms(plain).strip()})")

    duration = 600.0 if args.full else (1.5 if args.smoke else args.duration)
    ours, raw_load = await sustained(settings, settings.provider.endpoint, duration)
    latencies = [lat for _at, lat in ours]
    window = 60.0 if duration >= 180 else duration / 3
    first = [lat for at, lat in ours if at < window]
    last = [lat for at, lat in ours if at >= duration - window]
    ratio = pct(latencies, 0.99) / pct(raw_load, 0.99)
    drift = statistics.median(last) / statistics.median(first)
    print(f"sustained {len(ours) / duration * 60:.0f} tasks/min for {duration:.0f} s "
          f"({len(ours)} tasks): agents p50 {ms(statistics.median(latencies)).strip()} "
          f"p99 {ms(pct(latencies, 0.99)).strip()}; raw p50 "
          f"{ms(statistics.median(raw_load)).strip()} p99 {ms(pct(raw_load, 0.99)).strip()}; "
          f"p99 ratio {ratio:.2f}x (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}); "
          f"drift last/first {window:.0f} s p50 {drift:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds, for CI")
    parser.add_argument("--full", action="store_true", help="10 minutes of sustained load")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds of sustained load without --full (default 60)")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency_ms)
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--latency-ms",
                               str(args.latency_ms)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    with tempfile.TemporaryDirectory(prefix="codex-bench-sup-") as tmp:
        root = Path(tmp)
        base, engine = cold_import(1 if args.smoke else 5)
        print(f"cold start: import the engine {ms(engine)} (python -c pass {ms(base).strip()}; "
              f"{engine / base:.2f}x)")
        asyncio.run(in_process(url, root, args))
        extra = 2 if args.smoke else 8
        one, many = fanout_rss(url, root, 1), fanout_rss(url, root, extra)
        print(f"peak RSS: codex fanout -n 1 {one / 1024:.1f} MiB, -n {extra} "
              f"{many / 1024:.1f} MiB: {(many - one) / (extra - 1) / 1024:.2f} MiB per extra "
              "agent")
    server.stdin.close()
    server.wait(timeout=30)


if __name__ == "__main__":
    main()
