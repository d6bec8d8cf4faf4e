"""Types shared by the core and every front end.

Front ends talk to the core only through these types, so they are kept small, explicit and
serialisable (pydantic models). The policies they refer to (sandbox, approval, review answers)
live in the stdlib-only `codex.policies`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# ---------------------------------------------------------------------------------------------
# Agent events: what a session reports while it works (owned by the agent room).
#
# The persisted/`--json` events mirror the OpenAI Codex CLI's `codex exec --json` stream, so
# tools written for it can read ours: `thread.started`, `turn.started`, `turn.completed` (usage),
# `turn.failed`, `item.started` / `item.updated` / `item.completed` carrying one thread item, and
# a top-level `error`. `Live*` events are for human front ends only (streamed text, command
# output, retries) and are not part of the JSON stream.


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str


class AgentMessageItem(_Item):
    """The assistant's answer (a JSON string when an output schema was given)."""

    type: Literal["agent_message"] = "agent_message"
    text: str


class ReasoningItem(_Item):
    """A reasoning summary the model chose to show."""

    type: Literal["reasoning"] = "reasoning"
    text: str


CommandStatus = Literal["in_progress", "completed", "failed", "declined"]


class CommandExecutionItem(_Item):
    """A command the agent ran (or was refused): `exit_code` is None while it runs."""

    type: Literal["command_execution"] = "command_execution"
    command: str
    aggregated_output: str = ""
    exit_code: int | None = None
    status: CommandStatus = "in_progress"


class FileUpdateChange(BaseModel):
    """One file a patch touched."""

    model_config = ConfigDict(frozen=True)

    path: str
    kind: Literal["add", "delete", "update"]


class FileChangeItem(_Item):
    """The files one apply_patch call changed (or would have, when it failed)."""

    type: Literal["file_change"] = "file_change"
    changes: tuple[FileUpdateChange, ...] = ()
    status: Literal["in_progress", "completed", "failed"] = "completed"


class McpToolCallItem(_Item):
    """A call to a tool served by an MCP server."""

    type: Literal["mcp_tool_call"] = "mcp_tool_call"
    server: str
    tool: str
    arguments: object = None
    result: object = None
    error: dict[str, str] | None = None
    status: Literal["in_progress", "completed", "failed"] = "in_progress"


class TodoEntry(BaseModel):
    """One step of the agent's plan."""

    model_config = ConfigDict(frozen=True)

    text: str
    completed: bool


class TodoListItem(_Item):
    """The agent's running plan (update_plan)."""

    type: Literal["todo_list"] = "todo_list"
    items: tuple[TodoEntry, ...] = ()


class ErrorItem(_Item):
    """A non-fatal problem the user should see (the turn goes on)."""

    type: Literal["error"] = "error"
    message: str


ThreadItem = (
    AgentMessageItem | ReasoningItem | CommandExecutionItem | FileChangeItem | McpToolCallItem
    | TodoListItem | ErrorItem
)


class TokenUsage(BaseModel):
    """Tokens spent by one task (all model requests of the turn added up)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0


class ErrorInfo(BaseModel):
    """A failure's one-line message."""

    message: str


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class ThreadStarted(_Event):
    """First event: the session (thread) id, usable with `codex exec resume`."""

    type: Literal["thread.started"] = "thread.started"
    thread_id: str


class TurnStarted(_Event):
    """The agent started working on a prompt."""

    type: Literal["turn.started"] = "turn.started"


class TurnCompleted(_Event):
    """The model ended the turn; usage covers every request of the turn."""

    type: Literal["turn.completed"] = "turn.completed"
    usage: TokenUsage


class TurnFailed(_Event):
    """The turn stopped on an error (model failure, turn cap, interruption)."""

    type: Literal["turn.failed"] = "turn.failed"
    error: ErrorInfo


class ItemStarted(_Event):
    type: Literal["item.started"] = "item.started"
    item: ThreadItem


class ItemUpdated(_Event):
    type: Literal["item.updated"] = "item.updated"
    item: ThreadItem


class ItemCompleted(_Event):
    type: Literal["item.completed"] = "item.completed"
    item: ThreadItem


class ThreadError(_Event):
    """An unrecoverable error outside any turn."""

    type: Literal["error"] = "error"
    message: str


ThreadEvent = (
    ThreadStarted | TurnStarted | TurnCompleted | TurnFailed | ItemStarted | ItemUpdated
    | ItemCompleted | ThreadError
)


class LiveTextDelta(_Event):
    """A piece of the answer or of a reasoning summary as it streams (display only)."""

    type: Literal["live.text_delta"] = "live.text_delta"
    text: str
    reasoning: bool = False


class LiveRetry(_Event):
    """The model request is being retried; `discard_partial`: drop the text shown so far."""

    type: Literal["live.retry"] = "live.retry"
    message: str
    discard_partial: bool


class LiveCommandOutput(_Event):
    """A chunk of a running command's output (display only)."""

    type: Literal["live.command_output"] = "live.command_output"
    item_id: str
    stream: str
    text: str


class LiveFileDiff(_Event):
    """The unified diff of a file a patch changed (display only)."""

    type: Literal["live.file_diff"] = "live.file_diff"
    item_id: str
    path: str
    diff: str


class LiveRequestUsage(_Event):
    """Tokens of one model request (display only): its input is the conversation so far,
    which is how full the context window is (the interactive UI's "N% context left")."""

    type: Literal["live.request_usage"] = "live.request_usage"
    usage: TokenUsage


LiveEvent = LiveTextDelta | LiveRetry | LiveCommandOutput | LiveFileDiff | LiveRequestUsage
AgentEvent = ThreadEvent | LiveEvent


# What a front end submits to a session.


class UserInput(BaseModel):
    """Start a task: the user's prompt (and, for exec, an optional output JSON schema)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["user_input"] = "user_input"
    text: str
    output_schema: dict[str, object] | None = None

