"""How `codex exec` rides out (or reports) what model servers do wrong, over real sockets."""

from __future__ import annotations

import json

import pytest
from agent_helpers import assert_valid_events

from support.model_server import (
    ChatCall,
    ModelServer,
    chat_chunk,
    chat_reply,
    error_reply,
    responses_text,
    sse_reply,
)

pytestmark = pytest.mark.timeout(120)


def _answer(run) -> str:
    return "".join(i["text"] for i in run.items("agent_message"))


def test_429_with_retry_after_then_success(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(error_reply(429, "slow down", "rate_limit_exceeded",
                                     headers={"Retry-After": "1"}),
                         responses_text("after the wait"))
    run = run_exec("--json", "hi")
    assert run.returncode == 0, run.stderr
    assert _answer(run) == "after the wait"
    assert len(model_server.requests) == 2


def test_500_twice_then_success(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(error_reply(500, "boom", "server_error"),
                         error_reply(500, "boom again", "server_error"),
                         responses_text("third time lucky"))
    run = run_exec("hi")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "third time lucky\n"
    assert len(model_server.requests) == 3


def test_connection_dropped_mid_stream_is_retried_without_duplicates(
        run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("one two three four").drop_after(4),
                         responses_text("one two three four"))
    run = run_exec("--json", "count")
    assert run.returncode == 0, run.stderr
    assert [i["text"] for i in run.items("agent_message")] == ["one two three four"]
    assert len(model_server.requests) == 2


def test_dropped_stream_leaves_exactly_one_answer_on_stdout(run_exec,
                                                           model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("alpha beta gamma delta").drop_after(4),
                         responses_text("alpha beta gamma delta"))
    run = run_exec("say it")  # stdout is a pipe: the answer is written once, whole
    assert run.returncode == 0, run.stderr
    assert run.stdout == "alpha beta gamma delta\n"
    assert "retrying" in run.stderr


def test_malformed_chunk_retried_then_success(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(sse_reply(["{this is not json"]), responses_text("clean reply"))
    run = run_exec("--json", "hi")
    assert run.returncode == 0, run.stderr
    assert _answer(run) == "clean reply"


def test_malformed_chunk_without_retries_fails_the_turn(run_exec,
                                                        model_server: ModelServer) -> None:
    model_server.enqueue(sse_reply(["{this is not json"]))
    run = run_exec("--json", "hi", provider=["-c", "model_providers.loop.stream_max_retries=0"])
    assert run.returncode == 1
    assert_valid_events(run.events)
    assert run.events[-1]["type"] == "turn.failed"


def test_idle_stall_times_out_and_fails_the_turn(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("slow words here").stall_after(2, 10))
    run = run_exec("--json", "hi", provider=[
        "-c", "model_providers.loop.stream_idle_timeout_ms=400",
        "-c", "model_providers.loop.stream_max_retries=0"])
    assert run.returncode == 1
    assert_valid_events(run.events)
    failed = run.events[-1]
    assert failed["type"] == "turn.failed"
    assert "idle" in failed["error"]["message"] or "timed out" in failed["error"]["message"]


def test_401_is_a_clear_error_and_not_retried(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(error_reply(401, "Incorrect API key provided", "invalid_api_key"))
    run = run_exec("--json", "hi")
    assert run.returncode == 1
    assert_valid_events(run.events)
    message = run.events[-1]["error"]["message"]
    assert run.events[-1]["type"] == "turn.failed"
    assert "401" in message or "API key" in message
    assert len(model_server.requests) == 1
    model_server.enqueue(error_reply(401, "Incorrect API key provided", "invalid_api_key"))
    human = run_exec("hi")
    assert human.returncode == 1
    assert "error:" in human.stderr and human.stdout == ""
    assert len(model_server.requests) == 2


def test_chat_completions_text_and_tool_call(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(
        chat_reply(calls=[ChatCall("shell", json.dumps({"command": ["echo", "from-chat"]}),
                                   "call_c1")]),
        chat_reply("chat says done"))
    run = run_exec("--json", "hi", wire_api="chat")
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    (done,) = run.items("command_execution")
    assert done["exit_code"] == 0 and "from-chat" in done["aggregated_output"]
    assert _answer(run) == "chat says done"
    second = model_server.requests[1].json
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_c1"]
    assert second["messages"][0]["role"] in ("system", "developer")


def test_chat_llama_cpp_style_stream_without_index_and_finish_stop(
        run_exec, model_server: ModelServer) -> None:
    arguments = json.dumps({"command": ["echo", "quirky"]})
    chunks = [
        chat_chunk([{"index": 0, "delta": {"role": "assistant", "content": None,
                                           "tool_calls": [{"id": "call_q", "type": "function",
                                                           "function": {"name": "shell",
                                                                        "arguments": arguments}
                                                           }]}}], validate=False),
        chat_chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ]
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True),
                         chat_reply("handled"))
    run = run_exec("--json", "hi", wire_api="chat")
    assert run.returncode == 0, run.stderr
    (done,) = run.items("command_execution")
    assert "quirky" in done["aggregated_output"]
    assert _answer(run) == "handled"


def test_chat_two_tool_calls_in_one_response(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(
        chat_reply(calls=[
            ChatCall("shell", json.dumps({"command": ["echo", "first"]}), "call_a"),
            ChatCall("shell", json.dumps({"command": ["echo", "second"]}), "call_b")]),
        chat_reply("both done"))
    run = run_exec("--json", "two things", wire_api="chat")
    assert run.returncode == 0, run.stderr
    outputs = {m["tool_call_id"]: m["content"] for m in model_server.requests[1].json["messages"]
               if m["role"] == "tool"}
    assert set(outputs) == {"call_a", "call_b"}
    assert "first" in str(outputs["call_a"]) and "second" in str(outputs["call_b"])
