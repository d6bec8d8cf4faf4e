"""Thread items for tool calls: what front ends see of a call before and after it runs.

`started_item` is the `item.started` of a call that takes effect over time (a command, or a
patch: the Codex CLI starts both), `finished_item` maps a tool's `ToolOutput.data` to the
completed item (command_execution, file_change, todo_list, or an error item when a call could
not be understood). Kinds follow `codex exec --json`: patch changes are add / delete / update
(a move is an update of the new path).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from codex.model import ToolCall
from codex.protocol import (
    AgentEvent,
    CollabToolCallItem,
    CommandExecutionItem,
    ErrorItem,
    FileChangeItem,
    FileUpdateChange,
    LiveFileDiff,
    McpToolCallItem,
    ThreadItem,
    TodoEntry,
    TodoListItem,
)
from codex.tools.apply_patch import patch_text_from_arguments, planned_changes
from codex.tools.base import ToolContext, ToolOutput
from codex.tools.invocation import detect_apply_patch

# Sub-agent tools and the `tool` name their `collab_tool_call` items carry (Codex CLI's).
_COLLAB_TOOLS: dict[str, Literal["spawn_agent", "send_input", "wait", "close_agent"]] = {
    "spawn_agent": "spawn_agent", "send_input": "send_input", "wait_agents": "wait",
    "close_agent": "close_agent"}
_KINDS = {"added": "add", "add": "add", "deleted": "delete", "delete": "delete",
          "updated": "update", "update": "update", "moved": "update"}


def shell_argv(call: ToolCall) -> list[str] | None:
    """The argv of a `shell` call that will run a command (not an apply_patch in disguise)."""
    if call.name != "shell" or call.kind != "function":
        return None
    command = _json_object(call.arguments).get("command")
    if not isinstance(command, list) or not command or \
            not all(isinstance(a, str) for a in command):
        return None
    return None if detect_apply_patch(command) is not None else command


def started_item(call: ToolCall, item_id: str, ctx: ToolContext,
                 mcp_tools: Mapping[str, tuple[str, str]] | None = None) -> ThreadItem | None:
    """The in-progress item for a call that takes time (a command, a patch, an MCP tool call),
    else None. `mcp_tools`: (server, tool) by the name the model calls an MCP tool."""
    if mcp_tools and call.name in mcp_tools:
        server, tool = mcp_tools[call.name]
        return McpToolCallItem(id=item_id, server=server, tool=tool,
                               arguments=_json_or_text(call.arguments))
    argv = shell_argv(call)
    if argv is not None:
        return CommandExecutionItem(id=item_id, command=shlex.join(argv))
    patch = _patch_of(call, ctx.workspace)
    changes = planned_changes(patch[0], ctx, patch[1]) if patch is not None else None
    if changes is None:
        return None
    return FileChangeItem(id=item_id, changes=tuple(_change(c) for c in changes),
                          status="in_progress")


def _patch_of(call: ToolCall, workspace: Path) -> tuple[str, Path] | None:
    """(patch text, directory it applies in) of an apply_patch call, direct or via shell."""
    if call.name == "apply_patch":
        if call.kind == "custom":
            return call.arguments, workspace
        text = patch_text_from_arguments(_json_object(call.arguments))
        return (text, workspace) if text is not None else None
    if call.name != "shell" or call.kind != "function":
        return None
    arguments = _json_object(call.arguments)
    command, workdir = arguments.get("command"), arguments.get("workdir")
    if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
        return None
    invocation = detect_apply_patch(command)
    if invocation is None:
        return None
    base = workspace / workdir if isinstance(workdir, str) and workdir else workspace
    return invocation.patch, base / invocation.cd if invocation.cd else base


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def finished_item(call: ToolCall, item_id: str, output: ToolOutput,
                  started: ThreadItem | None = None) -> ThreadItem:
    """The completed item for a call's output (a failed patch keeps the files it named when
    it started)."""
    data = output.data
    kind = data.get("type")
    if kind == "command_execution":
        status = data.get("status", "failed" if not output.success else "completed")
        argv = data.get("command")
        command = shlex.join(argv) if isinstance(argv, list) else str(argv)
        # A refused command has no output; its reason is what a reader needs instead.
        shown = data.get("reason") if status == "declined" else data.get("aggregated_output")
        return CommandExecutionItem(
            id=item_id, command=command, aggregated_output=str(shown or ""),
            exit_code=_int_or_none(data.get("exit_code")),
            status=status if status in ("completed", "failed", "declined") else "failed")
    if kind == "file_change":
        changes = tuple(_change(c) for c in data.get("changes", ()) if isinstance(c, dict))
        if not changes and isinstance(started, FileChangeItem):
            changes = started.changes
        return FileChangeItem(id=item_id, changes=changes,
                              status="completed" if output.success else "failed")
    if kind == "collab_tool_call":
        return CollabToolCallItem.model_validate({**data, "id": item_id,
                                                  "tool": _COLLAB_TOOLS[call.name]})
    if kind == "mcp_tool_call":
        status = data.get("status")
        return McpToolCallItem(
            id=item_id, server=str(data.get("server")), tool=str(data.get("tool")),
            arguments=data.get("arguments"), result=data.get("result"),
            error=data.get("error"),
            status=status if status in ("completed", "failed") else "failed")
    if kind == "todo_list":
        return TodoListItem(id=item_id, items=tuple(
            TodoEntry(text=str(i.get("text", "")), completed=bool(i.get("completed")))
            for i in data.get("items", ()) if isinstance(i, dict)))
    if kind == "plugin_call":  # WASM plugin tools render like MCP tool calls
        ok = output.success
        return McpToolCallItem(
            id=item_id, server=str(data.get("server")), tool=str(data.get("tool")),
            arguments=data.get("arguments"),
            result={"content": [{"type": "text", "text": output.text}]} if ok else None,
            error=None if ok else {"message": output.text},
            status="completed" if ok else "failed")
    argv = shell_argv(call)
    if argv is not None or call.name == "shell":
        return CommandExecutionItem(id=item_id, command=shlex.join(argv) if argv else call.name,
                                    aggregated_output=output.text, exit_code=None,
                                    status="failed")
    return ErrorItem(id=item_id, message=f"{call.name}: {output.text}")


def diff_events(item_id: str, output: ToolOutput) -> list[AgentEvent]:
    """One live diff per file a successful patch changed (human front ends show them)."""
    if output.data.get("type") != "file_change" or not output.success:
        return []
    events: list[AgentEvent] = []
    for change in output.data.get("changes", ()):
        if isinstance(change, dict) and change.get("diff"):
            events.append(LiveFileDiff(item_id=item_id, path=_display_path(change),
                                       diff=str(change["diff"])))
    return events


def _change(change: dict[str, Any]) -> FileUpdateChange:
    kind = _KINDS.get(str(change.get("kind")), "update")
    return FileUpdateChange.model_validate({"path": _display_path(change), "kind": kind})


def _display_path(change: dict[str, Any]) -> str:
    return str(change.get("move_path") or change.get("path") or "")


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
