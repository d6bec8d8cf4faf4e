"""What the Streamable HTTP client puts on the wire, seen by a loopback HTTP server that
records every request (headers, method, body) and answers like an MCP server would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from codex.config.schema import McpServerConfig
from codex.mcp.client import McpClient
from codex.mcp.http import HttpTransport
from codex.mcp.jsonrpc import McpError
from codex.mcp.toolset import http_headers

pytestmark = pytest.mark.timeout(60)


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, dict[str, str], object]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _record(self) -> object:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, {k.lower(): v for k, v in self.headers.items()}, body))
        return body

    def do_POST(self) -> None:
        body = self._record()
        assert isinstance(body, dict)
        if "id" not in body:
            self.send_response(202)
            self.end_headers()
            return
        result: dict[str, object] = {"tools": []}
        if body["method"] == "initialize":
            result = {"protocolVersion": "2025-03-26", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "recorder", "version": "1"}}
        data = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("mcp-session-id", "session-123")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._record()
        self.send_response(405)
        self.end_headers()

    def do_DELETE(self) -> None:
        self._record()
        self.send_response(200)
        self.end_headers()


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/mcp"
    server.shutdown()


def test_auth_headers_session_and_version_on_the_wire(recorder: str, monkeypatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("DOCS_TOKEN", "tok-123")
    monkeypatch.setenv("DOCS_KEY", "key-456")
    config = McpServerConfig(url=recorder, bearer_token_env_var="DOCS_TOKEN",
                             http_headers={"X-Team": "core"},
                             env_http_headers={"X-Key": "DOCS_KEY", "X-Unset": "NOT_SET_VAR"})
    client = McpClient(HttpTransport(recorder, http_headers(config)), "rec")
    assert client.start(5).protocol_version == "2025-03-26"
    client.list_tools(5)
    deadline = time.monotonic() + 5  # the GET stream opens on its own thread
    while not any(method == "GET" for method, _h, _b in Recorder.seen) and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    client.close()
    methods = [(m, b.get("method") if isinstance(b, dict) else None) for m, _h, b in
               Recorder.seen]
    assert methods[0] == ("POST", "initialize") and methods[-1] == ("DELETE", None)
    # the GET stream is opened after `initialized`, concurrently with the next requests
    assert {("POST", "notifications/initialized"), ("POST", "tools/list"), ("GET", None)} \
        <= set(methods)
    for _method, headers, _body in Recorder.seen:
        assert headers["authorization"] == "Bearer tok-123"
        assert headers["x-team"] == "core" and headers["x-key"] == "key-456"
        assert "x-unset" not in headers
    first = Recorder.seen[0][1]
    assert "mcp-session-id" not in first and "mcp-protocol-version" not in first
    assert "text/event-stream" in first["accept"] and "application/json" in first["accept"]
    for _method, headers, _body in Recorder.seen[1:]:
        assert headers["mcp-session-id"] == "session-123"
        assert headers["mcp-protocol-version"] == "2025-03-26"


def test_missing_bearer_variable_is_named(monkeypatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    config = McpServerConfig(url="http://127.0.0.1:1/mcp", bearer_token_env_var="NO_SUCH_TOKEN")
    with pytest.raises(McpError, match="NO_SUCH_TOKEN"):
        http_headers(config)
