"""A bounded mailbox per agent: messages to a busy agent wait their turn, never silently lost.

`send` waits up to `wait_s` for room (backpressure); a mailbox still full then raises
`MailboxFull`, which the sender sees (a tool error for a model, an exception for code).
A closed mailbox (the agent ended) raises `MailboxClosed`.
"""

from __future__ import annotations

import asyncio


class MailboxFull(Exception):
    """The recipient's mailbox stayed full; the message was not delivered."""


class MailboxClosed(Exception):
    """The recipient has ended; it reads no more messages."""


class Mailbox:
    """An asyncio queue of text messages with a capacity and a closed state."""

    def __init__(self, owner: str, capacity: int) -> None:
        self.owner = owner
        self.capacity = capacity
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=capacity)
        self._closed = False

    def __len__(self) -> int:
        return self._queue.qsize()

    async def send(self, message: str, wait_s: float = 0.0) -> None:
        """Deliver `message`, waiting at most `wait_s` for room."""
        if self._closed:
            raise MailboxClosed(f"agent {self.owner} has ended and reads no more messages")
        try:
            if wait_s <= 0:
                self._queue.put_nowait(message)
            else:
                await asyncio.wait_for(self._queue.put(message), wait_s)
        except (asyncio.QueueFull, TimeoutError):
            raise MailboxFull(
                f"the mailbox of agent {self.owner} is full ({self.capacity} messages waiting); "
                "wait for it (wait_agents) and send again") from None

    def take(self) -> str | None:
        """The oldest waiting message, or None."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def receive(self) -> str:
        """Wait for the next message."""
        return await self._queue.get()

    def close(self) -> None:
        self._closed = True
