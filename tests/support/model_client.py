"""Run one model turn against a `ModelServer` and keep everything the caller observed.

`stream_turn(server, prompt, wire_api=..., env=..., **provider_settings)` resolves a provider
table pointing at the server, streams one turn with a real `codex.model.ModelClient` over real
sockets, and records retry sleeps instead of sleeping them (so retry tests run fast).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

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
from support.model_server import ModelServer


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
