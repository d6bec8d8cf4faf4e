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


CollabAgentStatus = Literal["pending_init", "running", "interrupted", "completed", "errored",
                           "shutdown", "not_found"]


class CollabAgentState(BaseModel):
    """A sub-agent's last known state, as a collab item reports it."""

    model_config = ConfigDict(frozen=True)

    status: CollabAgentStatus
    message: str | None = None


class CollabToolCallItem(_Item):
    """A sub-agent tool call (spawn_agent, send_input, wait, close_agent), in the Codex CLI's
    `collab_tool_call` shape: who called, which agents it concerned, and their states."""

    type: Literal["collab_tool_call"] = "collab_tool_call"
    tool: Literal["spawn_agent", "send_input", "wait", "close_agent"]
    sender_thread_id: str
    receiver_thread_ids: tuple[str, ...] = ()
    prompt: str | None = None
    agents_states: dict[str, CollabAgentState] = {}
    status: Literal["in_progress", "completed", "failed"] = "in_progress"


ThreadItem = (
    AgentMessageItem | ReasoningItem | CommandExecutionItem | FileChangeItem | McpToolCallItem
    | TodoListItem | ErrorItem | CollabToolCallItem
)


class TokenUsage(BaseModel):
    """Tokens spent: by one task (every model request of the turn added up), or by the whole
    thread in `turn.completed` (the Codex CLI reports thread totals, also after a resume).
    Fields in the Codex CLI's order; a count the provider did not report is 0."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0

    def plus(self, other: TokenUsage) -> TokenUsage:
        """Both counts added up, field by field."""
        return TokenUsage.model_validate({name: getattr(self, name) + getattr(other, name)
                                          for name in TokenUsage.model_fields})


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

# ---------------------------------------------------------------------------------------------
# Supervisor events (owned by the supervisor room): one agent's state as it changes.

AgentLifecycle = Literal["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]


class AgentStateChanged(_Event):
    """An agent moved to `state` (queued -> running -> one final state). Times are Unix
    seconds; `usage` covers every turn so far; `error` is the last one (final states)."""

    type: Literal["agent.state"] = "agent.state"
    agent_id: str
    state: AgentLifecycle
    parent_id: str | None = None
    depth: int = 0
    session_id: str | None = None
    queued_at: float
    started_at: float | None = None
    ended_at: float | None = None
    usage: TokenUsage = TokenUsage()
    error: str | None = None


# What a front end submits to a session.


class UserInput(BaseModel):
    """Start a task: the user's prompt (and, for exec, an optional output JSON schema)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["user_input"] = "user_input"
    text: str
    output_schema: dict[str, object] | None = None
    images: tuple[str, ...] = ()  # data: URLs attached to the prompt (`codex exec -i FILE`)

