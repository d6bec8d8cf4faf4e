"""MCP in the Nuitka build: a `codex exec` turn of the native binary calls a real stdio server
(mcp-server-time, run inside our sandbox, which re-executes the binary) and a real Streamable
HTTP server (server-everything), driven by the scripted loopback model. The MCP package is
imported only when a session has servers, so a module the build left out shows only here."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agent.agent_helpers import exec_command, exec_env
from support.model_server import (
    ModelServer,
    model_server,  # noqa: F401  (fixture)
    responses_function_call,
    responses_text,
)
from support.workspaces import codex_home, workspace  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(300)


def _mcp_tools() -> ModuleType:
    """tests/mcp/mcp_tools.py (the real test servers), loaded by path: `mcp` is not a package
    of ours to import from."""
    path = Path(__file__).parents[1] / "mcp" / "mcp_tools.py"
    spec = importlib.util.spec_from_file_location("mcp_tools", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules.setdefault("mcp_tools", importlib.util.module_from_spec(spec))
    if not hasattr(module, "tools_dir"):
        spec.loader.exec_module(module)
    return module


def test_native_exec_calls_stdio_and_http_mcp_tools(native_binary: Path,
                                                    model_server: ModelServer,  # noqa: F811
                                                    workspace: Path,  # noqa: F811
                                                    codex_home: Path) -> None:  # noqa: F811
    tools = _mcp_tools()
    with tools.everything_http_server() as url:
        (codex_home / "config.toml").write_text(
            f'[mcp_servers.time]\ncommand = "{tools.py_server("mcp-server-time")}"\n'
            'args = ["--local-timezone", "UTC"]\n'
            f'[mcp_servers.web]\nurl = "{url}"\n'
            '[mcp_servers.web.tools.get-sum]\napproval_mode = "approve"\n')
        model_server.enqueue(
            responses_function_call("get_current_time", {"timezone": "Asia/Tokyo"}, "c1",
                                    namespace="mcp__time__"),
            responses_function_call("get-sum", {"a": 40, "b": 2}, "c2", namespace="mcp__web__"),
            responses_text("done"))
        argv = [str(native_binary), *exec_command(model_server, workspace,
                                                  ["--json", "time and sum"])[3:]]
        done = subprocess.run(argv, capture_output=True, text=True, env=exec_env(codex_home),
                              timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    outputs = {}
    for request in model_server.requests[1:]:
        outputs.update({i["call_id"]: i["output"] for i in request.json["input"]
                        if i["type"] == "function_call_output"})
    assert "+09:00" in json.loads(outputs["c1"])["datetime"]
    assert outputs["c2"].endswith("42.")
    items = [json.loads(line)["item"] for line in done.stdout.splitlines()
             if '"item.completed"' in line and '"mcp_tool_call"' in line]
    assert [(i["server"], i["tool"], i["status"]) for i in items] == [
        ("time", "get_current_time", "completed"), ("web", "get-sum", "completed")]


def test_native_mcp_server_over_http(native_binary: Path, tmp_path: Path) -> None:
    """`codex mcp-server --http 0` of the binary: initialize and tools/list over HTTP."""
    import httpx

    env = {"CODEX_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    with subprocess.Popen([str(native_binary), "mcp-server", "--http", "0"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert "listening on http://127.0.0.1:" in line, line
            url = line.split("listening on ")[1].strip()
            accept = {"accept": "application/json, text/event-stream"}
            init = httpx.post(url, headers=accept, timeout=30, json={
                "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "e2e", "version": "0"}}})
            assert init.json()["result"]["serverInfo"]["name"] == "codex-mcp-server"
            listed = httpx.post(url, timeout=30, json={
                "jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                headers={**accept, "mcp-session-id": init.headers["mcp-session-id"]})
            assert [t["name"] for t in listed.json()["result"]["tools"]] == [
                "codex", "codex-reply"]
        finally:
            proc.terminate()
