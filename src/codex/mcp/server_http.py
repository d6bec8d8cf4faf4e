"""`codex mcp-server --http`: the same server (codex.mcp.server) over Streamable HTTP.

    await serve_http(run_codex, "127.0.0.1", 0, announce)   # announce(url) once listening

One endpoint, `/mcp`, on a loopback address only. `initialize` opens a session (a server of
its own, named by the `mcp-session-id` header every later request must carry: missing is
400, unknown 404); DELETE ends it and cancels its calls. A POSTed request is answered as
JSON, except `tools/call`, whose answer comes as an SSE stream carrying the call's
notifications and elicitation requests first; notifications and responses POSTed by the
client get 202. There is no GET stream (405): nothing is sent outside a call. Requests whose
Host or Origin is not a loopback name are refused with 403 (DNS rebinding). One request per
connection (`Connection: close`).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from codex.mcp import jsonrpc
from codex.mcp.jsonrpc import JsonObject
from codex.mcp.server import McpServer, RunCodex

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY = 4 * 1024 * 1024
_INVALID_REQUEST = -32600
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large"}
# The reply queue of the POST being answered: what the server writes while handling it.
_REPLY: contextvars.ContextVar[asyncio.Queue[JsonObject] | None] = contextvars.ContextVar(
    "codex_mcp_http_reply", default=None)


class _Session(McpServer):
    """One client's server: writes go to the POST they belong to."""

    def __init__(self, run_codex: RunCodex, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(run_codex)
        self.loop = loop
        self.streams: list[asyncio.Queue[JsonObject]] = []

    def write(self, message: JsonObject) -> None:
        # A worker thread (an approval asking) has no request context: the latest open
        # call stream carries it.
        queue = _REPLY.get() or (self.streams[-1] if self.streams else None)
        if queue is not None:
            self.loop.call_soon_threadsafe(queue.put_nowait, message)


async def serve_http(run_codex: RunCodex, host: str, port: int,
                     announce: Callable[[str], None]) -> None:
    """Serve until cancelled; `announce` gets the endpoint URL once listening."""
    sessions: dict[str, _Session] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _handle(reader, writer, sessions, run_codex)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    announce(f"http://{shown}:{bound[1]}/mcp")
    try:
        async with server:
            await server.serve_forever()
    finally:
        for session in sessions.values():
            session.cancel_calls()


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  sessions: dict[str, _Session], run_codex: RunCodex) -> None:
    method, target, headers = await _read_head(reader)
    length = int(headers.get("content-length") or 0)
    if length > MAX_BODY:
        return await _send(writer, 413, _error("request body too large"))
    body = await reader.readexactly(length) if length else b""
    if urlsplit(target).path != "/mcp":
        return await _send(writer, 404, _error("not found: the MCP endpoint is /mcp"))
    if not _loopback(headers):
        return await _send(writer, 403, _error("Host and Origin must name a loopback address"))
    sid = headers.get("mcp-session-id")
    if method == "DELETE":
        gone = sessions.pop(sid or "", None)
        if gone is None:
            return await _send(writer, 404, _error("unknown session"))
        gone.cancel_calls()
        return await _send(writer, 200, None)
    if method != "POST":
        return await _send(writer, 405, _error("use POST (no GET stream)"),
                           {"allow": "POST, DELETE"})
    try:
        message = json.loads(body)
    except ValueError:
        return await _send(writer, 400, jsonrpc.error(None, -32700, "parse error: not JSON"))
    if not isinstance(message, dict):
        return await _send(writer, 400, jsonrpc.error(None, -32600, "send one JSON-RPC "
                                                                  "message per POST"))
    extra: dict[str, str] = {}
    if message.get("method") == "initialize":
        sid = secrets.token_hex(16)
        sessions[sid] = _Session(run_codex, asyncio.get_running_loop())
        extra["mcp-session-id"] = sid
    elif sid is None:
        return await _send(writer, 400, _error("missing mcp-session-id header"))
    session = sessions.get(sid)
    if session is None:
        return await _send(writer, 404, _error("unknown session"))
    if "method" not in message or "id" not in message:  # a response or a notification
        session.dispatch(body)
        return await _send(writer, 202, None, extra)
    queue: asyncio.Queue[JsonObject] = asyncio.Queue()
    token = _REPLY.set(queue)
    try:
        session.dispatch(body)
    finally:
        _REPLY.reset(token)
    request_id = message["id"]
    if message.get("method") != "tools/call":
        while not _answers(reply := await queue.get(), request_id):
            pass
        return await _send(writer, 200, reply, extra)
    session.streams.append(queue)
    try:
        await _stream(writer, queue, request_id, extra)
    except ConnectionError:
        session.cancel_call(request_id)
    finally:
        session.streams.remove(queue)


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    line = (await reader.readuntil(b"\r\n")).decode("latin-1").split()
    if len(line) != 3:
        raise ValueError("bad request line")
    headers: dict[str, str] = {}
    while (raw := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return line[0].upper(), line[1], headers


def _loopback(headers: dict[str, str]) -> bool:
    host = urlsplit(f"//{headers.get('host', '')}").hostname
    origin = headers.get("origin")
    return host in LOOPBACK_NAMES and (
        origin is None or urlsplit(origin).hostname in LOOPBACK_NAMES)


def _answers(message: JsonObject, request_id: object) -> bool:
    return message.get("id") == request_id and "method" not in message


async def _stream(writer: asyncio.StreamWriter, queue: asyncio.Queue[JsonObject],
                  request_id: object, extra: dict[str, str]) -> None:
    writer.write(_head(200, {"content-type": "text/event-stream", "cache-control": "no-cache",
                             **extra}))
    while True:
        message = await queue.get()
        writer.write(b"event: message\ndata: " + json.dumps(message).encode() + b"\n\n")
        await writer.drain()
        if _answers(message, request_id):
            return


async def _send(writer: asyncio.StreamWriter, status: int, body: Any,
                extra: dict[str, str] | None = None) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    headers = {"content-length": str(len(data)), **(extra or {})}
    if body is not None:
        headers["content-type"] = "application/json"
    writer.write(_head(status, headers) + data)
    await writer.drain()


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _error(message: str) -> JsonObject:
    return jsonrpc.error(None, _INVALID_REQUEST, message)
