"""Approvals: whether to ask the user before a command runs, how to ask, and what to remember.

Public API (used by `codex.tools.guarded_exec` and the CLI):

    needs_approval(policy: ApprovalPolicy, decision: PolicyDecision, *, escalated=False) -> Gate
    after_sandbox_failure(policy: ApprovalPolicy) -> Gate
        Gate(requirement: Requirement RUN | ASK | REFUSE, reason: str); the table of Codex
        semantics is in `codex.approvals.policy`.
    ApprovalSession(policy, approver, *, codex_home: Path | None)
        .review(argv, *, cwd, decision, escalated=False) -> Verdict
        .review_retry(argv, *, cwd, failure, decision) -> Verdict     (after a sandbox failure)
        Verdict(run, asked, review: ReviewDecision | None, reason, abort, saved_rules)
    Approver (Protocol): .interactive -> bool; .request_approval(ApprovalRequest) -> ReviewDecision
    ApprovalRequest(argv, cwd, reason, kind: RequestKind RUN | RUN_UNSANDBOXED, offer_always)
    TerminalApprover(input_stream, output_stream) / TerminalApprover.open_tty()
        (raises NoTerminalError); NonInteractiveApprover() (denies everything).
    default_approver(*, interactive: bool) -> Approver
        The terminal when `interactive` and /dev/tty opens, else the non-interactive one.
"""

from codex.approvals.approver import (
    ApprovalRequest,
    Approver,
    NonInteractiveApprover,
    RequestKind,
)
from codex.approvals.policy import Gate, Requirement, after_sandbox_failure, needs_approval
from codex.approvals.session import ApprovalSession, Verdict
from codex.approvals.terminal import NoTerminalError, TerminalApprover


def default_approver(*, interactive: bool) -> Approver:
    """The terminal prompt when `interactive` and a terminal exists, else non-interactive."""
    if interactive:
        try:
            return TerminalApprover.open_tty()
        except NoTerminalError:
            pass
    return NonInteractiveApprover()


__all__ = [
    "ApprovalRequest",
    "ApprovalSession",
    "Approver",
    "Gate",
    "NoTerminalError",
    "NonInteractiveApprover",
    "RequestKind",
    "Requirement",
    "TerminalApprover",
    "Verdict",
    "after_sandbox_failure",
    "default_approver",
    "needs_approval",
]
