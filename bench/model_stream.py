"""Cost of the model client per streamed turn, against a raw httpx read of the same bytes.

Both sides POST to the same loopback scripted server (tests/support/model_server.py) and read
the same SSE reply (a 300-delta answer plus a function call); the baseline only reads bytes,
codex decodes SSE, parses events and builds model events. Prints median/p99 per turn and the
ratio, plus the client's overhead in milliseconds per turn.

    .venv/bin/python bench/model_stream.py [--turns 200] [--deltas 300] [--smoke]

--smoke (CI): 2 turns of 30 deltas, to prove the bench still runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx

from codex.model import Completed, Message, ModelClient, Prompt, resolve_provider
from support.model_server import Call, ModelServer, Text, responses_reply


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(server: ModelServer, turns: int, deltas: int) -> tuple[list[float], list[float]]:
    text = " ".join(f"w{i}" for i in range(deltas))
    reply = responses_reply(Text(text), Call("shell", '{"command":["ls","-la"]}', "call_1"))
    provider = resolve_provider("loop", {"loop": server.provider_table()}, env={})
    prompt = Prompt(model="m", instructions="bench", input=[Message("user", "go")])
    raw: list[float] = []
    ours: list[float] = []
    async with httpx.AsyncClient() as http, ModelClient(provider) as client:
        body = client.request_body(prompt)
        for _ in range(turns):
            server.enqueue(reply, reply)
            start = time.perf_counter()
            async with http.stream("POST", provider.endpoint, json=body) as response:
                async for _chunk in response.aiter_bytes():
                    pass
            raw.append(time.perf_counter() - start)
            start = time.perf_counter()
            events = [event async for event in client.stream(prompt)]
            ours.append(time.perf_counter() - start)
            assert isinstance(events[-1], Completed) and len(events) == deltas + 3
    return raw, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--deltas", type=int, default=300)
    parser.add_argument("--smoke", action="store_true", help="CI check: 2 turns, 30 deltas")
    args = parser.parse_args()
    if args.smoke:
        args.turns, args.deltas = 2, 30
    with ModelServer() as server:
        asyncio.run(measure(server, min(10, args.turns), args.deltas))  # warm up
        raw, ours = asyncio.run(measure(server, args.turns, args.deltas))
    for name, values in (("raw httpx read (baseline)", raw), ("codex.model stream", ours)):
        print(f"{name:28s} median {statistics.median(values) * 1000:7.2f} ms   "
              f"p99 {percentile(values, 0.99) * 1000:7.2f} ms")
    ratio = statistics.median(ours) / statistics.median(raw)
    overhead = (statistics.median(ours) - statistics.median(raw)) * 1000
    print(f"ratio codex/baseline (median): {ratio:.2f}x; "
          f"client overhead {overhead:.2f} ms per turn of {args.deltas} deltas")


if __name__ == "__main__":
    main()
