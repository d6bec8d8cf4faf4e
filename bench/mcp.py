"""What MCP costs: a tool call's added latency, and `codex --version` with servers configured.

1. Added latency per call: the same tool (mcp-server-time's get_current_time, from PyPI) called
   N times through a session's MCP tools (the server in the sandbox, the call through the
   approval and audit chain, the result mapped for the model) against N direct JSON-RPC round
   trips (a line written to the server's stdin, a line read back) to another instance of the
   same server, unsandboxed, measured in the same run. Prints both medians and the difference.
2. `codex --version` with ten `[mcp_servers]` configured against none (MCP must load only when
   a session starts): medians and ratio.

    .venv/bin/python bench/mcp.py [--calls 200] [--runs 20] [--smoke]
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

from codex.audit import AuditLog
from codex.config.schema import McpServerConfig
from codex.mcp.toolset import McpTools
from codex.policies import ApprovalPolicy
from codex.security import parse_profile, resolve_policy
from codex.tools.base import ToolContext
from codex.tools.guarded_exec import Guard

REPO = Path(__file__).resolve().parents[1]
CALL = {"name": "get_current_time", "arguments": {"timezone": "UTC"}}


def time_server() -> str:
    tools = subprocess.run(["bash", str(REPO / "tests/mcp/tools/install.sh")], check=True,
                           capture_output=True, text=True).stdout.strip()
    return str(Path(tools) / "py" / "bin" / "mcp-server-time")


def direct_round_trips(server: str, calls: int) -> list[float]:
    """Raw JSON-RPC over the server's pipes: handshake, then `calls` timed tools/call."""
    proc = subprocess.Popen([server], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None

    def exchange(message: dict[str, object]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        proc.stdin.flush()
        if "id" in message:
            while json.loads(proc.stdout.readline()).get("id") != message["id"]:
                pass

    exchange({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"}}})
    exchange({"jsonrpc": "2.0", "method": "notifications/initialized"})
    samples = []
    for i in range(1, calls + 1):
        start = time.perf_counter()
        exchange({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": CALL})
        samples.append(time.perf_counter() - start)
    proc.stdin.close()
    proc.wait(10)
    return samples


def session_calls(server: str, calls: int, work: Path) -> list[float]:
    """The same call the way a session makes it: McpTools.call with the guard and audit."""
    home = work / "home"
    home.mkdir()
    policy = resolve_policy(parse_profile("offline"), work)
    tools = McpTools.start({"time": McpServerConfig(command=server)}, cwd=work, policy=policy,
                           codex_home=home)
    audit = AuditLog(home)
    from codex.approvals import NonInteractiveApprover

    guard = Guard.create(codex_home=home, approval_policy=ApprovalPolicy.ON_REQUEST,
                         approver=NonInteractiveApprover(), audit=audit, session_id="bench",
                         actor="agent")
    ctx = ToolContext(workspace=work, sandbox_policy=policy,
                      approval_policy=ApprovalPolicy.ON_REQUEST, session_id="bench",
                      guard=guard, audit=audit)
    samples = []
    try:
        for _ in range(calls):
            start = time.perf_counter()
            out = tools.call("time", "get_current_time", dict(CALL["arguments"]), ctx)
            samples.append(time.perf_counter() - start)
            assert out.success, out.text
    finally:
        tools.close()
    return samples


def version_times(home: Path, runs: int) -> list[float]:
    env = {**os.environ, "CODEX_HOME": str(home)}
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "codex", "--version"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="a few iterations (CI)")
    args = parser.parse_args()
    calls, runs = (5, 3) if args.smoke else (args.calls, args.runs)
    server = time_server()
    with tempfile.TemporaryDirectory(prefix="codex-bench-mcp-") as tmp:
        work = Path(tmp)
        direct = statistics.median(direct_round_trips(server, calls)) * 1000
        ours = statistics.median(session_calls(server, calls, work)) * 1000
        print(f"tool call, direct JSON-RPC round trip: median {direct:.2f} ms ({calls} calls)")
        print(f"tool call through codex's MCP tools:    median {ours:.2f} ms "
              f"(added {ours - direct:+.2f} ms, ratio {ours / direct:.2f}x)")
        empty, ten = work / "empty", work / "ten"
        empty.mkdir()
        ten.mkdir()
        (ten / "config.toml").write_text("".join(
            f'[mcp_servers.s{i}]\ncommand = "{server}"\n' for i in range(10)))
        base = statistics.median(version_times(empty, runs)) * 1000
        configured = statistics.median(version_times(ten, runs)) * 1000
        print(f"codex --version, no servers: median {base:.1f} ms; ten servers: "
              f"{configured:.1f} ms (ratio {configured / base:.2f}x, {runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
