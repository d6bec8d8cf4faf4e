"""The model client: one request per turn, streamed, retried, mapped to model events.

Retry budgets (from the provider config):
- `request_max_retries` covers failures before a response stream began: connection errors,
  timeouts waiting for headers, and HTTP 408/409/429/5xx.
- `stream_max_retries` covers a stream that broke after HTTP 200: disconnected, idle for longer
  than `stream_idle_timeout_ms`, ended before completion, malformed, or a retryable error event.
  The whole request is sent again. Deltas already yielded are not replayed silently: the client
  yields `Retrying(discard_partial=True)` first, and output items are only ever yielded after
  the response completed, so no item reaches the caller twice (see `codex.model.events`).
The wait is the server's (`retry-after-ms`, `retry-after`, a "try again in" hint), else
exponential backoff with jitter. `sleep` and `random` are injectable so tests stay fast.
"""

from __future__ import annotations

import asyncio
import functools
import random as random_module
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import httpx

from codex import __version__
from codex.model import chat, responses
from codex.model.errors import (
    ModelConnectionError,
    ModelError,
    ModelHttpError,
    ModelStreamError,
)
from codex.model.events import (
    Completed,
    ModelEvent,
    OutputItem,
    ReasoningDelta,
    Retrying,
    TextDelta,
)
from codex.model.failures import classify, parse_error_body
from codex.model.prompt import CustomTool, Prompt
from codex.model.provider import ResolvedProvider
from codex.model.retry import backoff_delay, retry_after_from_headers
from codex.model.sse import SseDecoder, SseEvent

CONNECT_TIMEOUT_S = 30.0
WRITE_TIMEOUT_S = 60.0
USER_AGENT = f"codex/{__version__}"
DRAIN_TIMEOUT_S = 0.05


@dataclass
class _AttemptState:
    streaming: bool = False
    yielded_delta: bool = False


class _Parser:
    """The wire-format parser for one attempt, behind one interface."""

    def __init__(self, provider: ResolvedProvider, prompt: Prompt) -> None:
        self.chat: chat.ChatStream | None = None
        self.responses: responses.ResponsesStream | None = None
        if provider.wire_api == "chat":
            custom = (tool.name for tool in prompt.tools if isinstance(tool, CustomTool))
            self.chat = chat.ChatStream(provider, custom)
        else:
            self.responses = responses.ResponsesStream(
                provider, responses.namespace_members(prompt.tools))

    def feed(self, sse: SseEvent) -> list[ModelEvent]:
        if self.chat is not None:
            return self.chat.feed(sse)
        assert self.responses is not None
        return self.responses.feed(sse)

    @property
    def done(self) -> bool:
        parser = self.chat if self.chat is not None else self.responses
        assert parser is not None
        return parser.done

    @property
    def finished(self) -> bool:
        """True once nothing essential is missing (chat: a finish_reason arrived)."""
        return self.chat.finished if self.chat is not None else self.done

    def finish(self) -> list[ModelEvent]:
        """End of the byte stream: the last events, or ModelStreamError if it ended early."""
        if self.chat is not None:
            return self.chat.finish()
        raise ModelStreamError("the model stream ended before response.completed")


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read the rest of a finished response (normally just the chunked-encoding terminator)
    so the connection goes back to the pool; give up quickly on a server that lingers."""
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for _ in chunks:
                pass
    except (TimeoutError, httpx.HTTPError):
        pass


def _route(
    parser: _Parser, batch: list[SseEvent], items: list[OutputItem], state: _AttemptState
) -> tuple[list[ModelEvent], bool]:
    """Feed decoded SSE events to the parser; (events to yield now, whether it completed)."""
    out: list[ModelEvent] = []
    for sse in batch:
        ready, completed = _route_events(parser.feed(sse), items, state)
        out.extend(ready)
        if completed:
            return out, True
        if parser.done:
            break
    return out, False


def _route_events(
    events: list[ModelEvent], items: list[OutputItem], state: _AttemptState
) -> tuple[list[ModelEvent], bool]:
    """Deltas pass through; items wait for `Completed`, which releases them in order."""
    out: list[ModelEvent] = []
    for event in events:
        if isinstance(event, TextDelta | ReasoningDelta):
            state.yielded_delta = True
            out.append(event)
        elif isinstance(event, Completed):
            out.extend(items)
            out.append(replace(event, items=tuple(items)))
            return out, True
        elif not isinstance(event, Retrying):
            items.append(event)
    return out, False


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi roots, SSL_CERT_FILE/DIR honoured), built once
    per process: loading the CA bundle costs ~100 ms, which every session (and every agent of
    the supervisor) would otherwise pay again."""
    return httpx.create_ssl_context()


