"""A scripted OpenAI-compatible model server on 127.0.0.1 for tests (real sockets, real SSE).

Plain asyncio HTTP/1.1 with chunked transfer encoding, run in its own thread so both in-process
async clients and `codex` subprocesses can talk to it. Each test queues `Reply` objects; every
request pops the next one. Replies are built from events validated against the `openai`
package's own types (`responses_reply`, `chat_reply`, ...), so fixtures stay faithful; deliberate
protocol quirks are written as raw dicts/strings and passed to `sse_reply(validate=False)`.

The server records every request (`requests`) and checks the conversation invariants a real API
enforces, adding a line to `violations` when one breaks:
- the request body validates against the openai SDK's request types, unknown keys rejected at
  every level (pydantic would drop them, so a misspelled field would pass);
- every tool output answers an earlier call in the same request with the same call id and kind;
- every call in the request has an output;
- every call this server handed out in a fully sent reply is answered by the next request.
The `model_server` fixture fails the test when `violations` is not empty.

Several conversations at once (the supervisor's agents): `route(marker, *replies)` queues
replies for the requests whose body contains `marker` (put it in each agent's prompt), and
`responder` (a function of the request) answers what no queue does. The call-answering check
is kept per conversation (the request's `prompt_cache_key`, the session id).

Usage from another test directory: put `from support.model_server import model_server` in that
directory's conftest.py (pytest runs with `pythonpath = ["tests"]`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

# ---------------------------------------------------------------------------------------------
# Scripted replies


@dataclass(frozen=True)
class Pause:
    """Send nothing for `seconds` (a stall, when longer than the client's idle timeout)."""

    seconds: float


@dataclass(frozen=True)
class Disconnect:
    """Drop the connection at this point, without finishing the chunked body."""


Part = bytes | Pause | Disconnect


@dataclass
class Reply:
    """One scripted HTTP response; `parts` are sent as separate chunks, in order."""

    status: int = 200
    parts: list[Part] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    pause_before_headers: float = 0.0
    issued_calls: tuple[str, ...] = ()

    def drop_after(self, count: int) -> Reply:
        """The same reply cut off after `count` parts by a dropped connection."""
        return Reply(self.status, [*self.parts[:count], Disconnect()], dict(self.headers),
                     self.content_type, self.pause_before_headers, ())

    def stall_after(self, count: int, seconds: float) -> Reply:
        """The same reply that goes silent for `seconds` after `count` parts."""
        return Reply(self.status, [*self.parts[:count], Pause(seconds), *self.parts[count:]],
                     dict(self.headers), self.content_type, self.pause_before_headers,
                     self.issued_calls)

    def truncated(self, count: int) -> Reply:
        """The same reply that ends cleanly (HTTP-wise) after `count` parts."""
        return Reply(self.status, self.parts[:count], dict(self.headers), self.content_type,
                     self.pause_before_headers, ())


@dataclass(frozen=True)
class RecordedRequest:
    """What the client sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


# ---------------------------------------------------------------------------------------------
# Validation against the openai SDK's types


@cache
def _stream_event_models() -> dict[str, type[Any]]:
    """`type` value -> the openai model for that Responses stream event."""
    from typing import Annotated, get_args, get_origin

    from openai.types.responses import ResponseStreamEvent

    union: Any = ResponseStreamEvent
    while get_origin(union) is Annotated:
        union = get_args(union)[0]
    models: dict[str, type[Any]] = {}
    for model in get_args(union):
        (literal,) = get_args(model.model_fields["type"].annotation)
        models[literal] = model
    return models


def _forbid_extra_keys(schema: Any) -> None:
    """Make every TypedDict in a pydantic core schema reject unknown keys, as the real API does
    (pydantic ignores them by default, so `tool_choise` would pass). Free-form dicts such as a
    tool's JSON-schema `parameters` are not TypedDicts and stay open."""
    if isinstance(schema, dict):
        if schema.get("type") == "typed-dict":
            schema["extra_behavior"] = "forbid"
        for value in schema.values():
            _forbid_extra_keys(value)
    elif isinstance(schema, list):
        for value in schema:
            _forbid_extra_keys(value)


def _strict_validator(params_type: Any) -> SchemaValidator:
    schema = copy.deepcopy(TypeAdapter(params_type).core_schema)
    _forbid_extra_keys(schema)
    return SchemaValidator(schema)


@cache
def _responses_request_adapter() -> SchemaValidator:
    from openai.types.responses.response_create_params import ResponseCreateParamsStreaming

    return _strict_validator(ResponseCreateParamsStreaming)


@cache
def _chat_request_adapter() -> SchemaValidator:
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

    return _strict_validator(CompletionCreateParamsStreaming)


def _materialize(value: Any) -> Any:
    """Walk a validated TypedDict so lazily validated iterables raise their errors too."""
    if isinstance(value, Mapping):
        return {key: _materialize(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_materialize(item) for item in value]
    if isinstance(value, Iterator):
        return [_materialize(item) for item in value]
    return value


def validate_response_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """Check one Responses stream event against `openai.types.responses.ResponseStreamEvent`."""
    model = _stream_event_models().get(str(event.get("type")))
    if model is None:
        raise ValueError(f"not a Responses stream event type: {event.get('type')!r}")
    model.model_validate(dict(event))
    return dict(event)


def validate_chat_chunk(chunk: Mapping[str, Any]) -> dict[str, Any]:
    """Check one chunk against `openai.types.chat.ChatCompletionChunk`."""
    from openai.types.chat import ChatCompletionChunk

    ChatCompletionChunk.model_validate(dict(chunk))
    return dict(chunk)


def request_violations(body: Any) -> list[str]:
    """Everything wrong with a request body, per the module docstring (empty when fine)."""
    if not isinstance(body, Mapping):
        return ["request body is not a JSON object"]
    if "input" in body:
        adapter, calls_and_outputs = _responses_request_adapter(), _responses_calls(body)
    elif "messages" in body:
        adapter, calls_and_outputs = _chat_request_adapter(), _chat_calls(body)
    else:
        return ["request body has neither `input` (Responses) nor `messages` (Chat)"]
    problems: list[str] = []
    try:
        _materialize(adapter.validate_python(dict(body)))
    except ValidationError as exc:
        # Union members each report an error; the deepest locations are the informative ones.
        deepest = sorted(exc.errors(), key=lambda error: -len(error["loc"]))[:3]
        where = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in deepest
        )
        problems.append(f"request does not match the openai SDK types ({where})")
    calls: dict[str, str] = {}
    answered: set[str] = set()
    for role, call_id, kind in calls_and_outputs:
        if role == "call":
            if call_id in calls:
                problems.append(f"call id {call_id!r} appears twice")
            calls[call_id] = kind
        elif call_id not in calls:
            problems.append(f"tool output for {call_id!r} answers no earlier call")
        elif calls[call_id] != kind:
            problems.append(
                f"tool output for {call_id!r} is {kind} but the call is {calls[call_id]}"
            )
        else:
            answered.add(call_id)
    problems.extend(f"call {call_id!r} has no tool output" for call_id in calls
                    if call_id not in answered)
    return problems


def _responses_calls(body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for item in body.get("input") or ():
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("type"))
        family = "custom" if kind.startswith("custom_tool_call") else "function"
        if kind in ("function_call", "custom_tool_call"):
            out.append(("call", str(item.get("call_id")), family))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            out.append(("output", str(item.get("call_id")), family))
    return out


def _chat_calls(body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for message in body.get("messages") or ():
        if not isinstance(message, Mapping):
            continue
        for call in message.get("tool_calls") or ():
            out.append(("call", str(call.get("id")), "function"))
        if message.get("role") == "tool":
            out.append(("output", str(message.get("tool_call_id")), "function"))
    return out


def _answered_ids(body: Any) -> set[str]:
    if not isinstance(body, Mapping):
        return set()
    rows = _responses_calls(body) if "input" in body else _chat_calls(body)
    return {call_id for role, call_id, _ in rows if role == "output"}


# ---------------------------------------------------------------------------------------------
# The server


class ModelServer:
    """See the module docstring. Start with `start()` or use as a context manager."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="model-server",
                                        daemon=True)
        self._server: asyncio.Server | None = None
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._outstanding_calls: dict[str | None, tuple[str, ...]] = {}
        self._routes: dict[str, deque[Reply]] = {}
        self.responder: Callable[[RecordedRequest], Reply] | None = None
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.connections = 0  # TCP connections accepted (keep-alive reuse shows up here)
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL to configure as a provider's `base_url`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def provider_table(self, wire_api: str = "responses", **overrides: Any) -> dict[str, Any]:
        """A `model_providers.<id>` table pointing at this server (no API key needed)."""
        return {"name": "loopback", "base_url": self.url, "wire_api": wire_api, **overrides}

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    def route(self, marker: str, *replies: Reply) -> None:
        """Queue replies for the requests whose body contains `marker`, in order."""
        with self._lock:
            self._routes.setdefault(marker, deque()).extend(replies)

    @property
    def pending(self) -> int:
        """Replies queued but not yet requested."""
        with self._lock:
            return len(self._replies) + sum(len(q) for q in self._routes.values())

    def start(self) -> ModelServer:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        # Build the SDK validators now: built lazily, the first request would stall ~0.5 s,
        # which tests with short idle timeouts would see as a stall of the model.
        _responses_request_adapter()
        _chat_request_adapter()
        _stream_event_models()
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def close(self) -> None:
        """Stop serving, cut open connections, and join the thread."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        with self._lock:
            self.connections += 1
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    break
                reply = self._accept(request)
                if not await self._send(writer, reply, _conversation(request)):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.transport.abort()

    async def _read_request(self, reader: asyncio.StreamReader) -> RecordedRequest | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        parts = urlsplit(target)
        return RecordedRequest(method, parts.path, dict(parse_qsl(parts.query)), headers, body)

    def _accept(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
            try:
                body = request.json
            except ValueError:
                body = None
                self.violations.append(f"request {number}: body is not JSON")
            if body is not None:
                self.violations.extend(
                    f"request {number}: {problem}" for problem in request_violations(body)
                )
                outstanding = self._outstanding_calls.get(_conversation(request), ())
                missing = [c for c in outstanding if c not in _answered_ids(body)]
                self.violations.extend(
                    f"request {number}: call {call_id!r} from the previous reply got no output"
                    for call_id in missing
                )
            self._outstanding_calls.pop(_conversation(request), None)
            text = request.body.decode("utf-8", "replace")
            for marker, queue in self._routes.items():
                if queue and marker in text:
                    return queue.popleft()
            if self._replies:
                return self._replies.popleft()
            if self.responder is not None:
                return self.responder(request)
            self.violations.append(f"request {number}: no scripted reply left")
            return error_reply(500, "the test server has no scripted reply left", "server_error")

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply,
                    conversation: str | None) -> bool:
        if reply.pause_before_headers:
            await asyncio.sleep(reply.pause_before_headers)
        head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}",
                f"content-type: {reply.content_type}", "transfer-encoding: chunked",
                "cache-control: no-cache"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        for part in reply.parts:
            if isinstance(part, Pause):
                await asyncio.sleep(part.seconds)
            elif isinstance(part, Disconnect):
                writer.transport.abort()
                return False
            elif part:
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
        with self._lock:
            # Every event went out: the client has these calls and must answer them next.
            self._outstanding_calls[conversation] = reply.issued_calls
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


def _conversation(request: RecordedRequest) -> str | None:
    """Which conversation a request continues: its `prompt_cache_key` (the session id)."""
    try:
        body = request.json
    except ValueError:
        return None
    key = body.get("prompt_cache_key") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 408: "Request Timeout", 409: "Conflict", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """A started `ModelServer`; the test fails if a request broke an invariant."""
    server = ModelServer().start()
    try:
        yield server
    finally:
        server.close()
    assert not server.violations, "model server saw bad requests:\n" + "\n".join(server.violations)


# ---------------------------------------------------------------------------------------------
# SSE encoding


def encode_sse(
    events: Iterable[Mapping[str, Any] | str],
    *,
    event_lines: bool = True,
    newline: str = "\n",
    space: bool = True,
    done: bool = False,
    comment: str | None = None,
) -> list[bytes]:
    """One SSE frame per event (dicts become JSON; strings are sent as raw data).

    `event_lines=False` omits `event:` (as chat servers do), `newline` picks LF/CRLF/CR, `space`
    whether a space follows `data:`, `done` appends `data: [DONE]`, `comment` adds a `:` line
    before every frame.
    """
    sep = ": " if space else ":"
    frames: list[bytes] = []
    for event in [*events, *(["[DONE]"] if done else [])]:
        lines = [f":{comment}"] if comment is not None else []
        if isinstance(event, str):
            payload = event
        else:
            payload = json.dumps(event)
            if event_lines and "type" in event:
                lines.append(f"event{sep}{event['type']}")
        lines.extend(f"data{sep}{line}" for line in payload.split("\n"))
        frames.append((newline.join(lines) + newline + newline).encode())
    return frames


def rechunk(parts: Sequence[bytes], size: int) -> list[bytes]:
    """The same bytes cut into `size`-byte chunks (frames split at arbitrary points)."""
    data = b"".join(parts)
    return [data[i:i + size] for i in range(0, len(data), size)]


def _issued(events: Iterable[Mapping[str, Any] | str]) -> tuple[str, ...]:
    ids: list[str] = []
    for event in events:
        if isinstance(event, str):
            continue
        item = event.get("item") if event.get("type") == "response.output_item.done" else None
        if isinstance(item, Mapping) and item.get("type") in ("function_call", "custom_tool_call"):
            ids.append(str(item["call_id"]))
        for choice in event.get("choices") or ():
            for call in (choice.get("delta") or {}).get("tool_calls") or ():
                if call.get("id") and call["id"] not in ids:
                    ids.append(str(call["id"]))
    return tuple(ids)


def sse_reply(
    events: Sequence[Mapping[str, Any] | str],
    *,
    validate: str | None = None,
    headers: Mapping[str, str] | None = None,
    chunk_size: int | None = None,
    **encoding: Any,
) -> Reply:
    """A 200 event-stream reply; `validate="responses"|"chat"` checks dict events first."""
    for event in events:
        if isinstance(event, str) or validate is None:
            continue
        if validate == "responses":
            validate_response_event(event)
        else:
            validate_chat_chunk(event)
    parts = encode_sse(events, **encoding)
    if chunk_size is not None:
        parts = rechunk(parts, chunk_size)
    return Reply(parts=list(parts), headers=dict(headers or {}), issued_calls=_issued(events))


def json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON (non-stream) reply, e.g. an error body."""
    return Reply(status=status, parts=[json.dumps(body).encode()], headers=dict(headers or {}),
                 content_type="application/json")


def error_reply(
    status: int,
    message: str,
    code: str | None = None,
    *,
    error_type: str = "invalid_request_error",
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An OpenAI-style error body: {"error": {"message", "type", "param", "code"}}."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return json_reply(status, body, headers)


# ---------------------------------------------------------------------------------------------
# Responses API events


@dataclass(frozen=True)
class Text:
    """An assistant message, streamed in `chunks` (default: word by word)."""

    text: str
    chunks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Call:
    """A function call (`arguments`: JSON text) or, with `custom=True`, a freeform tool call."""

    name: str
    arguments: str
    call_id: str
    custom: bool = False
    namespace: str | None = None  # a member of this namespace tool (Responses)


@dataclass(frozen=True)
class Thought:
    """A reasoning item with summary parts."""

    summary: tuple[str, ...]
    encrypted_content: str | None = None


Output = Text | Call | Thought


def _split_words(text: str) -> list[str]:
    words = text.split(" ")
    return [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)] or [""]


def _response(response_id: str, model: str, status: str, output: list[Any],
              usage: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": response_id, "object": "response", "created_at": 1_700_000_000, "model": model,
            "status": status, "output": output, "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "usage": usage, **extra}


def usage_json(input_tokens: int = 10, output_tokens: int = 5, cached: int = 0,
               reasoning: int = 0) -> dict[str, Any]:
    """A Responses `usage` object."""
    return {"input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input_tokens + output_tokens}


def responses_events(
    *outputs: Output,
    response_id: str = "resp_1",
    model: str = "gpt-test",
    usage: Mapping[str, Any] | None = None,
    incomplete_reason: str | None = None,
) -> list[dict[str, Any]]:
    """The full, validated event sequence of one response producing `outputs`."""
    events: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append(validate_response_event(
            {"type": kind, "sequence_number": len(events), **fields}))

    emit("response.created", response=_response(response_id, model, "in_progress", []))
    emit("response.in_progress", response=_response(response_id, model, "in_progress", []))
    done_items: list[dict[str, Any]] = []
    for index, out in enumerate(outputs):
        at = {"output_index": index}
        if isinstance(out, Text):
            item_id = f"msg_{index}"
            emit("response.output_item.added", item={"type": "message", "id": item_id,
                 "role": "assistant", "status": "in_progress", "content": []}, **at)
            part = {"type": "output_text", "text": "", "annotations": []}
            emit("response.content_part.added", item_id=item_id, content_index=0, part=part, **at)
            for piece in out.chunks if out.chunks is not None else _split_words(out.text):
                emit("response.output_text.delta", item_id=item_id, content_index=0,
                     delta=piece, logprobs=[], **at)
            emit("response.output_text.done", item_id=item_id, content_index=0, text=out.text,
                 logprobs=[], **at)
            full = {"type": "output_text", "text": out.text, "annotations": []}
            emit("response.content_part.done", item_id=item_id, content_index=0, part=full, **at)
            item = {"type": "message", "id": item_id, "role": "assistant",
                    "status": "completed", "content": [full]}
        elif isinstance(out, Call) and out.custom:
            item_id = f"ctc_{index}"
            base = {"type": "custom_tool_call", "id": item_id, "call_id": out.call_id,
                    "name": out.name}
            emit("response.output_item.added", item={**base, "input": ""}, **at)
            emit("response.custom_tool_call_input.delta", item_id=item_id, delta=out.arguments,
                 **at)
            emit("response.custom_tool_call_input.done", item_id=item_id, input=out.arguments,
                 **at)
            item = {**base, "input": out.arguments}
        elif isinstance(out, Call):
            item_id = f"fc_{index}"
            base = {"type": "function_call", "id": item_id, "call_id": out.call_id,
                    "name": out.name}
            if out.namespace is not None:
                base["namespace"] = out.namespace
            emit("response.output_item.added",
                 item={**base, "arguments": "", "status": "in_progress"}, **at)
            half = len(out.arguments) // 2
            for piece in (out.arguments[:half], out.arguments[half:]):
                emit("response.function_call_arguments.delta", item_id=item_id, delta=piece, **at)
            emit("response.function_call_arguments.done", item_id=item_id,
                 arguments=out.arguments, **at)
            item = {**base, "arguments": out.arguments, "status": "completed"}
        else:
            item_id = f"rs_{index}"
            emit("response.output_item.added",
                 item={"type": "reasoning", "id": item_id, "summary": []}, **at)
            for number, text in enumerate(out.summary):
                where = {"item_id": item_id, "summary_index": number, **at}
                emit("response.reasoning_summary_part.added",
                     part={"type": "summary_text", "text": ""}, **where)
                emit("response.reasoning_summary_text.delta", delta=text, **where)
                emit("response.reasoning_summary_text.done", text=text, **where)
                emit("response.reasoning_summary_part.done",
                     part={"type": "summary_text", "text": text}, **where)
            item = {"type": "reasoning", "id": item_id,
                    "summary": [{"type": "summary_text", "text": t} for t in out.summary]}
            if out.encrypted_content is not None:
                item["encrypted_content"] = out.encrypted_content
        emit("response.output_item.done", item=item, **at)
        done_items.append(item)
    final_usage = dict(usage) if usage is not None else usage_json()
    if incomplete_reason is None:
        emit("response.completed",
             response=_response(response_id, model, "completed", done_items, final_usage))
    else:
        emit("response.incomplete",
             response=_response(response_id, model, "incomplete", done_items, final_usage,
                                incomplete_details={"reason": incomplete_reason}))
    return events


def responses_reply(*outputs: Output, headers: Mapping[str, str] | None = None,
                    **options: Any) -> Reply:
    """A complete Responses stream reply producing `outputs` (validated events)."""
    return sse_reply(responses_events(*outputs, **options), headers=headers)


def responses_text(text: str, **options: Any) -> Reply:
    """A reply whose answer is the plain message `text`."""
    return responses_reply(Text(text), **options)


def responses_function_call(name: str, arguments: Mapping[str, Any] | str, call_id: str,
                            namespace: str | None = None, **options: Any) -> Reply:
    """A reply that calls function tool `name` (the member `name` of `namespace`)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return responses_reply(Call(name, args, call_id, namespace=namespace), **options)


def responses_custom_tool_call(name: str, text: str, call_id: str, **options: Any) -> Reply:
    """A reply that calls freeform tool `name` with raw input `text`."""
    return responses_reply(Call(name, text, call_id, custom=True), **options)


def responses_error_event(message: str, code: str | None = None, *, after: int = 1) -> Reply:
    """A 200 stream that sends `after` ordinary events, then `{"type": "error", ...}`."""
    events = responses_events(Text("partial answer"))[:after]
    events.append(validate_response_event({"type": "error", "code": code, "message": message,
                                           "param": None, "sequence_number": len(events)}))
    return sse_reply(events)


def responses_failed(message: str, code: str = "server_error") -> Reply:
    """A 200 stream ending in `response.failed` with `response.error`."""
    events = responses_events(Text("x"))[:1]
    events.append(validate_response_event({
        "type": "response.failed", "sequence_number": 1,
        "response": _response("resp_failed", "gpt-test", "failed", [],
                              error={"code": code, "message": message}),
    }))
    return sse_reply(events)


# ---------------------------------------------------------------------------------------------
# Chat Completions chunks


@dataclass(frozen=True)
class ChatCall:
    """A tool call in a chat stream; `pieces` splits the arguments across chunks."""

    name: str
    arguments: str
    call_id: str
    pieces: int = 2


def chat_chunk(choices: list[dict[str, Any]], *, chunk_id: str = "chatcmpl-1",
               model: str = "local-model", usage: Mapping[str, Any] | None = None,
               validate: bool = True) -> dict[str, Any]:
    """One `chat.completion.chunk`."""
    chunk: dict[str, Any] = {"id": chunk_id, "object": "chat.completion.chunk",
                             "created": 1_700_000_000, "model": model, "choices": choices}
    if usage is not None:
        chunk["usage"] = dict(usage)
    return validate_chat_chunk(chunk) if validate else chunk


def chat_usage(prompt: int = 12, completion: int = 7) -> dict[str, Any]:
    """A chat `usage` object."""
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def chat_chunks(
    text: str | None = None,
    calls: Sequence[ChatCall] = (),
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    reasoning: str | None = None,
    chunk_id: str = "chatcmpl-1",
) -> list[dict[str, Any]]:
    """A validated, well-formed chat stream (the OpenAI shape) with an optional usage chunk."""
    chunks = [chat_chunk([{"index": 0, "delta": {"role": "assistant", "content": ""},
                           "finish_reason": None}], chunk_id=chunk_id)]

    def delta(body: dict[str, Any]) -> None:
        chunks.append(chat_chunk([{"index": 0, "delta": body, "finish_reason": None}],
                                 chunk_id=chunk_id))

    if reasoning:
        delta({"reasoning_content": reasoning})
    for piece in _split_words(text) if text else ():
        delta({"content": piece})
    for index, call in enumerate(calls):
        size = max(1, -(-len(call.arguments) // call.pieces))
        pieces = [call.arguments[i:i + size] for i in range(0, len(call.arguments), size)] or [""]
        delta({"tool_calls": [{"index": index, "id": call.call_id, "type": "function",
                               "function": {"name": call.name, "arguments": pieces[0]}}]})
        for piece in pieces[1:]:
            delta({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    reason = finish_reason or ("tool_calls" if calls else "stop")
    chunks.append(chat_chunk([{"index": 0, "delta": {}, "finish_reason": reason}],
                             chunk_id=chunk_id))
    if usage is not None:
        chunks.append(chat_chunk([], usage=usage, chunk_id=chunk_id))
    return chunks


def chat_reply(text: str | None = None, calls: Sequence[ChatCall] = (), *, done: bool = True,
               headers: Mapping[str, str] | None = None, **options: Any) -> Reply:
    """A complete chat stream reply (no `event:` lines, `[DONE]` at the end)."""
    return sse_reply(chat_chunks(text, calls, **options), event_lines=False, done=done,
                     headers=headers)
