"""The client against the loopback server speaking the Responses API, over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate
from time import time

import pytest

from codex.model import (
    AuthenticationError,
    ContextWindowExceededError,
    CustomTool,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    Message,
    ModelConnectionError,
    ModelHttpError,
    ModelResponseFailed,
    ModelStreamError,
    Prompt,
    QuotaExceededError,
    ReasoningDelta,
    ReasoningItem,
    ReasoningOptions,
    Retrying,
    ToolCall,
    Usage,
)
from support.model_client import TurnResult, stream_turn
from support.model_server import (
    Call,
    ModelServer,
    Text,
    Thought,
    error_reply,
    json_reply,
    responses_custom_tool_call,
    responses_error_event,
    responses_events,
    responses_failed,
    responses_function_call,
    responses_reply,
    responses_text,
    sse_reply,
    usage_json,
)

pytestmark = pytest.mark.timeout(60)

SHELL = FunctionTool("shell", "run a command", {
    "type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}},
    "required": ["command"]})
APPLY_PATCH = CustomTool("apply_patch", "edit files with a patch")
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"


def test_plain_answer(model_server: ModelServer, run_turn: Callable[..., TurnResult]) -> None:
    model_server.enqueue(responses_text("Hello there, friend",
                                        usage=usage_json(100, 20, cached=40, reasoning=8)))
    result = run_turn(env={"LOOP_KEY": "sk-loop"}, env_key="LOOP_KEY")
    assert result.error is None
    assert result.text == "Hello there, friend"
    assert [m.text for m in result.messages] == ["Hello there, friend"]
    assert result.completed.response_id == "resp_1"
    assert result.completed.usage == Usage(100, 40, 20, 8, 120)
    (request,) = model_server.requests
    assert (request.method, request.path) == ("POST", "/v1/responses")
    assert request.headers["authorization"] == "Bearer sk-loop"
    assert request.headers["accept"] == "text/event-stream"
    body = request.json
    assert body["model"] == "gpt-test" and body["instructions"] == "be brief"
    assert body["stream"] is True and body["store"] is False
    assert body["input"] == [{"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": "hello"}]}]


def test_function_call_then_output_on_next_turn(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_function_call("shell", {"command": ["ls", "-la"]}, "call_1"),
                         responses_text("two files"))
    prompt = Prompt(model="gpt-test", input=[Message("user", "list")], tools=[SHELL])
    first = run_turn(prompt)
    (call,) = first.calls
    assert call == ToolCall("call_1", "shell", '{"command": ["ls", "-la"]}', "function", "fc_0")
    assert first.completed.items == (call,)
    history = [*prompt.input, FunctionCall(call.call_id, call.name, call.arguments),
               FunctionCallOutput(call.call_id, "a.txt\nb.txt")]
    second = run_turn(Prompt(model="gpt-test", input=history, tools=[SHELL]))
    assert second.text == "two files"
    body = model_server.requests[1].json
    assert body["tools"][0] == {"type": "function", "name": "shell", "description": "run a command",
                                "parameters": SHELL.parameters, "strict": False}
    assert body["tool_choice"] == "auto" and body["parallel_tool_calls"] is True
    assert body["input"][-1] == {"type": "function_call_output", "call_id": "call_1",
                                 "output": "a.txt\nb.txt"}


def test_custom_tool_call_round_trip(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_custom_tool_call("apply_patch", PATCH, "call_p"),
                         responses_text("done"))
    prompt = Prompt(model="gpt-test", input=[Message("user", "add a.txt")], tools=[APPLY_PATCH])
    (call,) = run_turn(prompt).calls
    assert (call.kind, call.name, call.arguments) == ("custom", "apply_patch", PATCH)
    history = [*prompt.input, CustomToolCall(call.call_id, call.name, call.arguments),
               CustomToolCallOutput(call.call_id, "Success. Updated: A a.txt")]
    assert run_turn(Prompt(model="gpt-test", input=history, tools=[APPLY_PATCH])).text == "done"
    body = model_server.requests[1].json
    assert body["tools"] == [{"type": "custom", "name": "apply_patch",
                              "description": "edit files with a patch"}]
    assert body["input"][1]["type"] == "custom_tool_call"


def test_several_tool_calls_in_one_turn_keep_their_order(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_reply(
        Thought(("Plan: look, then patch",), encrypted_content="opaque"),
        Text("Running two things."),
        Call("shell", '{"command":["ls"]}', "c1"),
        Call("shell", '{"command":["pwd"]}', "c2"),
        Call("apply_patch", PATCH, "c3", custom=True),
    ))
    result = run_turn(Prompt(model="gpt-test", input=[Message("user", "go")],
                             reasoning=ReasoningOptions("high", "auto")))
    assert [(c.call_id, c.kind) for c in result.calls] == [
        ("c1", "function"), ("c2", "function"), ("c3", "custom")]
    assert result.of(ReasoningDelta) == [ReasoningDelta("Plan: look, then patch", "summary", 0)]
    (reasoning,) = result.of(ReasoningItem)
    assert reasoning.encrypted_content == "opaque"
    assert [type(i).__name__ for i in result.completed.items] == [
        "ReasoningItem", "MessageItem", "ToolCall", "ToolCall", "ToolCall"]
    body = model_server.requests[0].json
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"]


def test_429_with_retry_after_then_success(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(
        error_reply(429, "Rate limit reached", "rate_limit_exceeded", headers={"Retry-After": "2"}),
        error_reply(429, "again", "rate_limit_exceeded", headers={"retry-after-ms": "250"}),
        responses_text("finally"),
    )
    result = run_turn()
    assert result.error is None and result.text == "finally"
    assert result.sleeps == [2.0, 0.25]
    retries = result.of(Retrying)
    assert [(r.attempt, r.discard_partial) for r in retries] == [(1, False), (2, False)]
    assert "HTTP 429" in retries[0].reason
    assert len(model_server.requests) == 3


def test_retry_after_as_http_date(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    when = formatdate(time() + 5, usegmt=True)
    model_server.enqueue(error_reply(503, "busy", headers={"Retry-After": when}),
                         responses_text("ok"))
    result = run_turn()
    assert result.text == "ok"
    (delay,) = result.sleeps
    assert 3.0 < delay <= 5.0


def test_500_twice_then_success_with_backoff(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(error_reply(500, "boom", "server_error"),
                         error_reply(502, "bad gateway"), responses_text("recovered"))
    result = run_turn()
    assert result.text == "recovered"
    assert result.sleeps == [0.2, 0.4]


def test_5xx_beyond_the_request_budget_is_a_clear_error(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(*[error_reply(500, "still down", "server_error") for _ in range(3)])
    result = run_turn(request_max_retries=2)
    assert isinstance(result.error, ModelHttpError)
    assert "HTTP 500: still down" in str(result.error)
    assert "gave up after 3 attempts; request_max_retries = 2" in str(result.error)
    assert len(model_server.requests) == 3


def test_dropped_connection_mid_stream_is_retried_without_duplicates(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    full = responses_reply(Text("alpha beta gamma"), Call("shell", '{"command":["ls"]}', "c1"))
    # Cut after the message and the whole function call item, before response.completed.
    model_server.enqueue(full.drop_after(len(full.parts) - 1), full)
    result = run_turn()
    assert result.error is None
    (retry,) = result.of(Retrying)
    assert retry.discard_partial is True and "broke mid-stream" in retry.reason
    assert result.text == "alpha beta gamma"
    assert len(result.messages) == 1 and [c.call_id for c in result.calls] == ["c1"]
    assert len(model_server.requests) == 2
    assert model_server.requests[0].body == model_server.requests[1].body


def test_stream_ending_without_completion_exhausts_stream_retries(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    full = responses_text("never finishes")
    model_server.enqueue(full.truncated(4), full.truncated(4))
    result = run_turn(stream_max_retries=1)
    assert isinstance(result.error, ModelStreamError)
    assert "ended before response.completed" in str(result.error)
    assert "stream_max_retries = 1" in str(result.error)
    assert result.messages == []


def test_malformed_chunk_is_a_stream_error_then_retried(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    # Decision: a data payload that is not JSON is a broken stream (retried like a drop),
    # never skipped: skipping could silently lose part of a tool call.
    events = responses_events(Text("hi"))
    model_server.enqueue(sse_reply([events[0], "{not json", *events[1:]]),
                         sse_reply([events[0], "{not json"]), responses_text("clean"))
    result = run_turn(stream_max_retries=1)
    assert isinstance(result.error, ModelStreamError)
    assert "malformed event (not JSON): '{not json'" in str(result.error)
    assert len(model_server.requests) == 2
    assert model_server.pending == 1


def test_idle_stall_times_out_and_retry_recovers(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    full = responses_text("slow then fast")
    model_server.enqueue(full.stall_after(3, 30.0), full)
    result = run_turn(stream_idle_timeout_ms=300)
    assert result.text == "slow then fast"
    (retry,) = result.of(Retrying)
    assert "idle for 0.3 s" in retry.reason


def test_idle_stall_every_time_is_a_clear_final_error(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    full = responses_text("stuck")
    model_server.enqueue(full.stall_after(2, 30.0), full.stall_after(2, 30.0))
    result = run_turn(stream_idle_timeout_ms=200, stream_max_retries=1)
    assert isinstance(result.error, ModelStreamError)
    assert "idle for 0.2 s (stream_idle_timeout_ms = 200)" in str(result.error)
    assert "gave up after 2 attempts" in str(result.error)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_are_not_retried_and_name_the_key(
    model_server: ModelServer, run_turn: Callable[..., TurnResult], status: int
) -> None:
    model_server.enqueue(error_reply(status, "Incorrect API key provided: sk-bad",
                                     "invalid_api_key"))
    result = run_turn(env={"LOOP_KEY": "sk-bad"}, env_key="LOOP_KEY")
    assert isinstance(result.error, AuthenticationError)
    assert f"HTTP {status}: Incorrect API key provided" in str(result.error)
    assert "check that LOOP_KEY holds a valid key" in str(result.error)
    assert len(model_server.requests) == 1 and result.sleeps == []


def test_context_length_http_error_is_not_retried(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(error_reply(400, "Your input exceeds the context window of this model.",
                                     "context_length_exceeded"))
    result = run_turn()
    assert isinstance(result.error, ContextWindowExceededError)
    assert "start a new session or send less input" in str(result.error)
    assert len(model_server.requests) == 1


def test_context_length_error_event_is_not_retried(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_error_event("Your input exceeds the context window.",
                                               "context_length_exceeded"))
    result = run_turn()
    assert isinstance(result.error, ContextWindowExceededError)
    assert len(model_server.requests) == 1


def test_insufficient_quota_is_not_retried(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(error_reply(429, "You exceeded your current quota.", "insufficient_quota",
                                     error_type="insufficient_quota"))
    result = run_turn()
    assert isinstance(result.error, QuotaExceededError)
    assert "billing" in str(result.error)
    assert len(model_server.requests) == 1


def test_error_event_with_try_again_hint_is_retried_after_that_delay(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(
        responses_error_event("Rate limit reached. Please try again in 1.5s.",
                              "rate_limit_exceeded", after=3),
        responses_text("ok"),
    )
    result = run_turn()
    assert result.text == "ok" and result.sleeps == [1.5]
    assert result.of(Retrying)[0].discard_partial is False  # no delta came before the error


def test_response_failed_retryable_and_fatal(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_failed("The server had an error", "server_error"),
                         responses_text("second time lucky"),
                         responses_failed("Invalid prompt: flagged", "invalid_prompt"))
    assert run_turn().text == "second time lucky"
    result = run_turn()
    assert isinstance(result.error, ModelResponseFailed)
    assert result.error.code == "invalid_prompt"
    assert "Invalid prompt: flagged (code invalid_prompt)" in str(result.error)
    assert len(model_server.requests) == 3


def test_error_json_after_http_200(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(
        json_reply(200, {"error": {"message": "upstream overloaded", "code": "server_error"}}),
        responses_text("ok"),
        json_reply(200, {"error": {"message": "model not supported", "code": "bad_model"}}),
    )
    assert run_turn().text == "ok"
    result = run_turn()
    assert isinstance(result.error, ModelResponseFailed)
    assert "model not supported" in str(result.error)


def test_html_instead_of_a_stream_points_at_base_url(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    from support.model_server import Reply

    model_server.enqueue(Reply(parts=[b"<html>login</html>"], content_type="text/html"))
    result = run_turn()
    assert isinstance(result.error, ModelHttpError)
    assert "check the provider's base_url" in str(result.error)


def test_incomplete_response(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_reply(Text("cut"), incomplete_reason="max_output_tokens"))
    done = run_turn().completed
    assert (done.status, done.incomplete_reason) == ("incomplete", "max_output_tokens")


@pytest.mark.parametrize("encoding", [
    {"newline": "\r\n"},
    {"newline": "\r"},
    {"space": False},
    {"event_lines": False},
    {"comment": " keep-alive"},
    {"done": True},
    {"chunk_size": 7},
    {"chunk_size": 1, "newline": "\r\n", "event_lines": False, "space": False},
])
def test_sse_quirks_over_the_wire(
    model_server: ModelServer, run_turn: Callable[..., TurnResult], encoding: dict[str, object]
) -> None:
    events = responses_events(Text("quirky but fine"), Call("shell", '{"command":["id"]}', "q1"))
    model_server.enqueue(sse_reply(events, **encoding))
    result = run_turn()
    assert result.error is None
    assert result.text == "quirky but fine" and [c.call_id for c in result.calls] == ["q1"]


def test_unknown_events_and_extra_fields_are_ignored(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    events = responses_events(Text("still here"))
    events.insert(2, {"type": "response.future_feature", "whatever": [1, 2]})
    events[-1] = {**events[-1], "extra_top_level": True}
    model_server.enqueue(sse_reply(events))
    assert run_turn().text == "still here"


def test_connection_refused_is_retried_then_reported() -> None:
    server = ModelServer().start()
    server.close()  # the port is now closed: connections are refused
    result = stream_turn(server, request_max_retries=2)
    assert isinstance(result.error, ModelConnectionError)
    assert "could not reach loopback" in str(result.error)
    assert "request_max_retries = 2" in str(result.error)
    assert len(result.sleeps) == 2


def test_no_response_headers_before_idle_timeout(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    slow = responses_text("late")
    slow.pause_before_headers = 30.0
    model_server.enqueue(slow, responses_text("on time"))
    result = run_turn(stream_idle_timeout_ms=200)
    assert result.text == "on time"
    assert "did not answer within the timeout" in result.of(Retrying)[0].reason


def test_query_params_and_headers_reach_the_server(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(responses_text("ok"))
    run_turn(query_params={"api-version": "2025-04-01-preview"},
             http_headers={"X-Static": "1"}, env_http_headers={"X-From-Env": "TEAM"},
             env={"TEAM": "blue"})
    (request,) = model_server.requests
    assert request.query == {"api-version": "2025-04-01-preview"}
    assert request.headers["x-static"] == "1" and request.headers["x-from-env"] == "blue"


def test_429_without_header_uses_the_hint_in_the_message(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    model_server.enqueue(error_reply(429, "Rate limit reached. Please try again in 750ms.",
                                     "rate_limit_exceeded"), responses_text("ok"))
    result = run_turn()
    assert result.text == "ok" and result.sleeps == [0.75]
