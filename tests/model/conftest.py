"""Fixtures for the model client suite: the loopback model server and a way to run one turn.

`run_turn(prompt, wire_api=..., **provider_settings)` streams one turn from the loopback server
with a real `ModelClient` over real sockets; retry sleeps are recorded instead of slept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from codex.model import (
    Completed,
    Message,
    MessageItem,
    ModelClient,
    ModelError,
    ModelEvent,
    Prompt,
    Retrying,
    TextDelta,
    ToolCall,
    resolve_provider,
)
from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)


@dataclass
class TurnResult:
    """What the caller of `ModelClient.stream` observed."""

    events: list[ModelEvent] = field(default_factory=list)
    error: ModelError | None = None
    sleeps: list[float] = field(default_factory=list)

    def of(self, kind: type[Any]) -> list[Any]:
        """The events of one type, in order."""
        return [event for event in self.events if isinstance(event, kind)]

    @property
    def text(self) -> str:
        """The streamed answer after the last restart (what a front end ends up showing)."""
        shown: list[str] = []
        for event in self.events:
            if isinstance(event, Retrying) and event.discard_partial:
                shown.clear()
            elif isinstance(event, TextDelta):
                shown.append(event.text)
        return "".join(shown)

    @property
    def completed(self) -> Completed:
        (done,) = self.of(Completed)
        return done

    @property
    def calls(self) -> list[ToolCall]:
        return self.of(ToolCall)

    @property
    def messages(self) -> list[MessageItem]:
        return self.of(MessageItem)


def stream_turn(
    server: ModelServer,
    prompt: Prompt | None = None,
    *,
    wire_api: str = "responses",
    env: dict[str, str] | None = None,
    **settings: Any,
) -> TurnResult:
    """Run one turn against `server` and collect everything the client yielded or raised."""
    table = server.provider_table(wire_api, **settings)
    provider = resolve_provider("loopback", {"loopback": table}, env=env or {})
    result = TurnResult()
    prompt = prompt or Prompt(model="gpt-test", instructions="be brief",
                              input=[Message("user", "hello")])

    async def sleep(seconds: float) -> None:
        result.sleeps.append(seconds)

    async def run() -> None:
        async with ModelClient(provider, sleep=sleep, random=lambda: 0.5) as client:
            async for event in client.stream(prompt):
                result.events.append(event)

    try:
        asyncio.run(run())
    except ModelError as exc:
        result.error = exc
    return result


@pytest.fixture
def run_turn(model_server: ModelServer) -> Callable[..., TurnResult]:  # noqa: F811
    """`stream_turn` bound to this test's loopback server."""

    def run(prompt: Prompt | None = None, **options: Any) -> TurnResult:
        return stream_turn(model_server, prompt, **options)

    return run