class ModelClient:
    """Streams model events for a prompt from one provider. Use as an async context manager."""

    def __init__(
        self,
        provider: ResolvedProvider,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        self.provider = provider
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT}, verify=shared_tls_context()
        )
        self._sleep = sleep
        self._random = random

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections this client opened."""
        if self._owns_http:
            await self._http.aclose()

    def request_body(self, prompt: Prompt) -> dict[str, Any]:
        """The JSON body a turn sends, in the provider's wire format."""
        if self.provider.wire_api == "chat":
            return chat.request_body(prompt)
        return responses.request_body(prompt, self.provider.config.namespace_tools)

    async def stream(self, prompt: Prompt) -> AsyncGenerator[ModelEvent, None]:
        """Yield the model events of one turn; raises `ModelError` when it cannot complete.

        To stop early, `aclose()` the generator (or use `contextlib.aclosing`): the HTTP
        response is then closed at once.
        """
        body = self.request_body(prompt)
        config = self.provider.config
        request_retries = stream_retries = 0
        while True:
            state = _AttemptState()
            try:
                # aclosing: when the caller stops early (Ctrl-C, cancel), the HTTP response is
                # closed now rather than whenever the attempt generator is collected.
                async with aclosing(self._attempt(body, prompt, state)) as events:
                    async for event in events:
                        yield event
                return
            except ModelError as exc:
                if not exc.retryable:
                    raise
                if state.streaming:
                    stream_retries += 1
                    used, budget, what = stream_retries, config.stream_max_retries, "stream"
                else:
                    request_retries += 1
                    used, budget, what = request_retries, config.request_max_retries, "request"
                if used > budget:
                    exc.args = (f"{exc.args[0]} (gave up after {used} attempts; "
                                f"{what}_max_retries = {budget})",)
                    raise
                delay = exc.retry_after_s
                if delay is None:
                    delay = backoff_delay(used, self._random)
                yield Retrying(used, budget, delay, str(exc), state.yielded_delta)
                await self._sleep(delay)

    async def _attempt(
        self, body: dict[str, Any], prompt: Prompt, state: _AttemptState
    ) -> AsyncGenerator[ModelEvent, None]:
        provider = self.provider
        idle_s = provider.config.stream_idle_timeout_ms / 1000.0
        timeout = httpx.Timeout(
            connect=CONNECT_TIMEOUT_S, read=idle_s, write=WRITE_TIMEOUT_S, pool=CONNECT_TIMEOUT_S
        )
        parser = _Parser(provider, prompt)
        items: list[OutputItem] = []
        try:
            async with self._http.stream(
                "POST",
                provider.endpoint,
                json=body,
                headers={**provider.headers, "Accept": "text/event-stream"},
                params=provider.query_params,
                timeout=timeout,
            ) as response:
                await self._check_status(response)
                state.streaming = True
                decoder = SseDecoder()
                chunks = response.aiter_bytes()
                async for chunk in chunks:
                    out, completed = _route(parser, decoder.feed(chunk), items, state)
                    if completed or parser.done:
                        await _drain(chunks)
                    for event in out:
                        yield event
                    if completed:
                        return
                    if parser.done:
                        break
                else:
                    out, completed = _route(parser, decoder.flush(), items, state)
                    for event in out:
                        yield event
                    if completed:
                        return
        except httpx.TimeoutException as exc:
            if not state.streaming:
                raise ModelConnectionError(
                    f"{provider.config.name} ({provider.endpoint}) did not answer within "
                    f"the timeout ({type(exc).__name__})"
                ) from None
            if not parser.finished:
                raise ModelStreamError(
                    f"the model stream was idle for {idle_s:g} s (stream_idle_timeout_ms = "
                    f"{provider.config.stream_idle_timeout_ms})"
                ) from None
        except httpx.RequestError as exc:  # transport failures and undecodable bodies
            detail = str(exc) or type(exc).__name__
            if not state.streaming:
                raise ModelConnectionError(
                    f"could not reach {provider.config.name} at {provider.endpoint}: {detail}"
                ) from None
            if not parser.finished:
                raise ModelStreamError(
                    f"the connection to {provider.endpoint} broke mid-stream: {detail}"
                ) from None
        out, _ = _route_events(parser.finish(), items, state)
        for event in out:
            yield event

    async def _check_status(self, response: httpx.Response) -> None:
        """Raise the right error for an HTTP error status or a non-stream 200 body."""
        provider = self.provider
        if response.status_code >= 300:
            raw = await response.aread()
            code, message = parse_error_body(raw)
            raise classify(
                provider, code, message,
                status=response.status_code,
                retry_after_s=retry_after_from_headers(response.headers),
            )
        content_type = response.headers.get("content-type", "").lower()
        if not content_type or "event-stream" in content_type:
            return
        raw = await response.aread()
        if "json" in content_type:
            code, message = parse_error_body(raw)
            raise classify(provider, code, message)
        excerpt = raw[:200].decode("utf-8", errors="replace")
        raise ModelHttpError(
            f"{provider.config.name} ({provider.endpoint}) answered {content_type} instead of an "
            f"event stream; check the provider's base_url: {excerpt!r}",
            status=response.status_code,
            retryable=False,
        )
