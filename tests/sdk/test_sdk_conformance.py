"""The official TypeScript SDK (`@openai/codex-sdk`, from the npm registry) drives our `codex`
(the Python entry point and the native build) against the loopback model server. Assertions
are on what the SDK returns to its caller (final response, items, usage), on the files the
agent changed, and on what reached the model server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import API_KEY, SdkRun

from support.model_server import (
    Call,
    ModelServer,
    Pause,
    error_reply,
    responses_custom_tool_call,
    responses_function_call,
    responses_reply,
    responses_text,
    usage_json,
)
from support.procs import pids_with

pytestmark = pytest.mark.timeout(240)
WRITE = {"sandboxMode": "workspace-write", "skipGitRepoCheck": True}


def _usage(input_tokens: int, output_tokens: int, cached: int, reasoning: int) -> dict[str, int]:
    """The usage the SDK reports for one request's `usage_json(...)` (cache writes: 0)."""
    return {"input_tokens": input_tokens, "cached_input_tokens": cached,
            "cache_write_input_tokens": 0, "output_tokens": output_tokens,
            "reasoning_output_tokens": reasoning}


def test_run_returns_the_answer_items_and_usage(sdk: SdkRun, model_server: ModelServer,
                                                workspace: Path) -> None:
    model_server.enqueue(
        responses_function_call("shell", {"command": ["echo", "from-the-sandbox"]}, "call_1",
                                usage=usage_json(100, 20, 30, 7)),
        responses_text("All done.", usage=usage_json(50, 5, 10, 2)))
    out = sdk("run", prompt="say something", threadOptions=WRITE)
    assert out["ok"], out
    turn = out["result"]
    assert turn["finalResponse"] == "All done."
    assert turn["usage"] == _usage(150, 25, 40, 9)
    command, answer = turn["items"]
    assert command["type"] == "command_execution" and command["status"] == "completed"
    assert command["exit_code"] == 0 and "from-the-sandbox" in command["aggregated_output"]
    assert answer == {"id": answer["id"], "type": "agent_message", "text": "All done."}
    first = model_server.requests[0]
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["originator"] == "codex_sdk_ts"
    user = [i for i in first.json["input"] if i.get("role") == "user"]
    assert user[-1]["content"][0]["text"] == "say something"  # the prompt, sent on stdin


def test_run_streamed_yields_the_codex_event_sequence(sdk: SdkRun, model_server: ModelServer,
                                                      workspace: Path) -> None:
    patch = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"
    model_server.enqueue(responses_custom_tool_call("apply_patch", patch, "call_p"),
                         responses_text("Wrote it."))
    out = sdk("runStreamed", prompt="write hello.txt", threadOptions=WRITE)
    assert out["ok"], out
    events = out["result"]["events"]
    assert out["result"]["error"] is None
    assert [(e["type"], e.get("item", {}).get("type")) for e in events] == [
        ("thread.started", None), ("turn.started", None),
        ("item.started", "file_change"), ("item.completed", "file_change"),
        ("item.completed", "agent_message"), ("turn.completed", None)]
    assert events[0]["thread_id"] == out["result"]["threadId"]
    started, completed = events[2]["item"], events[3]["item"]
    target = str((workspace / "hello.txt").resolve())
    assert started["status"] == "in_progress" and completed["status"] == "completed"
    assert started["changes"] == completed["changes"] == [{"path": target, "kind": "add"}]
    assert (workspace / "hello.txt").read_text() == "hello\n"
    assert events[-1]["usage"] == _usage(20, 10, 0, 0)


def test_resumed_thread_continues_and_reports_thread_usage(sdk: SdkRun,
                                                           model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("first answer", usage=usage_json(100, 10, 20, 3)),
                         responses_text("second answer", usage=usage_json(200, 20, 40, 6)))
    out = sdk("resume", prompt="question one", secondPrompt="question two",
              threadOptions={"skipGitRepoCheck": True})
    assert out["ok"], out
    result = out["result"]
    assert result["resumedId"] == result["threadId"]
    assert result["first"]["finalResponse"] == "first answer"
    assert result["second"]["finalResponse"] == "second answer"
    assert result["first"]["usage"] == _usage(100, 10, 20, 3)
    assert result["second"]["usage"] == _usage(300, 30, 60, 9)  # the whole thread, as Codex
    texts = [json.dumps(i) for i in model_server.requests[1].json["input"]]
    assert any("question one" in t for t in texts) and any("first answer" in t for t in texts)


