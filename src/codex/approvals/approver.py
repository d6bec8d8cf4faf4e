"""Who answers an approval request: the `Approver` protocol and the non-interactive answerer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from codex.policies import ReviewDecision


class RequestKind(StrEnum):
    """Why we ask: a command to run, or a re-run outside the sandbox."""

    RUN = "run"
    RUN_UNSANDBOXED = "run_unsandboxed"


@dataclass(frozen=True)
class ApprovalRequest:
    """Everything a human needs to decide: the command, where it runs and why we ask.

    `offer_always` is False when "always" makes no sense (an unsandboxed re-run cannot become a
    rule); approvers must not return APPROVED_ALWAYS then.
    """

    argv: tuple[str, ...]
    cwd: Path
    reason: str
    kind: RequestKind = RequestKind.RUN
    offer_always: bool = True


@runtime_checkable
class Approver(Protocol):
    """Answers approval requests. `interactive` is False when nobody can be asked."""

    @property
    def interactive(self) -> bool:
        """True when a human answers."""
        ...

    def request_approval(self, request: ApprovalRequest) -> ReviewDecision:
        """The answer to `request`."""
        ...


class NonInteractiveApprover:
    """For `--json`, CI and `never`: nobody can be asked, so every request is denied."""

    @property
    def interactive(self) -> bool:
        """Always False."""
        return False

    def request_approval(self, request: ApprovalRequest) -> ReviewDecision:
        """Always DENIED: a `prompt` decision means refused when nobody can answer."""
        return ReviewDecision.DENIED
