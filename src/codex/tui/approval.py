"""Approvals in the bottom pane: the `Approver` the session's guard chain asks.

The guard chain asks from a worker thread (`request_approval` blocks); the request is handed
to the event loop, queued, and shown as an overlay over the composer until the user answers
`y` (once), `a` (for the session), `n`/Esc (deny) or Ctrl-C (abort the turn). The answer goes
back to the same `ApprovalSession` and audit trail as every other front end's. Interrupting
the turn answers every open request with ABORT so no worker thread stays blocked.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from codex.approvals import ApprovalRequest, RequestKind
from codex.policies import ReviewDecision

KEYS: dict[str, ReviewDecision] = {
    "y": ReviewDecision.APPROVED,
    "a": ReviewDecision.APPROVED_FOR_SESSION,
    "n": ReviewDecision.DENIED,
}


@dataclass
class Pending:
    """One request waiting for the user."""

    request: ApprovalRequest
    answer: Future[ReviewDecision] = field(default_factory=Future)

    @property
    def is_patch(self) -> bool:
        return bool(self.request.argv) and self.request.argv[0] == "apply_patch"

    @property
    def subject(self) -> str:
        """What the history line names: the command, or the files of a patch."""
        if self.is_patch:
            return "edits to " + ", ".join(self.request.argv[1:])
        return shlex.join(self.request.argv)


class ApprovalBroker:
    """The TUI's `Approver`: queues requests for the overlay; see the module docstring."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: list[Pending] = []
        self.on_change: Callable[[], None] = lambda: None

    @property
    def interactive(self) -> bool:
        return True

    def request_approval(self, request: ApprovalRequest) -> ReviewDecision:
        """Called from a worker thread: wait for the user's answer."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return ReviewDecision.DENIED
        pending = Pending(request)
        loop.call_soon_threadsafe(self._enqueue, pending)
        return pending.answer.result()

    async def ask(self, request: ApprovalRequest) -> ReviewDecision:
        """Ask from the event loop (a confirmation the UI itself needs)."""
        pending = Pending(request)
        self._enqueue(pending)
        return await asyncio.wrap_future(pending.answer)

    def _enqueue(self, pending: Pending) -> None:
        self.queue.append(pending)
        self.on_change()

    @property
    def current(self) -> Pending | None:
        return self.queue[0] if self.queue else None

    def answer(self, decision: ReviewDecision) -> Pending | None:
        """Answer the request on screen; the answered request (None when none was open)."""
        if not self.queue:
            return None
        pending = self.queue.pop(0)
        if decision is ReviewDecision.APPROVED_FOR_SESSION and not _session_ok(pending):
            decision = ReviewDecision.APPROVED
        pending.answer.set_result(decision)
        self.on_change()
        return pending

    def abort_all(self) -> None:
        """The turn is being interrupted: release every waiting worker."""
        while self.queue:
            self.queue.pop(0).answer.set_result(ReviewDecision.ABORT)
        self.on_change()


def _session_ok(pending: Pending) -> bool:
    return pending.request.kind is RequestKind.RUN or pending.is_patch
