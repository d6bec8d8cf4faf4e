"""The sub-agent tools in `codex exec`: real child sessions, collab items in --json, and the
depth and thread limits through nested spawns, parallel spawns and a resumed child."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from supervisor_helpers import interrupt_once_running

from codex.agent import find_rollout, load_rollout
from codex.audit import AuditEntry, audit_dir, read_entries
from support.model_server import Call, ModelServer, responses_reply, responses_text
from support.procs import pids_with

pytestmark = pytest.mark.timeout(120)


def _exec(server: ModelServer, workspace: Path, codex_home: Path, *args: str,
          limits: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "codex", "-C", str(workspace), "exec", "--json",
            "-c", "model_provider=loop", "-c", f"model_providers.loop.base_url={server.url}",
            "-c", "model_providers.loop.wire_api=responses",
            "-c", "model_providers.loop.request_max_retries=0",
            "-c", "agents.enabled=true", *limits, *args]


def _env(codex_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    return {**env, "CODEX_HOME": str(codex_home), "NO_COLOR": "1"}


def _run(argv: list[str], codex_home: Path) -> tuple[int, list[dict[str, Any]], str]:
    proc = subprocess.run(argv, capture_output=True, text=True, env=_env(codex_home),
                          timeout=90)
    return proc.returncode, [json.loads(x) for x in proc.stdout.splitlines()], proc.stderr


def _call(name: str, arguments: dict[str, Any], call_id: str) -> Call:
    return Call(name, json.dumps(arguments), call_id)


SCHEMA = Path(__file__).parents[1] / "agent" / "exec_events.schema.json"


def _spawn_entries(codex_home: Path) -> list[AuditEntry]:
    """The `agent_spawn` entries of the audit log, oldest first."""
    return [e for e in read_entries(audit_dir(codex_home)) if e.operation == "agent_spawn"]


def _collab(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The collab items, after checking every event against the exec --json schema."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event}: {errors[0].message}"
    return [e["item"] for e in events
            if e["type"] == "item.completed" and e["item"]["type"] == "collab_tool_call"]


def test_spawn_and_wait_run_a_real_child_session(model_server: ModelServer, workspace: Path,
                                                 codex_home: Path) -> None:
    model_server.route("[root]",
                       responses_reply(_call("spawn_agent", {"message": "[child] say hi",
                                                             "agent_type": "explorer"}, "s1")),
                       responses_reply(_call("wait_agents", {"ids": ["agent-1"]}, "w1")),
                       responses_text("the child said hi"))
    model_server.route("[child]", responses_text("hi from the child"))
    code, events, stderr = _run(_exec(model_server, workspace, codex_home, "[root] delegate"),
                                codex_home)
    assert code == 0, stderr
    root = events[0]["thread_id"]
    spawn, wait = _collab(events)
    assert spawn["tool"] == "spawn_agent" and spawn["status"] == "completed"
    assert spawn["sender_thread_id"] == root and spawn["receiver_thread_ids"] == ["agent-1"]
    assert spawn["prompt"] == "[child] say hi"
    assert wait["tool"] == "wait" and wait["agents_states"] == {
        "agent-1": {"status": "completed", "message": "hi from the child"}}
    assert events[-1]["type"] == "turn.completed"
    [entry] = _spawn_entries(codex_home)
    assert (entry.target, entry.decision, entry.session_id) == (
        "spawn_agent agent-1", "allowed", root)
    assert entry.reason == f"explorer sub-agent of {root}"
    child_request = next(r.json for r in model_server.requests if b"[child]" in r.body
                         and b"[root]" not in r.body)
    assert "explorer sub-agent" in child_request["input"][0]["content"][0]["text"]
    sessions = sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))
    metas = [load_rollout(p).meta for p in sessions]
    child = next(m for m in metas if m["id"] != root)
    assert child["agent"] == {"agent_id": "agent-1", "depth": 1, "parent_session_id": root}


def test_depth_and_thread_limits_hold_through_nested_spawns_and_resume(
        model_server: ModelServer, workspace: Path, codex_home: Path) -> None:
    # The root asks for two children at once with max_threads = 1: one is refused. The child
    # that runs tries a grandchild with max_depth = 1: refused. Then the child is resumed on
    # its own with `codex exec resume`, and its depth still holds.
    model_server.route("[root]",
                       responses_reply(_call("spawn_agent", {"message": "[kid-a] go"}, "s1"),
                                       _call("spawn_agent", {"message": "[kid-b] go"}, "s2")),
                       responses_reply(_call("wait_agents", {"ids": ["agent-1"]}, "w1")),
                       responses_text("root done"))
    for kid in ("kid-a", "kid-b"):
        model_server.route(f"[{kid}]",
                           responses_reply(_call("spawn_agent", {"message": "[grand] go"},
                                                 "g1")),
                           responses_text(f"{kid} done"))
    limits = ("-c", "agents.max_threads=1", "-c", "agents.max_depth=1")
    code, events, stderr = _run(_exec(model_server, workspace, codex_home, "[root] go",
                                      limits=limits), codex_home)
    assert code == 0, stderr
    spawns = [i for i in _collab(events) if i["tool"] == "spawn_agent"]
    assert sorted(i["status"] for i in spawns) == ["completed", "failed"]
    outputs = [item for r in model_server.requests for item in r.json["input"]
               if item.get("type") == "function_call_output"]
    texts = [o["output"] for o in outputs]
    assert any("thread limit reached: 1 sub-agents are open ([agents] max_threads = 1)" in t
               for t in texts)
    assert any("depth limit reached: a sub-agent at depth 2 exceeds [agents] max_depth = 1"
               in t for t in texts)
    assert not any(b"[grand]" in r.body and b"spawn_agent" not in r.body
                   for r in model_server.requests)  # no grandchild session ever asked
    audited = sorted((e.decision, e.reason.split(":")[0]) for e in
                     _spawn_entries(codex_home))
    assert audited == [("allowed", "default sub-agent of " + events[0]["thread_id"]),
                       ("denied", "depth limit reached"), ("denied", "thread limit reached")]

    child = next(load_rollout(p) for p in (codex_home / "sessions").glob("*/*/*/*.jsonl")
                 if load_rollout(p).meta.get("agent"))
    model_server.route(child.session_id,
                       responses_reply(_call("spawn_agent", {"message": "[grand] again"},
                                             "g2")),
                       responses_text("resumed child done"))
    code, events, stderr = _run(_exec(model_server, workspace, codex_home, "resume",
                                      child.session_id, "try again", limits=limits),
                                codex_home)
    assert code == 0, stderr
    assert _collab(events)[0]["status"] == "failed"
    last = model_server.requests[-1].json["input"]
    refusal = [i["output"] for i in last if i.get("type") == "function_call_output"][-1]
    assert "depth limit reached: a sub-agent at depth 2" in refusal
    assert load_rollout(find_rollout(codex_home, child.session_id)).meta["agent"]["depth"] == 1


def test_ctrl_c_on_the_parent_stops_the_child_and_its_commands(
        model_server: ModelServer, workspace: Path, codex_home: Path) -> None:
    model_server.route("[root]",
                       responses_reply(_call("spawn_agent", {"message": "[busy] work"}, "s1")),
                       responses_reply(_call("wait_agents", {"ids": ["agent-1"],
                                                             "timeout_ms": 120_000}, "w1")))
    model_server.route("[busy]", responses_reply(_call(
        "shell", {"command": ["sh", "-c", "sleep 61.5"], "timeout_ms": 600_000}, "k1")))
    run = interrupt_once_running(_exec(model_server, workspace, codex_home, "[root] go"),
                                 _env(codex_home), "61.5")
    assert run.returncode == 130
    assert pids_with("61.5") == []
    assert run.took < 3.0, f"the parent took {run.took:.1f}s to stop"


def test_human_exec_output_names_the_sub_agent_calls() -> None:
    from codex.cli.exec_render import HumanRenderer
    from codex.protocol import CollabAgentState, CollabToolCallItem, ItemCompleted

    err = io.StringIO()
    renderer = HumanRenderer(out=io.StringIO(), err=err)
    renderer(ItemCompleted(item=CollabToolCallItem(
        id="item_3", tool="wait", sender_thread_id="t", receiver_thread_ids=("agent-1",),
        agents_states={"agent-1": CollabAgentState(status="completed", message="hi")},
        status="completed")))
    assert err.getvalue().strip() == "sub-agents: wait agent-1 completed"
