"""The OpenAI Responses API: request body and the event stream mapped to model events.

Namespace tools (when the provider has `namespace_tools`, the default): function tools that
carry a `ToolNamespace` are sent grouped in `{"type": "namespace"}` tools, calls of a member
come back with `namespace` and are mapped to the tool's flat name, and calls in the history
are sent back with their namespace and member name. Without it, every tool is sent flat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from codex.model.errors import ModelError, ModelStreamError
from codex.model.events import (
    Completed,
    MessageItem,
    ModelEvent,
    ReasoningDelta,
    ReasoningItem,
    TextDelta,
    ToolCall,
    Usage,
)
from codex.model.failures import classify, error_fields
from codex.model.prompt import FunctionCall, FunctionTool, Prompt, ToolSpec, item_to_dict
from codex.model.provider import ResolvedProvider
from codex.model.sse import SseEvent


def tool_to_dict(tool: ToolSpec, name: str | None = None) -> dict[str, Any]:
    """The Responses API tool JSON (`name`: the member name inside a namespace)."""
    if isinstance(tool, FunctionTool):
        return {
            "type": "function",
            "name": name or tool.name,
            "description": tool.description,
            "parameters": dict(tool.parameters),
            "strict": tool.strict,
        }
    data: dict[str, Any] = {"type": "custom", "name": tool.name, "description": tool.description}
    if tool.format is not None:
        data["format"] = dict(tool.format)
    return data


def tools_json(tools: Sequence[ToolSpec], namespaces: bool) -> list[dict[str, Any]]:
    """The `tools` array: namespaced functions grouped (in first-seen order) or all flat."""
    out: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for tool in tools:
        space = tool.namespace if isinstance(tool, FunctionTool) and namespaces else None
        if space is None:
            out.append(tool_to_dict(tool))
            continue
        group = groups.get(space.name)
        if group is None:
            group = groups[space.name] = {"type": "namespace", "name": space.name,
                                          "description": space.description, "tools": []}
            out.append(group)
        group["tools"].append(tool_to_dict(tool, space.member))
    return out


def namespace_members(tools: Sequence[ToolSpec]) -> dict[tuple[str, str], str]:
    """(namespace, member) -> flat tool name, for the calls that come back namespaced."""
    return {(tool.namespace.name, tool.namespace.member): tool.name for tool in tools
            if isinstance(tool, FunctionTool) and tool.namespace is not None}


def request_body(prompt: Prompt, namespaces: bool = True) -> dict[str, Any]:
    """The JSON body POSTed to `/responses` (stateless: `store` false, full history sent)."""
    where = {tool.name: tool.namespace for tool in prompt.tools
             if namespaces and isinstance(tool, FunctionTool) and tool.namespace is not None}
    items = []
    for item in prompt.input:
        data = item_to_dict(item)
        space = where.get(item.name) if isinstance(item, FunctionCall) else None
        if space is not None:
            data.update(name=space.member, namespace=space.name)
        items.append(data)
    body: dict[str, Any] = {
        "model": prompt.model,
        "instructions": prompt.instructions,
        "input": items,
        "tools": tools_json(prompt.tools, namespaces),
        "tool_choice": "auto",
        "parallel_tool_calls": prompt.parallel_tool_calls,
        "store": False,
        "stream": True,
        "include": [],
    }
    if prompt.reasoning is not None:
        reasoning = {"effort": prompt.reasoning.effort, "summary": prompt.reasoning.summary}
        body["reasoning"] = {k: v for k, v in reasoning.items() if v is not None}
        body["include"] = ["reasoning.encrypted_content"]
    if prompt.output_schema is not None:
        body["text"] = {"format": {"type": "json_schema", "name": "codex_output_schema",
                                   "schema": dict(prompt.output_schema), "strict": True}}
    if prompt.prompt_cache_key is not None:
        body["prompt_cache_key"] = prompt.prompt_cache_key
    body.update(prompt.extra)
    return body


def _usage(data: object) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    input_details = data.get("input_tokens_details") or {}
    output_details = data.get("output_tokens_details") or {}
    return Usage(
        input_tokens=int(data.get("input_tokens") or 0),
        cached_input_tokens=int(input_details.get("cached_tokens") or 0),
        output_tokens=int(data.get("output_tokens") or 0),
        reasoning_output_tokens=int(output_details.get("reasoning_tokens") or 0),
        total_tokens=int(data.get("total_tokens") or 0),
        cache_write_input_tokens=int(input_details.get("cache_write_tokens") or 0),
    )


def _output_item(item: Mapping[str, Any], members: Mapping[tuple[str, str], str],
                 ) -> MessageItem | ReasoningItem | ToolCall | None:
    kind = item.get("type")
    if kind == "function_call":
        arguments = item.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        name, space = str(item["name"]), item.get("namespace")
        if space:  # a member of a namespace we sent: its flat name (unknown: both joined)
            name = members.get((str(space), name), f"{space}{name}")
        return ToolCall(str(item["call_id"]), name, arguments, "function", item.get("id"))
    if kind == "custom_tool_call":
        return ToolCall(str(item["call_id"]), str(item["name"]), str(item.get("input", "")),
                        "custom", item.get("id"))
    if kind == "message":
        parts = item.get("content") or []
        text = "".join(
            str(part.get("text") or part.get("refusal") or "")
            for part in parts
            if isinstance(part, Mapping)
        )
        return MessageItem(text, item.get("id"))
    if kind == "reasoning":
        summary = tuple(str(p.get("text", "")) for p in item.get("summary") or ())
        content = tuple(str(p.get("text", "")) for p in item.get("content") or ())
        return ReasoningItem(item.get("id"), summary, content, item.get("encrypted_content"))
    return None


class ResponsesStream:
    """Consumes decoded SSE events of one response; `done` once it has completed."""

    def __init__(self, provider: ResolvedProvider,
                 members: Mapping[tuple[str, str], str] | None = None) -> None:
        self._provider = provider
        self._members = dict(members or {})
        self.done = False

    def feed(self, sse: SseEvent) -> list[ModelEvent]:
        """Model events for one SSE event; raises ModelError for errors and garbage."""
        if self.done or sse.data.strip() == "[DONE]":
            return []
        try:
            data = json.loads(sse.data)
        except ValueError:
            raise ModelStreamError(
                f"the model stream sent a malformed event (not JSON): {sse.data[:200]!r}"
            ) from None
        if not isinstance(data, Mapping):
            raise ModelStreamError(f"the model stream sent a non-object event: {sse.data[:200]!r}")
        kind = data.get("type") or sse.event
        if kind is None and "error" in data:
            kind = "error"
        try:
            return self._handle(str(kind), data)
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelStreamError(
                f"the model stream sent a malformed {kind} event ({exc!r}): {sse.data[:200]!r}"
            ) from None

    def _handle(self, kind: str, data: Mapping[str, Any]) -> list[ModelEvent]:
        if kind == "response.output_text.delta":
            return [TextDelta(str(data["delta"]))]
        if kind == "response.reasoning_summary_text.delta":
            index = int(data.get("summary_index", 0))
            return [ReasoningDelta(str(data["delta"]), "summary", index)]
        if kind == "response.reasoning_text.delta":
            return [ReasoningDelta(str(data["delta"]), "content")]
        if kind == "response.output_item.done":
            item = _output_item(data["item"], self._members)
            return [] if item is None else [item]
        if kind in ("response.completed", "response.incomplete"):
            response = data.get("response") or {}
            self.done = True
            reason = None
            if kind == "response.incomplete":
                details = response.get("incomplete_details") or {}
                reason = str(details.get("reason") or "unknown")
            return [Completed(
                response_id=response.get("id"),
                usage=_usage(response.get("usage")),
                status="incomplete" if reason else "completed",
                incomplete_reason=reason,
            )]
        if kind == "response.failed":
            response = data.get("response") or {}
            code, message = error_fields(response.get("error") or {"message": "response failed"})
            raise classify(self._provider, code, message)
        if kind == "error":
            code, message = error_fields(data)
            raise classify(self._provider, code, message)
        return []
