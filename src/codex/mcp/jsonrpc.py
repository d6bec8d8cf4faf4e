"""JSON-RPC 2.0 as MCP uses it: message shapes, the errors a call can end with, and the
`Transport` contract both wire transports (stdio, Streamable HTTP) fulfil.

Messages are plain dicts (what `json` gives), checked where they are read; a transport hands
every message it receives to `on_message` and reports its end once through `on_closed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

JsonObject = dict[str, Any]
MessageSink = Callable[[JsonObject], None]
ClosedSink = Callable[[str], None]

# JSON-RPC error codes (https://www.jsonrpc.org/specification#error_object).
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
REQUEST_TIMEOUT = -32001


class McpError(Exception):
    """The server could not be used: it failed to start, died, timed out or broke protocol."""


class McpTimeout(McpError):
    """A request got no answer in time (the request was cancelled on the server)."""


class RpcError(McpError):
    """The server answered a request with a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        super().__init__(f"{message} (JSON-RPC error {code})")


class Transport(Protocol):
    """One connection to a server. `send` may block until the message is handed over; what
    comes back arrives on the sink given to `start`."""

    def start(self, on_message: MessageSink, on_closed: ClosedSink) -> None: ...

    def send(self, message: JsonObject) -> None: ...

    def close(self) -> None: ...

    def diagnostics(self) -> str:
        """What the server said on the side (a stdio server's stderr tail), for errors."""
        ...

    def set_protocol_version(self, version: str) -> None: ...


def request(request_id: int, method: str, params: JsonObject | None = None) -> JsonObject:
    message: JsonObject = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str, params: JsonObject | None = None) -> JsonObject:
    message: JsonObject = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def result(request_id: object, value: JsonObject) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "result": value}


def error(request_id: object, code: int, message: str) -> JsonObject:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
