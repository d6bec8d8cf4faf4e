"""An MCP client session over any `Transport`: the handshake, tools, progress, cancellation.

    client = McpClient(transport, name="git")
    client.start(timeout_s=30)            # initialize + initialized; McpError when it fails
    tools = client.list_tools(timeout_s)  # every page of tools/list
    result = client.call_tool("status", {...}, timeout_s=60, on_progress=..., cancel=event)
    client.close()

Synchronous and thread-safe: tool handlers run in worker threads, so each request waits on
its own slot while a reader thread (the transport's) delivers answers. A request that times
out, or whose `cancel` event is set, sends `notifications/cancelled` and raises McpTimeout /
McpError. Requests from the server are answered: `ping` with an empty result, anything else
with "method not found" (this client offers no roots, sampling or elicitation).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codex import __version__
from codex.mcp import jsonrpc
from codex.mcp.jsonrpc import JsonObject, McpError, McpTimeout, RpcError, Transport

PROTOCOL_VERSION = "2025-11-25"
SUPPORTED_VERSIONS = frozenset({"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"})
_POLL_S = 0.05
_GONE_WAIT_S = 2.0
_TAIL_SHOWN = 2000  # characters of a dead server's stderr shown in errors

ProgressSink = Callable[[float, float | None, str | None], None]


@dataclass
class ServerInfo:
    """What the server said about itself in the handshake."""

    name: str = ""
    version: str = ""
    protocol_version: str = ""
    capabilities: JsonObject = field(default_factory=dict)
    instructions: str | None = None


@dataclass
class _Slot:
    done: threading.Event = field(default_factory=threading.Event)
    response: JsonObject | None = None
    on_progress: ProgressSink | None = None


class McpClient:
    """See the module docstring."""

    def __init__(self, transport: Transport, name: str,
                 on_tools_changed: Callable[[], None] | None = None) -> None:
        self.transport = transport
        self.name = name
        self.server = ServerInfo()
        self.on_tools_changed = on_tools_changed
        self._ids = itertools.count(1)
        self._slots: dict[int, _Slot] = {}
        self._progress: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._closed: str | None = None
        self._gone = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, timeout_s: float) -> ServerInfo:
        """Connect and run the handshake (offering PROTOCOL_VERSION, accepting older ones)."""
        self.transport.start(self._on_message, self._on_closed)
        reply = self.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "codex", "title": "Codex CLI", "version": __version__},
        }, timeout_s=timeout_s)
        version = str(reply.get("protocolVersion", ""))
        if version not in SUPPORTED_VERSIONS:
            raise McpError(f"server {self.name!r} speaks MCP {version or '(none)'}; this client "
                           f"speaks {', '.join(sorted(SUPPORTED_VERSIONS))}")
        info = reply.get("serverInfo") if isinstance(reply.get("serverInfo"), dict) else {}
        assert isinstance(info, dict)
        capabilities = reply.get("capabilities")
        self.server = ServerInfo(
            name=str(info.get("name", "")), version=str(info.get("version", "")),
            protocol_version=version,
            capabilities=capabilities if isinstance(capabilities, dict) else {},
            instructions=reply.get("instructions") if isinstance(
                reply.get("instructions"), str) else None)
        self.transport.set_protocol_version(version)
        self.notify("notifications/initialized")
        return self.server

    def close(self) -> None:
        self._on_closed("closed by the client")
        self.transport.close()

    # --- tools ----------------------------------------------------------------------------

    def list_tools(self, timeout_s: float) -> list[JsonObject]:
        """Every tool the server offers, following `nextCursor` across pages."""
        tools: list[JsonObject] = []
        cursor: str | None = None
        for _page in range(1000):  # a server that loops its cursor must not hang us
            params = {"cursor": cursor} if cursor else None
            reply = self.request("tools/list", params, timeout_s=timeout_s)
            page = reply.get("tools")
            if not isinstance(page, list):
                raise McpError(f"server {self.name!r} answered tools/list without a tool list")
            tools.extend(t for t in page if isinstance(t, dict) and isinstance(t.get("name"), str))
            next_cursor = reply.get("nextCursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                return tools
            cursor = next_cursor
        raise McpError(f"server {self.name!r} returned more than 1000 pages of tools")

    def call_tool(self, name: str, arguments: JsonObject, *, timeout_s: float,
                  on_progress: ProgressSink | None = None,
                  cancel: threading.Event | None = None) -> JsonObject:
        """The `CallToolResult` (content, structuredContent, isError) of one call."""
        return self.request("tools/call", {"name": name, "arguments": arguments},
                            timeout_s=timeout_s, on_progress=on_progress, cancel=cancel)

    # --- requests -------------------------------------------------------------------------

    def request(self, method: str, params: JsonObject | None, *, timeout_s: float,
                on_progress: ProgressSink | None = None,
                cancel: threading.Event | None = None) -> JsonObject:
        """Send one request and wait for its result (RpcError for an error answer)."""
        request_id = next(self._ids)
        slot = _Slot(on_progress=on_progress)
        token = None
        if on_progress is not None:
            token = f"{self.name}-{request_id}"
            params = {**(params or {}), "_meta": {"progressToken": token}}
        with self._lock:
            if self._closed is not None:
                raise McpError(self._closed_message())
            self._slots[request_id] = slot
            if token is not None:
                self._progress[token] = slot
        try:
            try:
                self.transport.send(jsonrpc.request(request_id, method, params))
            except McpError as exc:  # a dying server: say why it died once the reader knows
                if self._gone.wait(_GONE_WAIT_S):
                    raise McpError(self._closed_message()) from exc
                raise
            self._wait(slot, request_id, method, timeout_s, cancel)
        finally:
            with self._lock:
                self._slots.pop(request_id, None)
                if token is not None:
                    self._progress.pop(token, None)
        return _result_of(slot.response)

    def notify(self, method: str, params: JsonObject | None = None) -> None:
        self.transport.send(jsonrpc.notification(method, params))

    def _wait(self, slot: _Slot, request_id: int, method: str, timeout_s: float,
              cancel: threading.Event | None) -> None:
        deadline = time.monotonic() + timeout_s
        while not slot.done.wait(_POLL_S if cancel is not None else
                                 max(0.0, deadline - time.monotonic())):
            if cancel is not None and cancel.is_set():
                self._cancel(request_id, "the turn was interrupted")
                raise McpError(f"{method} on {self.name!r} was cancelled")
            if time.monotonic() >= deadline:
                self._cancel(request_id, f"timed out after {timeout_s:g}s")
                raise McpTimeout(f"{method} on {self.name!r} timed out after {timeout_s:g}s "
                                 "(raise tool_timeout_sec / startup_timeout_sec for this server)")
        if slot.response is None:
            raise McpError(self._closed_message())

    def _cancel(self, request_id: int, reason: str) -> None:
        if self._closed is None:
            with contextlib.suppress(McpError):
                self.notify("notifications/cancelled", {"requestId": request_id,
                                                        "reason": reason})

    def _closed_message(self) -> str:
        tail = self.transport.diagnostics()[-_TAIL_SHOWN:]
        where = f"; its stderr ends with:\n{tail}" if tail else ""
        return f"MCP server {self.name!r} is gone ({self._closed}){where}"

    # --- incoming -------------------------------------------------------------------------

    def _on_message(self, message: JsonObject) -> None:
        if "method" in message:
            if "id" in message:
                self._answer_server_request(message)
            else:
                self._on_notification(str(message["method"]), message.get("params"))
            return
        request_id = message.get("id")
        with self._lock:
            slot = self._slots.get(request_id) if isinstance(request_id, int) else None
        if slot is not None:
            slot.response = message
            slot.done.set()

    def _on_notification(self, method: str, params: object) -> None:
        if method == "notifications/tools/list_changed" and self.on_tools_changed is not None:
            self.on_tools_changed()
        elif method == "notifications/progress" and isinstance(params, dict):
            with self._lock:
                slot = self._progress.get(str(params.get("progressToken")))
            progress = params.get("progress")
            if slot is not None and slot.on_progress is not None and \
                    isinstance(progress, int | float):
                total = params.get("total")
                message = params.get("message")
                slot.on_progress(float(progress),
                                 float(total) if isinstance(total, int | float) else None,
                                 message if isinstance(message, str) else None)

    def _answer_server_request(self, message: JsonObject) -> None:
        method = message.get("method")
        if method == "ping":
            reply = jsonrpc.result(message["id"], {})
        else:
            reply = jsonrpc.error(message["id"], jsonrpc.METHOD_NOT_FOUND,
                                  f"this client does not support {method}")
        with contextlib.suppress(McpError):
            self.transport.send(reply)

    def _on_closed(self, reason: str) -> None:
        with self._lock:
            if self._closed is not None:
                return
            self._closed = reason
            self._gone.set()
            slots = list(self._slots.values())
        for slot in slots:
            slot.done.set()


def _result_of(response: JsonObject | None) -> JsonObject:
    assert response is not None
    failure = response.get("error")
    if isinstance(failure, dict):
        raise RpcError(int(failure.get("code", -32603)), str(failure.get("message", "error")),
                       failure.get("data"))
    value: Any = response.get("result")
    if not isinstance(value, dict):
        raise McpError("the server answered without a result object")
    return value