def test_output_schema_reaches_the_model_and_shapes_the_answer(
        sdk: SdkRun, model_server: ModelServer) -> None:
    schema = {"type": "object", "properties": {"verdict": {"type": "string"}},
              "required": ["verdict"], "additionalProperties": False}
    model_server.enqueue(responses_text('{"verdict": "ship it"}'))
    out = sdk("run", prompt="judge", outputSchema=schema,
              threadOptions={"skipGitRepoCheck": True})
    assert out["ok"], out
    assert json.loads(out["result"]["finalResponse"]) == {"verdict": "ship it"}
    text_format = model_server.requests[0].json["text"]["format"]
    assert text_format["type"] == "json_schema" and text_format["schema"] == schema


def test_abort_signal_stops_the_turn_and_the_process(sdk: SdkRun, model_server: ModelServer,
                                                     codex_home: Path) -> None:
    stalled = responses_text("never finished")
    stalled.parts.insert(2, Pause(60))
    model_server.enqueue(stalled)
    started = time.monotonic()
    out = sdk("abort", prompt="take your time", abortAfter="turn.started",
              threadOptions={"skipGitRepoCheck": True})
    assert out["ok"], out
    result = out["result"]
    assert result["error"] is not None and result["error"]["name"] == "AbortError", result
    seen = result["seen"]
    assert [e["type"] for e in seen[:2]] == ["thread.started", "turn.started"]
    # what may still arrive before the stream closes: our SIGTERM report, nothing else
    assert all(e["type"] == "turn.failed" and "interrupted" in e["error"]["message"]
               for e in seen[2:]), seen
    assert time.monotonic() - started < 45  # not the 60 s the model would have taken
    deadline = time.monotonic() + 15
    while pids_with(str(codex_home)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pids_with(str(codex_home)) == []  # the codex process is gone, not left running
    (rollout,) = sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))
    ends = [json.loads(line)["payload"] for line in rollout.read_text().splitlines()
            if json.loads(line)["type"] == "turn_end"]
    assert [e["status"] for e in ends] == ["interrupted"]  # SIGTERM: the turn was ended


@pytest.mark.parametrize("policy, ran", [("never", True), ("untrusted", False)])
def test_approval_policy_decides_whether_a_command_runs(
        sdk: SdkRun, model_server: ModelServer, workspace: Path, policy: str,
        ran: bool) -> None:
    model_server.enqueue(
        responses_reply(Call("shell", json.dumps({"command": ["touch", "made.txt"]}), "c1")),
        responses_text("done"))
    out = sdk("run", prompt="make a file",
              threadOptions={**WRITE, "approvalPolicy": policy})
    assert out["ok"], out
    (command,) = [i for i in out["result"]["items"] if i["type"] == "command_execution"]
    assert (workspace / "made.txt").exists() is ran
    assert command["status"] == ("completed" if ran else "declined")
    if not ran:  # the model is told why, so it can ask the user instead
        (output,) = [i for i in model_server.requests[1].json["input"]
                     if i["type"] == "function_call_output"]
        assert "untrusted" in output["output"] or "approval" in output["output"].lower()


def test_a_failed_turn_is_an_error_the_sdk_throws(sdk: SdkRun, model_server: ModelServer) -> None:
    model_server.enqueue(*[error_reply(400, "this model does not exist", "model_not_found")] * 2)
    out = sdk("run", prompt="hi", threadOptions={"skipGitRepoCheck": True})
    assert not out["ok"]  # run() saw turn.failed and threw its message
    assert "this model does not exist" in out["error"]["message"], out
    streamed = sdk("runStreamed", prompt="hi", threadOptions={"skipGitRepoCheck": True})
    events, error = streamed["result"]["events"], streamed["result"]["error"]
    assert [e["type"] for e in events] == ["thread.started", "turn.started", "turn.failed"]
    assert "this model does not exist" in events[-1]["error"]["message"]
    assert "exited with code 1" in error["message"]  # after the events: our exit code 1
