"""The client against the loopback server speaking Chat Completions, with real servers' quirks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from codex.model import (
    CustomTool,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    Message,
    ModelResponseFailed,
    ModelStreamError,
    Prompt,
    ReasoningDelta,
    Retrying,
    ToolCall,
    Usage,
)
from support.model_client import TurnResult
from support.model_server import (
    ChatCall,
    ModelServer,
    chat_chunk,
    chat_chunks,
    chat_reply,
    chat_usage,
    sse_reply,
)

pytestmark = pytest.mark.timeout(60)

SHELL = FunctionTool("shell", "run a command", {
    "type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}},
    "required": ["command"]})
APPLY_PATCH = CustomTool("apply_patch", "edit files with a patch")
PATCH = "*** Begin Patch\n*** Delete File: old.txt\n*** End Patch"
Run = Callable[..., TurnResult]


def raw(choices: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """A chunk deliberately off the OpenAI spec (not validated)."""
    return chat_chunk(choices, validate=False, **options)


def test_plain_answer_and_request_shape(model_server: ModelServer, run_turn: Run) -> None:
    model_server.enqueue(chat_reply("Hi from a local model", usage=chat_usage(30, 6)))
    result = run_turn(Prompt(model="qwen", instructions="be brief",
                             input=[Message("user", "hello"), Message("developer", "note")]),
                      wire_api="chat")
    assert result.error is None and result.text == "Hi from a local model"
    assert result.completed.usage == Usage(30, 0, 6, 0, 36)
    (request,) = model_server.requests
    assert request.path == "/v1/chat/completions"
    body = request.json
    assert body["messages"] == [{"role": "system", "content": "be brief"},
                                {"role": "user", "content": "hello"},
                                {"role": "system", "content": "note"}]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "tools" not in body


def test_fragmented_tool_calls_then_outputs(model_server: ModelServer, run_turn: Run) -> None:
    model_server.enqueue(
        chat_reply("Checking.", [ChatCall("shell", '{"command": ["ls", "-a"]}', "call_a", 4),
                                 ChatCall("shell", '{"command": ["pwd"]}', "call_b", 3)]),
        chat_reply("Both done."),
    )
    prompt = Prompt(model="m", input=[Message("user", "look")], tools=[SHELL])
    first = run_turn(prompt, wire_api="chat")
    assert [(c.call_id, c.arguments) for c in first.calls] == [
        ("call_a", '{"command": ["ls", "-a"]}'), ("call_b", '{"command": ["pwd"]}')]
    history = [*prompt.input, Message("assistant", "Checking.")]
    for call in first.calls:
        history.append(FunctionCall(call.call_id, call.name, call.arguments))
    history += [FunctionCallOutput(c.call_id, f"out {c.call_id}") for c in first.calls]
    assert run_turn(Prompt(model="m", input=history, tools=[SHELL]), wire_api="chat").text == (
        "Both done.")
    messages = model_server.requests[1].json["messages"]
    assert messages[1]["role"] == "assistant" and messages[1]["content"] == "Checking."
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["call_a", "call_b"]
    assert messages[2:] == [{"role": "tool", "tool_call_id": "call_a", "content": "out call_a"},
                            {"role": "tool", "tool_call_id": "call_b", "content": "out call_b"}]
    tools = model_server.requests[1].json["tools"]
    assert tools[0]["function"]["name"] == "shell"


def test_ollama_missing_index_whole_arguments_and_stop(
    model_server: ModelServer, run_turn: Run
) -> None:
    chunks = [
        raw([{"index": 0, "delta": {"role": "assistant", "content": "",
              "tool_calls": [
                  {"id": "call_1", "type": "function",
                   "function": {"name": "shell", "arguments": '{"command":["ls"]}'}},
                  {"id": "call_2", "type": "function",
                   "function": {"name": "shell", "arguments": '{"command":["pwd"]}'}}]},
              "finish_reason": None}]),
        raw([{"index": 0, "delta": {"role": "assistant", "content": ""},
              "finish_reason": "stop"}]),
    ]
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True))
    calls = run_turn(Prompt(model="llama3", input=[Message("user", "x")], tools=[SHELL]),
                     wire_api="chat").calls
    assert [(c.call_id, c.arguments) for c in calls] == [
        ("call_1", '{"command":["ls"]}'), ("call_2", '{"command":["pwd"]}')]


def test_index_reused_for_a_new_id_is_a_new_call(
    model_server: ModelServer, run_turn: Run
) -> None:
    def call(call_id: str, command: str) -> dict[str, Any]:
        return raw([{"index": 0, "delta": {"tool_calls": [{
            "index": 0, "id": call_id, "type": "function",
            "function": {"name": "shell", "arguments": json.dumps({"command": [command]})}}]},
            "finish_reason": None}])

    chunks = [call("a", "ls"), call("b", "pwd"),
              raw([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])]
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True))
    calls = run_turn(wire_api="chat").calls
    assert [(c.call_id, json.loads(c.arguments)["command"]) for c in calls] == [
        ("a", ["ls"]), ("b", ["pwd"])]


def test_llama_cpp_arguments_as_object_and_stop_with_tool_calls(
    model_server: ModelServer, run_turn: Run
) -> None:
    chunks = [
        raw([{"index": 0, "delta": {"tool_calls": [{
            "index": 0, "id": "cpp_1", "type": "function",
            "function": {"name": "shell", "arguments": {"command": ["echo", "hi"]}}}]},
            "finish_reason": None}]),
        raw([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ]
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=False))
    result = run_turn(wire_api="chat")
    (call,) = result.calls
    assert json.loads(call.arguments) == {"command": ["echo", "hi"]}
    assert result.completed.status == "completed"


def test_fragments_without_index_or_id_join_the_last_call(
    model_server: ModelServer, run_turn: Run
) -> None:
    chunks = [
        raw([{"index": 0, "delta": {"tool_calls": [{"id": "x1", "function": {
            "name": "shell", "arguments": '{"comm'}}]}, "finish_reason": None}]),
        raw([{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": 'and":["ls"]}'}}]},
              "finish_reason": None}]),
        raw([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
    ]
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True))
    (call,) = run_turn(wire_api="chat").calls
    assert call == ToolCall("x1", "shell", '{"command":["ls"]}', "function")


def test_call_without_any_id_gets_a_stable_generated_one(
    model_server: ModelServer, run_turn: Run
) -> None:
    chunks = [
        raw([{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {
            "name": "shell", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], chunk_id="c9"),
    ]
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True))
    (call,) = run_turn(wire_api="chat").calls
    assert call.call_id == "call_c9_0"


def test_vllm_usage_chunk_with_empty_choices_and_reasoning(
    model_server: ModelServer, run_turn: Run
) -> None:
    chunks = chat_chunks("The answer is 4.", reasoning="2+2 is 4", usage={
        "prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59,
        "prompt_tokens_details": {"cached_tokens": 32},
        "completion_tokens_details": {"reasoning_tokens": 5}})
    assert chunks[-1]["choices"] == []
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True))
    result = run_turn(wire_api="chat")
    assert result.text == "The answer is 4."
    assert result.of(ReasoningDelta) == [ReasoningDelta("2+2 is 4", "content")]
    assert result.completed.usage == Usage(50, 32, 9, 5, 59)


def test_done_without_finish_reason_is_accepted(model_server: ModelServer, run_turn: Run) -> None:
    chunks = chat_chunks("short")[:-1]  # drop the finish_reason chunk
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True))
    assert run_turn(wire_api="chat").text == "short"


def test_finish_reason_length_is_incomplete(model_server: ModelServer, run_turn: Run) -> None:
    model_server.enqueue(chat_reply("trunc", finish_reason="length"))
    done = run_turn(wire_api="chat").completed
    assert (done.status, done.incomplete_reason) == ("incomplete", "max_output_tokens")


def test_stream_ending_without_finish_or_done_is_retried(
    model_server: ModelServer, run_turn: Run
) -> None:
    cut = sse_reply(chat_chunks("partial answer")[:-1], event_lines=False, done=False)
    model_server.enqueue(cut, chat_reply("whole answer"))
    result = run_turn(wire_api="chat")
    assert result.text == "whole answer"
    assert result.messages[0].text == "whole answer" and len(result.messages) == 1
    (retry,) = result.of(Retrying)
    assert retry.discard_partial and "before a finish_reason" in retry.reason


def test_mid_stream_error_object(model_server: ModelServer, run_turn: Run) -> None:
    first = chat_chunks("par")[:2]
    model_server.enqueue(
        sse_reply([*first, {"error": {"message": "Provider returned error", "code": 502}}],
                  event_lines=False),
        chat_reply("fine"),
        sse_reply([*first, {"error": {"message": "Content blocked", "code": "moderation"}}],
                  event_lines=False),
    )
    assert run_turn(wire_api="chat").text == "fine"
    result = run_turn(wire_api="chat")
    assert isinstance(result.error, ModelResponseFailed)
    assert "Content blocked" in str(result.error)


def test_malformed_chat_chunk(model_server: ModelServer, run_turn: Run) -> None:
    chunks = chat_chunks("x")
    model_server.enqueue(sse_reply([chunks[0], "data-that-is-not-json"], event_lines=False))
    result = run_turn(wire_api="chat", stream_max_retries=0)
    assert isinstance(result.error, ModelStreamError)
    assert "malformed chunk (not JSON)" in str(result.error)


def test_custom_tool_maps_to_a_one_string_function(
    model_server: ModelServer, run_turn: Run
) -> None:
    model_server.enqueue(chat_reply(None, [ChatCall("apply_patch",
                                                    json.dumps({"input": PATCH}), "p1", 3)]),
                         chat_reply("patched"))
    prompt = Prompt(model="m", input=[Message("user", "delete old.txt")], tools=[APPLY_PATCH])
    (call,) = run_turn(prompt, wire_api="chat").calls
    assert (call.kind, call.arguments) == ("custom", PATCH)
    tool = model_server.requests[0].json["tools"][0]
    assert tool["function"]["parameters"]["required"] == ["input"]
    history = [*prompt.input, CustomToolCall("p1", "apply_patch", PATCH),
               CustomToolCallOutput("p1", "Success")]
    assert run_turn(Prompt(model="m", input=history, tools=[APPLY_PATCH]),
                    wire_api="chat").text == "patched"
    assistant = model_server.requests[1].json["messages"][1]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"input": PATCH}


@pytest.mark.parametrize("encoding", [{"newline": "\r\n"}, {"space": False},
                                      {"chunk_size": 5}, {"comment": " OPENROUTER PROCESSING"}])
def test_chat_sse_quirks(model_server: ModelServer, run_turn: Run,
                         encoding: dict[str, Any]) -> None:
    chunks = chat_chunks("fine anyway", [ChatCall("shell", '{"command":["ls"]}', "k1")])
    model_server.enqueue(sse_reply(chunks, event_lines=False, done=True, **encoding))
    result = run_turn(wire_api="chat")
    assert result.text == "fine anyway" and [c.call_id for c in result.calls] == ["k1"]
