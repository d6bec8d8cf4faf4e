"""The one typed stream a model client yields, whatever the wire format.

Order and meaning (the contract the turn loop relies on):
- `TextDelta` and `ReasoningDelta` are streamed live as they arrive, for display only.
- `Retrying` says the client is sending the request again. When `discard_partial` is true,
  deltas already shown for this turn came from an attempt that broke off and must be dropped
  by the front end; the retry streams the answer again from the start.
- The output items (`MessageItem`, `ReasoningItem`, `ToolCall`) are held back until the
  response has completed, then yielded in output order, followed by exactly one `Completed`.
  An item is therefore never yielded twice, even when a broken stream is retried.
- Failures are raised as `codex.model.errors.ModelError` subclasses, never yielded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ToolCallKind = Literal["function", "custom"]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's visible answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of reasoning: a summary (Responses) or raw reasoning content (some chat servers)."""

    text: str
    kind: Literal["summary", "content"] = "summary"
    summary_index: int = 0


@dataclass(frozen=True, slots=True)
class Retrying:
    """Retry number `attempt` of at most `max_retries` starts after `delay_s`.

    See the module docstring for `discard_partial`.
    """

    attempt: int
    max_retries: int
    delay_s: float
    reason: str
    discard_partial: bool


@dataclass(frozen=True, slots=True)
class MessageItem:
    """A complete assistant message."""

    text: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningItem:
    """A complete reasoning item; `encrypted_content` must be sent back on the next request."""

    id: str | None
    summary: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    encrypted_content: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asks for a tool.

    `arguments` is the JSON text of a function call, or the raw freeform input of a custom tool
    call (`kind == "custom"`).
    """

    call_id: str
    name: str
    arguments: str
    kind: ToolCallKind = "function"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one response."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0
    cache_write_input_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Completed:
    """The response ended. `status` is "incomplete" when the server stopped early on purpose
    (for example `max_output_tokens` or a content filter), with the reason in `incomplete_reason`.
    `items` repeats the output items yielded just before, in order, for callers that only want
    the final result.
    """

    response_id: str | None
    usage: Usage | None = None
    status: Literal["completed", "incomplete"] = "completed"
    incomplete_reason: str | None = None
    items: tuple[MessageItem | ReasoningItem | ToolCall, ...] = field(default=())


OutputItem = MessageItem | ReasoningItem | ToolCall
Delta = TextDelta | ReasoningDelta
ModelEvent = (
    TextDelta | ReasoningDelta | Retrying | MessageItem | ReasoningItem | ToolCall | Completed
)
