"""A scripted stand-in for the person at the terminal, shared by the guard and tools suites."""

from __future__ import annotations

from codex.approvals import ApprovalRequest
from codex.policies import ReviewDecision


class ScriptedApprover:
    """A human whose answers are written in advance; records every question asked.

    Asking more questions than were scripted fails the test: an unexpected prompt is a bug.
    """

    def __init__(self, *answers: ReviewDecision) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    @property
    def interactive(self) -> bool:
        return True

    def request_approval(self, request: ApprovalRequest) -> ReviewDecision:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unscripted approval request: {request}")
        return self.answers.pop(0)
