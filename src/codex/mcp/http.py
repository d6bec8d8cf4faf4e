"""The Streamable HTTP transport (MCP 2025-11-25) on httpx.

Every message is POSTed to the one endpoint with `Accept: application/json, text/event-stream`.
A request's answer comes back as a JSON body or as an SSE stream (which may carry progress and
server requests first); notifications and responses get 202. The `mcp-session-id` the server
assigns at initialize and the negotiated `mcp-protocol-version` go on every later request. An
SSE stream that ends before its answer is resumed with GET and `Last-Event-ID` after the
server's `retry:` delay; a GET stream for server-initiated messages is kept open (and resumed
the same way) when the server offers one (405 means it does not). Closing DELETEs the session.
Requests run on their own threads so a long call never holds up a cancellation.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import suppress

import httpx

from codex.mcp import jsonrpc
from codex.mcp.jsonrpc import ClosedSink, JsonObject, McpError, MessageSink
from codex.model.sse import SseDecoder

SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
_ACCEPT = "application/json, text/event-stream"
_MAX_RESUMES = 5
_DEFAULT_RETRY_S = 1.0
_MAX_RETRY_S = 10.0
_ERROR = -32000


class HttpTransport:
    """See the module docstring."""

    def __init__(self, url: str, headers: Mapping[str, str], *,
                 connect_timeout_s: float = 30.0) -> None:
        self.url = url
        self._headers = dict(headers)
        self._timeout = httpx.Timeout(connect_timeout_s, read=None)
        self._client: httpx.Client | None = None
        self._on_message: MessageSink | None = None
        self._session_id: str | None = None
        self._version: str | None = None
        self._closed = threading.Event()
        self._listening = False

    def start(self, on_message: MessageSink, on_closed: ClosedSink) -> None:
        self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        self._on_message = on_message

    def send(self, message: JsonObject) -> None:
        if self._client is None or self._closed.is_set():
            raise McpError("the connection is closed")
        if "method" in message and "id" in message:
            threading.Thread(target=self._post_request, args=(message,),
                             name="codex-mcp-http", daemon=True).start()
            return
        self._post_other(message)
        if message.get("method") == "notifications/initialized" and not self._listening:
            self._listening = True
            threading.Thread(target=self._listen, name="codex-mcp-http-get",
                             daemon=True).start()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        client = self._client
        if client is None:
            return
        if self._session_id is not None:
            with suppress(httpx.HTTPError):
                client.delete(self.url, headers=self._request_headers(), timeout=5.0)
        client.close()

    def diagnostics(self) -> str:
        return ""

    def set_protocol_version(self, version: str) -> None:
        self._version = version

    # --- posting --------------------------------------------------------------------------

    def _request_headers(self, accept: str = _ACCEPT) -> dict[str, str]:
        headers = {**self._headers, "accept": accept}
        if self._session_id is not None:
            headers[SESSION_HEADER] = self._session_id
        if self._version is not None:
            headers[VERSION_HEADER] = self._version
        return headers

    def _post_other(self, message: JsonObject) -> None:
        assert self._client is not None
        try:
            response = self._client.post(self.url, json=message,
                                         headers=self._request_headers())
        except httpx.HTTPError as exc:
            raise McpError(f"cannot reach {self.url}: {exc}") from exc
        if response.status_code >= 400:
            raise McpError(f"{self.url} answered HTTP {response.status_code}")

    def _post_request(self, message: JsonObject) -> None:
        """POST a request and deliver its answer (or an error answer standing in for it)."""
        request_id = message["id"]
        try:
            if not self._exchange(message, request_id):
                self._deliver(jsonrpc.error(request_id, _ERROR,
                                            "the server ended its stream without an answer"))
        except McpError as exc:
            self._deliver(jsonrpc.error(request_id, _ERROR, str(exc)))
        except httpx.HTTPError as exc:
            if not self._closed.is_set():
                self._deliver(jsonrpc.error(request_id, _ERROR,
                                            f"HTTP exchange with {self.url} failed: {exc}"))

    def _exchange(self, message: JsonObject, request_id: object) -> bool:
        """True once the answer to `request_id` was delivered."""
        assert self._client is not None
        with self._client.stream("POST", self.url, json=message,
                                 headers=self._request_headers()) as response:
            if message.get("method") == "initialize":
                self._session_id = response.headers.get(SESSION_HEADER) or self._session_id
            _check_status(response, self.url)
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "application/json":
                body = json.loads(response.read() or b"null")
                return self._deliver_all(body, request_id)
            if kind != "text/event-stream":
                raise McpError(f"{self.url} answered with content-type {kind or '(none)'}")
            decoder = SseDecoder()
            if self._consume(response.iter_bytes(), decoder, request_id):
                return True
        return self._resume(decoder, request_id)

    def _resume(self, decoder: SseDecoder, request_id: object) -> bool:
        """Reconnect a broken stream with GET + Last-Event-ID until the answer arrives."""
        assert self._client is not None
        for _attempt in range(_MAX_RESUMES):
            if decoder.last_id is None or self._closed.is_set():
                return False
            self._closed.wait(_retry_delay(decoder))
            headers = {**self._request_headers("text/event-stream"),
                       "last-event-id": decoder.last_id}
            with self._client.stream("GET", self.url, headers=headers) as response:
                if response.status_code == 405:
                    return False
                _check_status(response, self.url)
                if self._consume(response.iter_bytes(), decoder, request_id):
                    return True
        return False

    def _listen(self) -> None:
        """The GET stream for messages the server starts; kept open until close."""
        assert self._client is not None
        decoder = SseDecoder()
        failures = 0
        while not self._closed.is_set() and failures < _MAX_RESUMES:
            headers = self._request_headers("text/event-stream")
            if decoder.last_id is not None:
                headers["last-event-id"] = decoder.last_id
            try:
                with self._client.stream("GET", self.url, headers=headers) as response:
                    if response.status_code in (404, 405) or response.status_code >= 400:
                        return
                    self._consume(response.iter_bytes(), decoder, None)
                    failures = 0
            except (httpx.HTTPError, McpError, RuntimeError):
                failures += 1
            self._closed.wait(_retry_delay(decoder))

    def _consume(self, chunks: Iterator[bytes], decoder: SseDecoder,
                 request_id: object) -> bool:
        answered = False
        for chunk in chunks:
            for event in decoder.feed(chunk):
                answered |= self._deliver_event(event.data, request_id)
            if answered:
                return True
        for event in decoder.flush():
            answered |= self._deliver_event(event.data, request_id)
        return answered

    def _deliver_event(self, data: str, request_id: object) -> bool:
        if not data.strip():
            return False  # a priming event: only its id matters
        try:
            body = json.loads(data)
        except ValueError:
            return False
        return self._deliver_all(body, request_id)

    def _deliver_all(self, body: object, request_id: object) -> bool:
        answered = False
        for item in body if isinstance(body, list) else [body]:
            if isinstance(item, dict):
                answered |= "method" not in item and item.get("id") == request_id
                self._deliver(item)
        return answered

    def _deliver(self, message: JsonObject) -> None:
        if self._on_message is not None:
            self._on_message(message)


def _check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 401:
        raise McpError(f"{url} answered 401 Unauthorized: set bearer_token_env_var or "
                       "http_headers for this server (OAuth login is not supported yet)")
    if status == 404:
        raise McpError(f"{url} answered 404: the MCP session expired or the URL is wrong")
    response.read()
    raise McpError(f"{url} answered HTTP {status}: {response.text[:200]}")


def _retry_delay(decoder: SseDecoder) -> float:
    if decoder.retry_ms is None:
        return _DEFAULT_RETRY_S
    return min(decoder.retry_ms / 1000.0, _MAX_RETRY_S)


