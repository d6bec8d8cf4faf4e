"""When a stream is over, cancelled, or full of junk: the client neither hangs nor crashes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex.model import ModelClient, ModelError, Prompt, Retrying, TextDelta, resolve_provider
from codex.model.chat import ChatStream
from codex.model.responses import ResponsesStream
from codex.model.sse import SseEvent
from support.model_client import TurnResult
from support.model_server import ModelServer, Pause, chat_chunks, responses_text, sse_reply

pytestmark = pytest.mark.timeout(60)


def test_responses_stream_returns_at_completed_even_if_the_server_lingers(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    reply = responses_text("done already")
    reply.parts.append(Pause(30.0))  # connection kept open after response.completed
    model_server.enqueue(reply)
    result = run_turn(stream_idle_timeout_ms=200)
    assert result.error is None and result.of(Retrying) == []
    assert result.text == "done already"


def test_chat_stream_idle_after_finish_reason_counts_as_complete(
    model_server: ModelServer, run_turn: Callable[..., TurnResult]
) -> None:
    reply = sse_reply(chat_chunks("finished"), event_lines=False, done=False)
    reply.parts.append(Pause(30.0))  # no usage chunk, no [DONE], no EOF
    model_server.enqueue(reply)
    result = run_turn(wire_api="chat", stream_idle_timeout_ms=200)
    assert result.error is None and result.of(Retrying) == []
    assert result.completed.status == "completed"


def test_cancelling_a_turn_closes_the_stream(model_server: ModelServer) -> None:
    reply = responses_text("first words then a long silence")
    model_server.enqueue(reply.stall_after(5, 30.0))
    provider = resolve_provider("loop", {"loop": model_server.provider_table()}, env={})
    seen: list[str] = []

    async def turn() -> None:
        async with ModelClient(provider) as client:
            async for event in client.stream(Prompt(model="m")):
                if isinstance(event, TextDelta):
                    seen.append(event.text)

    async def main() -> None:
        task = asyncio.create_task(turn())
        while not seen:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert seen == ["first "]
    assert len(model_server.requests) == 1  # cancelled, not retried


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["type", "delta", "item", "response", "choices", "error",
                                       "index", "id", "function", "arguments", "usage",
                                       "tool_calls", "finish_reason", "message", "code"]),
                      children, max_size=4),
    max_leaves=12,
)
_types = st.sampled_from(["response.output_text.delta", "response.output_item.done",
                          "response.completed", "response.failed", "error",
                          "response.reasoning_summary_text.delta", "response.incomplete"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_types, _json), max_size=6), st.lists(_json, max_size=6))
def test_parsers_only_ever_raise_model_errors(
    responses_events: list[tuple[str, object]], chat_events: list[object]
) -> None:
    provider = resolve_provider("p", {"p": {"base_url": "http://127.0.0.1:9/v1"}}, env={})
    responses = ResponsesStream(provider)
    chat = ChatStream(provider, ["apply_patch"])
    try:
        for kind, payload in responses_events:
            body = {"type": kind, **payload} if isinstance(payload, dict) else payload
            responses.feed(SseEvent(None, json.dumps(body)))
    except ModelError:
        pass
    try:
        for payload in chat_events:
            chat.feed(SseEvent(None, json.dumps(payload)))
        chat.finish()
    except ModelError:
        pass


@pytest.mark.parametrize("wire_api", ["responses", "chat"])
def test_one_client_reuses_its_connection_across_turns(
    model_server: ModelServer, wire_api: str
) -> None:
    if wire_api == "responses":
        model_server.enqueue(*[responses_text(f"turn {n}") for n in range(3)])
    else:
        model_server.enqueue(*[sse_reply(chat_chunks(f"turn {n}"), event_lines=False, done=True)
                               for n in range(3)])
    table = model_server.provider_table(wire_api)
    provider = resolve_provider("loop", {"loop": table}, env={})

    async def three_turns() -> list[str]:
        texts = []
        async with ModelClient(provider) as client:
            for _ in range(3):
                events = [event async for event in client.stream(Prompt(model="m"))]
                texts.append("".join(e.text for e in events if isinstance(e, TextDelta)))
        return texts

    assert asyncio.run(three_turns()) == ["turn 0", "turn 1", "turn 2"]
    assert model_server.connections == 1


def test_stopping_early_then_next_turn_works(model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("a long answer nobody reads").stall_after(6, 30.0),
                         responses_text("second"))
    provider = resolve_provider("loop", {"loop": model_server.provider_table()}, env={})

    async def run() -> str:
        async with ModelClient(provider) as client:
            stream = client.stream(Prompt(model="m"))
            async for event in stream:
                if isinstance(event, TextDelta):
                    break
            await stream.aclose()
            events = [event async for event in client.stream(Prompt(model="m"))]
            return "".join(e.text for e in events if isinstance(e, TextDelta))

    assert asyncio.run(run()) == "second"
    assert model_server.connections == 2  # the abandoned response's connection was not reused
