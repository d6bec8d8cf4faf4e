"""The Chat Completions API (Ollama, OpenRouter, vLLM, llama.cpp, ...): request and stream.

Tool-call fragments are joined by `index`, with the quirks real servers have: no `index` at all
(joined by `id`, or to the last call), an `index` reused for a new `id` (a new call), arguments
sent whole in one fragment or as a JSON object instead of a string, and tool calls that end with
`finish_reason: "stop"`. The response is complete once a `finish_reason` or `[DONE]` arrived;
after a `finish_reason`, the usage chunk (empty `choices`) and `[DONE]` may follow or be missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codex.model.errors import ModelError, ModelStreamError
from codex.model.events import (
    Completed,
    MessageItem,
    ModelEvent,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    Usage,
)
from codex.model.failures import classify, error_fields
from codex.model.prompt import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    Message,
    Prompt,
    Reasoning,
    ToolSpec,
)
from codex.model.provider import ResolvedProvider
from codex.model.sse import SseEvent

CUSTOM_INPUT_FIELD = "input"
# Chat tool messages carry text only: the model is told the images exist.
IMAGES_NOT_SENT = ("[{} image(s) of this result not shown: tool results on the Chat "
                   "Completions API carry text only]")
_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def tool_to_dict(tool: ToolSpec) -> dict[str, Any]:
    """Chat tool JSON; a custom tool becomes a function taking one string, `input`."""
    if isinstance(tool, FunctionTool):
        function: dict[str, Any] = {
            "name": tool.name,
            "description": tool.description,
            "parameters": dict(tool.parameters),
        }
        if tool.strict:
            function["strict"] = True
        return {"type": "function", "function": function}
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": {
                "type": "object",
                "properties": {
                    CUSTOM_INPUT_FIELD: {
                        "type": "string",
                        "description": "the raw input for this tool, exactly as its description "
                        "specifies (not JSON-encoded)",
                    }
                },
                "required": [CUSTOM_INPUT_FIELD],
                "additionalProperties": False,
            },
        },
    }


def messages(prompt: Prompt) -> list[dict[str, Any]]:
    """Map instructions and conversation items to chat messages."""
    out: list[dict[str, Any]] = []
    if prompt.instructions:
        out.append({"role": "system", "content": prompt.instructions})
    for item in prompt.input:
        match item:
            case Message(role=role, text=text, images=images) if images:
                out.append({"role": role, "content": [
                    {"type": "text", "text": text},
                    *({"type": "image_url", "image_url": {"url": url}} for url in images)]})
            case Message(role=role, text=text):
                out.append({"role": "system" if role == "developer" else role, "content": text})
            case FunctionCall(call_id=call_id, name=name, arguments=arguments):
                _attach_call(out, call_id, name, arguments)
            case CustomToolCall(call_id=call_id, name=name, input=text):
                _attach_call(out, call_id, name, json.dumps({CUSTOM_INPUT_FIELD: text}))
            case FunctionCallOutput(call_id=call_id, output=output, images=images) if images:
                out.append({"role": "tool", "tool_call_id": call_id,
                            "content": f"{output}\n{IMAGES_NOT_SENT.format(len(images))}"})
            case FunctionCallOutput(call_id=call_id, output=output) | CustomToolCallOutput(
                call_id=call_id, output=output
            ):
                out.append({"role": "tool", "tool_call_id": call_id, "content": output})
            case Reasoning():
                pass
    return out


def _attach_call(out: list[dict[str, Any]], call_id: str, name: str, arguments: str) -> None:
    """Calls join the assistant message right before them (one message per assistant turn)."""
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    last = out[-1] if out else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
    else:
        out.append({"role": "assistant", "content": None, "tool_calls": [call]})


def request_body(prompt: Prompt) -> dict[str, Any]:
    """The JSON body POSTed to `/chat/completions`."""
    body: dict[str, Any] = {
        "model": prompt.model,
        "messages": messages(prompt),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if prompt.tools:
        body["tools"] = [tool_to_dict(tool) for tool in prompt.tools]
        body["tool_choice"] = "auto"
        body["parallel_tool_calls"] = prompt.parallel_tool_calls
    if prompt.reasoning is not None and prompt.reasoning.effort is not None:
        body["reasoning_effort"] = prompt.reasoning.effort
    if prompt.output_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "codex_output_schema", "schema": dict(prompt.output_schema), "strict": True}}
    body.update(prompt.extra)
    return body


@dataclass
class _PendingCall:
    index: int | None
    id: str | None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ChatStream:
    """Consumes decoded SSE chunks of one chat completion; `done` once it has finished."""

    def __init__(self, provider: ResolvedProvider, custom_tools: Iterable[str] = ()) -> None:
        self._provider = provider
        self._custom = frozenset(custom_tools)
        self._text: list[str] = []
        self._calls: list[_PendingCall] = []
        self._usage: Usage | None = None
        self._finish_reason: str | None = None
        self._response_id: str | None = None
        self.finished = False
        self.done = False

    def feed(self, sse: SseEvent) -> list[ModelEvent]:
        """Model events for one SSE chunk; the items and `Completed` come from `finish`."""
        if self.done:
            return []
        if sse.data.strip() == "[DONE]":
            self.finished = self.done = True  # some servers never send a finish_reason
            return []
        try:
            data = json.loads(sse.data)
        except ValueError:
            raise ModelStreamError(
                f"the chat stream sent a malformed chunk (not JSON): {sse.data[:200]!r}"
            ) from None
        if not isinstance(data, Mapping):
            raise ModelStreamError(f"the chat stream sent a non-object chunk: {sse.data[:200]!r}")
        if "error" in data and not data.get("choices"):
            code, message = error_fields(data)
            raise classify(self._provider, code, message)
        try:
            return self._chunk(data)
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelStreamError(
                f"the chat stream sent a malformed chunk ({exc!r}): {sse.data[:200]!r}"
            ) from None

    def _chunk(self, data: Mapping[str, Any]) -> list[ModelEvent]:
        self._response_id = self._response_id or data.get("id")
        if data.get("usage"):
            self._usage = _usage(data["usage"])
        events: list[ModelEvent] = []
        for choice in data.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                self._text.append(str(content))
                events.append(TextDelta(str(content)))
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                events.append(ReasoningDelta(reasoning, "content"))
            for fragment in delta.get("tool_calls") or ():
                self._fragment(fragment)
            if choice.get("finish_reason"):
                self._finish_reason = str(choice["finish_reason"])
                self.finished = True
        return events

    def _fragment(self, fragment: Mapping[str, Any]) -> None:
        index = fragment.get("index")
        call_id = fragment.get("id") or None
        slot = self._slot(index if isinstance(index, int) else None, call_id)
        function = fragment.get("function") or {}
        name = function.get("name")
        if name and not slot.name:
            slot.name = str(name)
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            slot.arguments.append(arguments)
        elif arguments is not None:
            slot.arguments.append(json.dumps(arguments))

    def _slot(self, index: int | None, call_id: str | None) -> _PendingCall:
        if index is not None:
            for slot in reversed(self._calls):
                if slot.index == index:
                    if call_id and slot.id and slot.id != call_id:
                        break  # the index was reused for a new call
                    slot.id = slot.id or call_id
                    return slot
        elif call_id is not None:
            for slot in self._calls:
                if slot.id == call_id:
                    return slot
        elif self._calls:
            return self._calls[-1]
        slot = _PendingCall(index, call_id)
        self._calls.append(slot)
        return slot

    def finish(self) -> list[ModelEvent]:
        """The items and `Completed`; raises ModelStreamError when no finish_reason came."""
        if not self.finished:
            raise ModelStreamError("the chat stream ended before a finish_reason was sent")
        events: list[ModelEvent] = []
        if self._text:
            events.append(MessageItem("".join(self._text), self._response_id))
        for number, slot in enumerate(self._calls):
            call_id = slot.id or f"call_{self._response_id or 'chat'}_{number}"
            arguments = "".join(slot.arguments) or "{}"
            if slot.name in self._custom:
                events.append(ToolCall(call_id, slot.name, _custom_input(arguments), "custom"))
            else:
                events.append(ToolCall(call_id, slot.name, arguments, "function"))
        reason = _INCOMPLETE_REASONS.get(self._finish_reason or "")
        events.append(Completed(
            response_id=self._response_id,
            usage=self._usage,
            status="incomplete" if reason and not self._calls else "completed",
            incomplete_reason=reason if not self._calls else None,
        ))
        return events


def _custom_input(arguments: str) -> str:
    """The raw input of a custom tool from its one-string-argument function form."""
    try:
        data = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(data, Mapping) and isinstance(data.get(CUSTOM_INPUT_FIELD), str):
        return str(data[CUSTOM_INPUT_FIELD])
    return arguments


def _usage(data: Mapping[str, Any]) -> Usage:
    prompt_details = data.get("prompt_tokens_details") or {}
    completion_details = data.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=int(data.get("prompt_tokens") or 0),
        cached_input_tokens=int(prompt_details.get("cached_tokens") or 0),
        output_tokens=int(data.get("completion_tokens") or 0),
        reasoning_output_tokens=int(completion_details.get("reasoning_tokens") or 0),
        total_tokens=int(data.get("total_tokens") or 0),
        cache_write_input_tokens=int(prompt_details.get("cache_write_tokens") or 0),
    )
