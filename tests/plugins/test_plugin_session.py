"""Plugin tools inside an agent session: a full `codex exec` turn against the loopback model,
approval by annotations, the audit trail; and the light paths never loading wasmtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_kit import FIXTURES, RunCodex, audit_lines, plugin_env

from support.model_server import ModelServer, responses_function_call, responses_text

pytestmark = pytest.mark.timeout(300)


def _exec(server: ModelServer, home: Path, workspace: Path, *args: str,
          probe: bool = False) -> subprocess.CompletedProcess[str]:
    provider = ["-c", "model_provider=loop", "-c", f"model_providers.loop.base_url={server.url}",
                "-c", "model_providers.loop.wire_api=responses"]
    argv = ["-C", str(workspace), "exec", *provider, "--json", "--skip-git-repo-check", *args]
    if probe:  # run in-process and report whether wasmtime was ever imported
        code = ("import sys\nfrom codex.__main__ import main\ntry:\n    rc = main(sys.argv[1:])\n"
                "finally:\n    print('WASMTIME=' + str('wasmtime' in sys.modules), "
                "file=sys.stderr)\nsys.exit(rc)\n")
        command = [sys.executable, "-c", code, *argv]
    else:
        command = [sys.executable, "-m", "codex", *argv]
    return subprocess.run(command, capture_output=True, text=True, cwd=workspace,
                          env=plugin_env(home), timeout=120, check=False)


def _outputs(body: dict) -> dict[str, str]:
    return {i["call_id"]: i["output"] for i in body["input"]
            if i["type"] == "function_call_output"}


def test_exec_turn_calls_a_plugin_tool_and_uses_its_result(
        codex: RunCodex, model_server: ModelServer, home: Path, workspace: Path) -> None:
    assert codex("plugin", "install", str(FIXTURES / "files"), "--yes").returncode == 0
    model_server.enqueue(
        responses_function_call("plugin__files__add", {"a": 19, "b": 23}, "call_1"),
        responses_text("The sum is 42."))
    run = _exec(model_server, home, workspace, "add 19 and 23 with the plugin", probe=True)
    assert run.returncode == 0, run.stderr
    assert "WASMTIME=True" in run.stderr  # control for the light-path probe below
    first, second = model_server.requests
    offered = {t["name"] for t in first.json["tools"]}
    assert {"plugin__files__add", "plugin__files__read", "plugin__files__write"} <= offered
    assert json.loads(_outputs(second.json)["call_1"]) == {"sum": 42}
    events = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    (item,) = [e["item"] for e in events if e["type"] == "item.completed"
               and e["item"]["type"] == "mcp_tool_call"]
    assert (item["server"], item["tool"], item["status"]) == ("plugin:files", "add", "completed")
    assert any(e["type"] == "item.completed" and e["item"].get("text") == "The sum is 42."
               for e in events)
    calls = [e for e in audit_lines(home) if e["operation"] == "plugin_call"]
    assert [c["actor"] for c in calls] == ["agent", "agent"]
    assert "outcome=ok" in str(calls[-1]["reason"])


def test_destructive_tool_needs_approval_and_nobody_can_answer_in_exec(
        codex: RunCodex, model_server: ModelServer, home: Path, workspace: Path) -> None:
    assert codex("plugin", "install", str(FIXTURES / "files"), "--yes").returncode == 0
    assert codex("plugin", "grant", "files", "--path", "{workspace}/out", "--yes").returncode == 0
    model_server.enqueue(
        responses_function_call("plugin__files__write", {"path": "/out/a.txt", "text": "x"},
                                "call_1"),
        responses_text("Could not write."))
    run = _exec(model_server, home, workspace, "-c", "approval_policy=on-request", "write a file")
    assert run.returncode == 0, run.stderr
    assert not (workspace / "out" / "a.txt").exists()
    output = _outputs(model_server.requests[1].json)["call_1"]
    assert "needs approval" in output
    approvals = [e for e in audit_lines(home) if e["operation"] == "approval"
                 and str(e["target"]).startswith("plugin__files__write")]
    assert [a["decision"] for a in approvals] == ["requires_approval", "denied"]
    # control: with approval policy `never` the grant is the boundary and the write happens
    model_server.enqueue(
        responses_function_call("plugin__files__write", {"path": "/out/a.txt", "text": "x"},
                                "call_2"),
        responses_text("Written."))
    run = _exec(model_server, home, workspace, "-c", "approval_policy=never", "write a file")
    assert run.returncode == 0, run.stderr
    assert (workspace / "out" / "a.txt").read_text() == "x"


def test_exec_without_plugins_does_not_load_wasmtime(model_server: ModelServer, home: Path,
                                          workspace: Path) -> None:
    """`--version` and `codex sandbox` are covered by the probes in tests/cli (wasmtime is on
    their list of heavy modules); this is the agent's path with no plugin installed."""
    model_server.enqueue(responses_text("hello"))
    run = _exec(model_server, home, workspace, "say hello", probe=True)
    assert run.returncode == 0, run.stderr
    assert "WASMTIME=False" in run.stderr
