"""The loopback server itself: its invariant checks and its validated builders must bite."""

from __future__ import annotations

import http.client
import json

import pytest
from pydantic import ValidationError

from codex.model import (
    CustomTool,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    Message,
    Prompt,
    Reasoning,
    ReasoningOptions,
    item_from_dict,
    item_to_dict,
    tool_from_dict,
)
from codex.model.chat import request_body as chat_body
from codex.model.responses import request_body as responses_body
from support.model_server import (
    ModelServer,
    chat_chunk,
    request_violations,
    responses_function_call,
    responses_text,
    validate_response_event,
)

pytestmark = pytest.mark.timeout(60)


def post(server: ModelServer, body: object) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/v1/responses", body=json.dumps(body),
                       headers={"content-type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def responses_request(*items: dict[str, object]) -> dict[str, object]:
    return {"model": "m", "input": list(items), "stream": True}


CALL = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
OUTPUT = {"type": "function_call_output", "call_id": "c1", "output": "ok"}


def test_paired_calls_are_fine() -> None:
    assert request_violations(responses_request(CALL, OUTPUT)) == []


def test_output_without_call_and_call_without_output_are_reported() -> None:
    assert request_violations(responses_request(OUTPUT)) == [
        "tool output for 'c1' answers no earlier call"]
    assert request_violations(responses_request(CALL)) == ["call 'c1' has no tool output"]
    custom_output = {"type": "custom_tool_call_output", "call_id": "c1", "output": "x"}
    assert request_violations(responses_request(CALL, custom_output)) == [
        "tool output for 'c1' is custom but the call is function", "call 'c1' has no tool output"]


def test_chat_invariants() -> None:
    body = {"model": "m", "stream": True, "messages": [
        {"role": "user", "content": "x"},
        {"role": "tool", "tool_call_id": "nope", "content": "y"}]}
    assert request_violations(body) == ["tool output for 'nope' answers no earlier call"]


def test_request_shape_is_checked_against_the_sdk_types() -> None:
    (problem,) = request_violations({"model": "m", "stream": True, "input": [{"type": "bogus"}]})
    assert problem.startswith("request does not match the openai SDK types")


def _chat(message: dict[str, object], **extra: object) -> dict[str, object]:
    return {"model": "m", "stream": True, "messages": [message], **extra}


TOOL = {"type": "function", "name": "f", "strict": False, "parameters": {}}
USER = {"role": "user", "content": "x"}
# (name, the body with a correct key, the same body with that key misspelled)
MISSPELLED = [
    ("tool_choise", {**responses_request(), "tool_choice": "auto"},
     {**responses_request(), "tool_choise": "auto"}),
    ("max_output_tokenz", {**responses_request(), "max_output_tokens": 100},
     {**responses_request(), "max_output_tokenz": 100}),
    ("call item", responses_request(CALL, OUTPUT),
     responses_request({**CALL, "statuss": "completed"}, OUTPUT)),
    ("output item", responses_request(CALL, OUTPUT),
     responses_request(CALL, {**OUTPUT, "statuss": "completed"})),
    ("tool spec", {**responses_request(), "tools": [{**TOOL, "description": "d"}]},
     {**responses_request(), "tools": [{**TOOL, "descripton": "d"}]}),
    ("chat top level", _chat(USER, tool_choice="auto"), _chat(USER, tool_choise="auto")),
    ("chat message", _chat({**USER, "name": "u"}), _chat({**USER, "nmae": "u"})),
]


@pytest.mark.parametrize(("correct", "misspelled"), [case[1:] for case in MISSPELLED],
                         ids=[case[0] for case in MISSPELLED])
def test_unknown_keys_are_rejected_at_every_level(correct: dict[str, object],
                                                  misspelled: dict[str, object]) -> None:
    """pydantic drops unknown keys of a TypedDict; the real API answers 400 for them."""
    assert request_violations(correct) == []  # control: the key spelled right is fine
    problems = request_violations(misspelled)
    assert problems and problems[0].startswith("request does not match the openai SDK types")


def test_free_form_json_schema_stays_open() -> None:
    tool = {"type": "function", "name": "f", "strict": False,
            "parameters": {"type": "object", "x-anything": {"nested": 1}}}
    assert request_violations({**responses_request(), "tools": [tool]}) == []


def test_our_request_bodies_match_the_sdk_types() -> None:
    tools = [FunctionTool("shell", "run", {"type": "object", "properties": {}}),
             CustomTool("apply_patch", "patch files")]
    prompt = Prompt(
        model="m", instructions="i", tools=tools,
        reasoning=ReasoningOptions("medium", "auto"), prompt_cache_key="session-1",
        output_schema={"type": "object", "properties": {"ok": {"type": "boolean"}},
                       "required": ["ok"], "additionalProperties": False},
        input=[
            Message("user", "u"), Reasoning("rs_1", ("thought",), "opaque"),
            Message("assistant", "a"), FunctionCall("c1", "shell", "{}"),
            FunctionCallOutput("c1", "out"), CustomToolCall("c2", "apply_patch", "*** Begin"),
            CustomToolCallOutput("c2", "done"), Message("developer", "d"),
        ])
    assert request_violations(responses_body(prompt)) == []
    assert request_violations(chat_body(prompt)) == []


def test_items_round_trip_through_their_json() -> None:
    items = [FunctionCall("c1", "shell", '{"command":["ls"]}'), Message("assistant", "a"),
             Message("user", "u"), Reasoning("rs", ("s",), "e"), CustomToolCallOutput("c", "o"),
             FunctionCallOutput("c1", "text", ("data:image/png;base64,iVBORw0KGgo=",))]
    assert [item_from_dict(item_to_dict(item)) for item in items] == items
    with pytest.raises(ValueError, match="unknown conversation item type"):
        item_from_dict({"type": "mystery"})


def test_server_records_violations_across_turns() -> None:
    with ModelServer() as server:
        server.enqueue(responses_function_call("shell", {}, "c7"), responses_text("x"))
        assert post(server, responses_request())[0] == 200
        assert post(server, responses_request({"type": "message", "role": "user",
                                               "content": "forgot the output"}))[0] == 200
        assert server.violations == [
            "request 2: call 'c7' from the previous reply got no output"]
        status, body = post(server, responses_request())
        assert status == 500 and b"no scripted reply left" in body
        assert server.violations[-1] == "request 3: no scripted reply left"


def test_builders_reject_events_the_sdk_would_not_parse() -> None:
    with pytest.raises(ValidationError):
        validate_response_event({"type": "response.output_text.delta", "sequence_number": 0,
                                 "delta": "x"})  # item_id, output_index... missing
    with pytest.raises(ValueError, match="not a Responses stream event type"):
        validate_response_event({"type": "response.made_up"})
    with pytest.raises(ValidationError):
        chat_chunk([{"delta": {"tool_calls": [{"id": "no-index"}]}}])


def test_tool_specs_from_the_tools_package_convert_and_validate() -> None:
    from codex.tools.specs import default_tool_specs

    tools = [tool_from_dict(spec) for spec in default_tool_specs()]
    assert {tool.name for tool in tools} >= {"shell", "apply_patch", "update_plan"}
    prompt = Prompt(model="m", tools=tools)
    assert request_violations(responses_body(prompt)) == []
    assert request_violations(chat_body(prompt)) == []
    with pytest.raises(ValueError, match="unsupported tool spec type 'web_search'"):
        tool_from_dict({"type": "web_search"})


def test_the_official_sdk_reads_our_responses_stream(model_server: ModelServer) -> None:
    from openai import OpenAI

    from support.model_server import Call, Text, Thought, responses_reply

    model_server.enqueue(responses_reply(Thought(("hmm",)), Text("hello sdk"),
                                         Call("shell", '{"command":["ls"]}', "c1"),
                                         Call("apply_patch", "*** Begin Patch", "c2", custom=True)))
    client = OpenAI(base_url=model_server.url, api_key="sk-test", max_retries=0)
    with client.responses.create(model="m", input="hi", stream=True) as stream:
        events = list(stream)
    final = events[-1]
    assert final.type == "response.completed"
    assert [item.type for item in final.response.output] == [
        "reasoning", "message", "function_call", "custom_tool_call"]
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "hello sdk"  # and the SDK's own request passed our request checks


def test_the_official_sdk_reads_our_chat_stream(model_server: ModelServer) -> None:
    from openai import OpenAI

    from support.model_server import ChatCall, chat_reply, chat_usage

    model_server.enqueue(chat_reply("hi there", [ChatCall("shell", '{"command":["ls"]}', "k1")],
                                    usage=chat_usage()))
    client = OpenAI(base_url=model_server.url, api_key="sk-test", max_retries=0)
    chunks = list(client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "hi there"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 19
