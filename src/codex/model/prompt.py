"""What a turn sends to the model: instructions, conversation items and tool specs.

The conversation items use the Responses API's JSON shape as their canonical serialisation
(`item_to_dict` / `item_from_dict`), so a session can write them to its rollout and read them
back on resume; the Chat Completions mapping is derived from the same items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant", "system", "developer"]


@dataclass(frozen=True, slots=True)
class Message:
    """A text message from the user, the assistant, or the system/developer; a user message
    may carry images (data: URLs, sent after the text)."""

    role: Role
    text: str
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A function call the model made on an earlier turn (`arguments` is JSON text)."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class FunctionCallOutput:
    """What the tool answered to the `FunctionCall` with the same `call_id`; `images`
    (data: URLs) go with the text where the wire allows (Responses: a content array)."""

    call_id: str
    output: str
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomToolCall:
    """A freeform (custom) tool call from an earlier turn; `input` is the raw text."""

    call_id: str
    name: str
    input: str


@dataclass(frozen=True, slots=True)
class CustomToolCallOutput:
    """What the tool answered to the `CustomToolCall` with the same `call_id`."""

    call_id: str
    output: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A reasoning item to send back (Responses only; chat servers do not take it)."""

    id: str | None
    summary: tuple[str, ...] = ()
    encrypted_content: str | None = None


InputItem = (
    Message | FunctionCall | FunctionCallOutput | CustomToolCall | CustomToolCallOutput | Reasoning
)


@dataclass(frozen=True, slots=True)
class ToolNamespace:
    """Where a function tool sits on a wire with namespace tools: calls name the `member` of
    namespace `name`; everywhere else the tool is its flat `FunctionTool.name`."""

    name: str
    description: str
    member: str


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A tool whose arguments are a JSON object described by `parameters` (JSON Schema)."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    strict: bool = False
    namespace: ToolNamespace | None = None


@dataclass(frozen=True, slots=True)
class CustomTool:
    """A freeform tool: the model writes raw text (for example a patch).

    `format` is the Responses API's optional grammar object. Chat servers have no freeform
    tools, so there the tool becomes a function with one string argument, `input`.
    """

    name: str
    description: str
    format: Mapping[str, Any] | None = None


ToolSpec = FunctionTool | CustomTool


def tool_from_dict(spec: Mapping[str, Any]) -> ToolSpec:
    """A tool from its Responses API JSON (the shape `codex.tools` specs use).

    Pass the Responses shape for both wire formats: the chat mapping happens in the client, and
    a custom tool's calls come back as `ToolCall(kind="custom")` with the raw input either way.
    A function spec may carry `"namespace": {"name", "description", "member"}` (our own key,
    see `ToolNamespace`).
    """
    kind = spec.get("type")
    if kind == "function":
        space = spec.get("namespace")
        return FunctionTool(str(spec["name"]), str(spec.get("description", "")),
                            dict(spec.get("parameters") or {"type": "object", "properties": {}}),
                            bool(spec.get("strict", False)),
                            ToolNamespace(str(space["name"]), str(space["description"]),
                                          str(space["member"]))
                            if isinstance(space, Mapping) else None)
    if kind == "custom":
        fmt = spec.get("format")
        return CustomTool(str(spec["name"]), str(spec.get("description", "")),
                          dict(fmt) if isinstance(fmt, Mapping) else None)
    raise ValueError(f"unsupported tool spec type {kind!r} (expected function or custom)")


@dataclass(frozen=True, slots=True)
class ReasoningOptions:
    """Reasoning effort and summary style for models that support them."""

    effort: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Prompt:
    """Everything one model request needs besides the provider."""

    model: str
    instructions: str = ""
    input: Sequence[InputItem] = ()
    tools: Sequence[ToolSpec] = ()
    parallel_tool_calls: bool = True
    reasoning: ReasoningOptions | None = None
    output_schema: Mapping[str, Any] | None = None
    prompt_cache_key: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def item_to_dict(item: InputItem) -> dict[str, Any]:
    """The Responses API input-item JSON for `item`."""
    match item:
        case Message(role="assistant", text=text):
            # Plain-string content: the one assistant input shape the API and SDK both accept
            # without an item id.
            return {"type": "message", "role": "assistant", "content": text}
        case Message(role=role, text=text, images=images):
            return {"type": "message", "role": role,
                    "content": [{"type": "input_text", "text": text},
                                *({"type": "input_image", "image_url": url, "detail": "auto"}
                                  for url in images)]}
        case FunctionCall(call_id=call_id, name=name, arguments=arguments):
            return {
                "type": "function_call", "call_id": call_id, "name": name, "arguments": arguments
            }
        case FunctionCallOutput(call_id=call_id, output=output, images=images) if images:
            return {"type": "function_call_output", "call_id": call_id, "output": [
                {"type": "input_text", "text": output},
                *({"type": "input_image", "image_url": url, "detail": "auto"}
                  for url in images)]}
        case FunctionCallOutput(call_id=call_id, output=output):
            return {"type": "function_call_output", "call_id": call_id, "output": output}
        case CustomToolCall(call_id=call_id, name=name, input=text):
            return {"type": "custom_tool_call", "call_id": call_id, "name": name, "input": text}
        case CustomToolCallOutput(call_id=call_id, output=output):
            return {"type": "custom_tool_call_output", "call_id": call_id, "output": output}
        case Reasoning(id=item_id, summary=summary, encrypted_content=encrypted):
            data: dict[str, Any] = {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": s} for s in summary],
            }
            if item_id is not None:
                data["id"] = item_id
            if encrypted is not None:
                data["encrypted_content"] = encrypted
            return data
    raise TypeError(f"not an input item: {item!r}")


def item_from_dict(data: Mapping[str, Any]) -> InputItem:
    """Read back an item written by `item_to_dict`; raises ValueError on anything else."""
    kind = data.get("type")
    try:
        if kind == "message":
            content = data["content"]
            text = content if isinstance(content, str) else "".join(
                str(part.get("text", "")) for part in content
            )
            images = () if isinstance(content, str) else tuple(
                str(part["image_url"]) for part in content if part.get("type") == "input_image")
            return Message(role=data["role"], text=text, images=images)
        if kind == "function_call":
            return FunctionCall(str(data["call_id"]), str(data["name"]), str(data["arguments"]))
        if kind == "function_call_output":
            output = data["output"]
            if isinstance(output, str):
                return FunctionCallOutput(str(data["call_id"]), output)
            return FunctionCallOutput(
                str(data["call_id"]),
                "".join(str(part["text"]) for part in output if part["type"] == "input_text"),
                tuple(str(part["image_url"]) for part in output
                      if part["type"] == "input_image"))
        if kind == "custom_tool_call":
            return CustomToolCall(str(data["call_id"]), str(data["name"]), str(data["input"]))
        if kind == "custom_tool_call_output":
            return CustomToolCallOutput(str(data["call_id"]), str(data["output"]))
        if kind == "reasoning":
            summary = tuple(str(part.get("text", "")) for part in data.get("summary", ()))
            return Reasoning(data.get("id"), summary, data.get("encrypted_content"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed {kind} item: missing or wrong field {exc}") from exc
    raise ValueError(f"unknown conversation item type {kind!r}")
