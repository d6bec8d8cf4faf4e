"""codex as an MCP server over stdio: the tools `codex` (start a session on a prompt) and
`codex-reply` (continue a session by its thread id).

    await McpServer(run_codex, stdin, stdout).serve()

`run_codex(arguments, thread_id, approver, emit)` is the front end's session runner (the CLI
builds it from the configuration); this module speaks the protocol: newline-delimited
JSON-RPC, the handshake (2025-11-25 offered, older versions accepted), tools/list,
tools/call (each call a task of its own, so calls can overlap and be cancelled with
`notifications/cancelled`), ping. While a call runs, every session event goes out as a
`codex/event` notification, and as `notifications/progress` when the caller gave a progress
token. Approvals become `elicitation/create` requests when the client declared the
elicitation capability; otherwise nobody can be asked and the approval policy decides alone.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from codex import __version__
from codex.approvals import ApprovalRequest, Approver, NonInteractiveApprover
from codex.mcp import jsonrpc
from codex.mcp.client import PROTOCOL_VERSION, SUPPORTED_VERSIONS
from codex.mcp.jsonrpc import JsonObject
from codex.policies import ReviewDecision
from codex.protocol import AgentEvent, LiveEvent

_ELICIT_TIMEOUT_S = 600.0
_THREAD_KEYS = ("threadId", "conversationId", "sessionId")


@dataclass(frozen=True)
class CodexRun:
    """What a session runner reports: the thread, how it ended, its last message."""

    thread_id: str
    status: str
    last_message: str | None
    error: str | None = None


Emit = Callable[[AgentEvent], None]
RunCodex = Callable[[JsonObject, "str | None", Approver, Emit], Awaitable[CodexRun]]

_CODEX_SCHEMA: JsonObject = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "description": "The task for codex."},
        "model": {"type": "string", "description": "Model to use (default: config.toml)."},
        "profile": {"type": "string", "description": "Config profile from config.toml."},
        "cwd": {"type": "string", "description": "Working directory of the session."},
        "approval-policy": {"type": "string",
                            "enum": ["untrusted", "on-failure", "on-request", "never"]},
        "sandbox": {"type": "string",
                    "description": "Security profile (offline, workspace-write, ...)."},
    },
    "required": ["prompt"],
}
_REPLY_SCHEMA: JsonObject = {
    "type": "object",
    "properties": {
        "threadId": {"type": "string", "description": "The thread id a `codex` call returned."},
        "prompt": {"type": "string", "description": "The next message."},
    },
    "required": ["threadId", "prompt"],
}
TOOLS: list[JsonObject] = [
    {"name": "codex", "title": "Codex", "inputSchema": _CODEX_SCHEMA,
     "description": "Run a codex session on a prompt; returns its final message and thread id.",
     "annotations": {"readOnlyHint": False, "destructiveHint": True, "openWorldHint": True}},
    {"name": "codex-reply", "title": "Codex reply", "inputSchema": _REPLY_SCHEMA,
     "description": "Continue a codex session (by thread id) with another prompt.",
     "annotations": {"readOnlyHint": False, "destructiveHint": True, "openWorldHint": True}},
]


class McpServer:
    """See the module docstring."""

    def __init__(self, run_codex: RunCodex, stdin: BinaryIO | None = None,
                 stdout: BinaryIO | None = None) -> None:
        self.run_codex = run_codex
        self.stdin = stdin or sys.stdin.buffer
        self.stdout = stdout or sys.stdout.buffer
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[str, tuple[threading.Event, list[JsonObject]]] = {}
        self._calls: dict[object, asyncio.Task[None]] = {}
        self.elicitation = False

    async def serve(self) -> None:
        """Answer until stdin ends; running calls are cancelled then."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[bytes | None] = asyncio.Queue()

        def read() -> None:
            for line in self.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=read, name="codex-mcp-server-stdin", daemon=True).start()
        while (line := await lines.get()) is not None:
            self.dispatch(line)
        self.cancel_calls()
        if self._calls:
            await asyncio.gather(*self._calls.values(), return_exceptions=True)

    def write(self, message: JsonObject) -> None:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        with self._write_lock:
            self.stdout.write(data)
            self.stdout.flush()

    def cancel_call(self, request_id: object) -> None:
        """Cancel the running `tools/call` with this id (nothing if none runs)."""
        task = self._calls.get(request_id)
        if task is not None:
            task.cancel()

    def cancel_calls(self) -> None:
        """Cancel every running `tools/call` (the client went away)."""
        for task in list(self._calls.values()):
            task.cancel()

    def dispatch(self, line: bytes) -> None:
        """Handle one message from the client (its answers go through `write`)."""
        try:
            message = json.loads(line)
        except ValueError:
            if line.strip():
                self.write(jsonrpc.error(None, -32700, "parse error: not JSON"))
            return
        if not isinstance(message, dict):
            self.write(jsonrpc.error(None, -32600, "invalid request"))
            return
        method = message.get("method")
        if method is None:
            self._on_response(message)
        elif "id" not in message:
            self._on_notification(str(method), message.get("params"))
        else:
            self._on_request(message["id"], str(method), message.get("params") or {})

    def _on_request(self, request_id: object, method: str, params: JsonObject) -> None:
        if method == "initialize":
            asked = params.get("protocolVersion")
            capabilities = params.get("capabilities")
            self.elicitation = isinstance(capabilities, dict) and "elicitation" in capabilities
            self.write(jsonrpc.result(request_id, {
                "protocolVersion": asked if asked in SUPPORTED_VERSIONS else PROTOCOL_VERSION,
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": "codex-mcp-server", "title": "Codex",
                               "version": __version__},
                "instructions": "Use `codex` to start a coding session and `codex-reply` "
                                "with its threadId to continue it."}))
        elif method == "ping":
            self.write(jsonrpc.result(request_id, {}))
        elif method == "tools/list":
            self.write(jsonrpc.result(request_id, {"tools": TOOLS}))
        elif method == "tools/call":
            task = asyncio.ensure_future(self._call(request_id, params))
            self._calls[request_id] = task
            task.add_done_callback(lambda _t: self._calls.pop(request_id, None))
        else:
            self.write(jsonrpc.error(request_id, jsonrpc.METHOD_NOT_FOUND,
                                     f"method not found: {method}"))

    def _on_notification(self, method: str, params: object) -> None:
        if method == "notifications/cancelled" and isinstance(params, dict):
            self.cancel_call(params.get("requestId"))

    def _on_response(self, message: JsonObject) -> None:
        waiting = self._waiting.get(str(message.get("id")))
        if waiting is not None:
            waiting[1].append(message)
            waiting[0].set()

    async def _call(self, request_id: object, params: JsonObject) -> None:
        name = params.get("name")
        arguments = params.get("arguments") or {}
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        if name not in ("codex", "codex-reply") or not isinstance(arguments, dict):
            self.write(jsonrpc.error(request_id, jsonrpc.INVALID_PARAMS,
                                     f"unknown tool {name!r}: use codex or codex-reply"))
            return
        thread_id = None
        if name == "codex-reply":
            thread_id = next((str(arguments[k]) for k in _THREAD_KEYS if arguments.get(k)),
                             None)
            if thread_id is None:
                self.write(jsonrpc.result(request_id, _text_result(
                    "codex-reply needs threadId (from the result of a codex call)", True)))
                return
        if not isinstance(arguments.get("prompt"), str) or not arguments["prompt"]:
            self.write(jsonrpc.result(request_id, _text_result("prompt is required", True)))
            return
        approver: Approver = _ElicitingApprover(self) if self.elicitation \
            else NonInteractiveApprover()
        try:
            run = await self.run_codex(arguments, thread_id, approver,
                                       self._emitter(request_id, token))
        except asyncio.CancelledError:
            self.write(jsonrpc.error(request_id, jsonrpc.REQUEST_TIMEOUT, "cancelled"))
            return
        except Exception as exc:  # a bad profile, a missing key: the caller reads why
            self.write(jsonrpc.result(request_id, _text_result(str(exc), True)))
            return
        text = run.last_message or run.error or run.status
        result = _text_result(text, run.status != "completed")
        result["structuredContent"] = {"threadId": run.thread_id, "content": text,
                                       "status": run.status}
        self.write(jsonrpc.result(request_id, result))

    def _emitter(self, request_id: object, token: object) -> Emit:
        counter = itertools.count(1)

        def emit(event: AgentEvent) -> None:
            if isinstance(event, LiveEvent):
                return  # deltas are for terminals; the thread events carry the content
            payload = event.model_dump(mode="json")
            self.write(jsonrpc.notification("codex/event", {"requestId": request_id,
                                                            "event": payload}))
            if token is not None:
                self.write(jsonrpc.notification("notifications/progress", {
                    "progressToken": token, "progress": next(counter),
                    "message": _summary(payload)}))

        return emit

    def elicit(self, message: str, schema: JsonObject) -> JsonObject | None:
        """Ask the client (blocking, from a worker thread); None when it did not answer."""
        request_id = f"codex-elicit-{next(self._ids)}"
        event = threading.Event()
        box: list[JsonObject] = []
        self._waiting[request_id] = (event, box)
        try:
            self.write(jsonrpc.request(0, "elicitation/create", {
                "mode": "form", "message": message, "requestedSchema": schema}) | {
                "id": request_id})
            if not event.wait(_ELICIT_TIMEOUT_S):
                return None
        finally:
            self._waiting.pop(request_id, None)
        return box[0] if box else None


class _ElicitingApprover:
    """Approvals as MCP elicitation requests to the client."""

    def __init__(self, server: McpServer) -> None:
        self.server = server

    @property
    def interactive(self) -> bool:
        return True

    def request_approval(self, request: ApprovalRequest) -> ReviewDecision:
        choices = ["approved", "approved_for_session", "denied", "abort"]
        if request.offer_always:
            choices.insert(2, "approved_always")
        answer = self.server.elicit(
            f"codex wants to run: {' '.join(request.argv)}\nin {request.cwd}\n"
            f"because: {request.reason}",
            {"type": "object", "properties": {"decision": {
                "type": "string", "enum": choices, "title": "Decision"}},
             "required": ["decision"]})
        result = answer.get("result") if answer else None
        if not isinstance(result, dict) or result.get("action") != "accept":
            return ReviewDecision.DENIED
        content = result.get("content")
        decision = content.get("decision") if isinstance(content, dict) else None
        return ReviewDecision(decision) if decision in choices else ReviewDecision.DENIED


def _text_result(text: str, is_error: bool) -> JsonObject:
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def _summary(payload: dict[str, Any]) -> str:
    item = payload.get("item")
    if isinstance(item, dict):
        return f"{payload.get('type')}: {item.get('type')}"
    return str(payload.get("type"))
