"""The approval step of the guard chain for one session: policy + approver + memory.

`ApprovalSession.review` turns an exec-policy decision into a `Verdict` (run or not, who decided,
why), asking the approver only when the approval policy requires it. Answers are remembered:
`approved_for_session` for this exact command (and kind of run) until the session ends, and
`approved_always` additionally appends an allow rule per simple command to
CODEX_HOME/rules/default.toml (see `codex.execpolicy.append_allow_rule`). Built-in dangerous
rules still win over such a rule (strictest decision wins), so "always" cannot unlock
`git push --force` or anything forbidden; and a script that needed approval for a construct
(a redirect to a file, a substitution) still asks next time, since only its simple commands
become rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codex.approvals.approver import ApprovalRequest, Approver, RequestKind
from codex.approvals.policy import Gate, Requirement, after_sandbox_failure, needs_approval
from codex.execpolicy import AmendError, Decision, PolicyDecision, append_allow_rule
from codex.execpolicy.amend import default_rules_path
from codex.policies import ApprovalPolicy, ReviewDecision


@dataclass(frozen=True)
class Verdict:
    """The outcome of the approval step.

    - `run`: go ahead.
    - `asked`: a human was asked (False when the policy or session memory decided).
    - `review`: the answer (None when nobody was asked; DENIED when asking was impossible).
    - `reason`: one sentence for the audit log and for the model when refused.
    - `abort`: the user chose to stop the whole task, not just this command.
    - `saved_rules`: rule files written by `approved_always`.
    """

    run: bool
    asked: bool
    review: ReviewDecision | None
    reason: str
    abort: bool = False
    saved_rules: tuple[Path, ...] = field(default=())


class ApprovalSession:
    """Approval state for one session (one `codex sandbox` run, one agent conversation)."""

    def __init__(self, policy: ApprovalPolicy, approver: Approver, *,
                 codex_home: Path | None) -> None:
        self.policy = policy
        self.approver = approver
        self.codex_home = codex_home
        self._approved: set[tuple[RequestKind, tuple[str, ...]]] = set()

    def review(self, argv: Sequence[str], *, cwd: Path, decision: PolicyDecision,
               escalated: bool = False) -> Verdict:
        """Decide whether `argv` (judged `decision` by the exec policy) runs now.

        `escalated`: the command would run outside the sandbox.
        """
        gate = needs_approval(self.policy, decision, escalated=escalated)
        kind = RequestKind.RUN_UNSANDBOXED if escalated else RequestKind.RUN
        return self._apply(gate, tuple(argv), cwd, kind, decision)

    def review_retry(self, argv: Sequence[str], *, cwd: Path, failure: str,
                     decision: PolicyDecision) -> Verdict:
        """After `argv` failed inside the sandbox with `failure`: may it re-run unsandboxed?"""
        if decision.decision is Decision.FORBIDDEN:
            return Verdict(False, False, None, f"forbidden by policy: {decision.justification}")
        gate = after_sandbox_failure(self.policy)
        if gate.requirement is Requirement.ASK:
            gate = Gate(Requirement.ASK, f"{gate.reason} ({failure})")
        return self._apply(gate, tuple(argv), cwd, RequestKind.RUN_UNSANDBOXED, decision)

    def _apply(self, gate: Gate, argv: tuple[str, ...], cwd: Path, kind: RequestKind,
               decision: PolicyDecision) -> Verdict:
        if gate.requirement is Requirement.REFUSE:
            return Verdict(False, False, None, gate.reason)
        if gate.requirement is Requirement.RUN:
            return Verdict(True, False, None, gate.reason)
        if (kind, argv) in self._approved:
            return Verdict(True, False, ReviewDecision.APPROVED_FOR_SESSION,
                           "approved earlier in this session")
        if not self.approver.interactive:
            return Verdict(False, False, ReviewDecision.DENIED,
                           f"needs approval ({gate.reason}) but nobody can be asked "
                           "(non-interactive)")
        offer_always = kind is RequestKind.RUN and self.codex_home is not None and bool(
            _rule_prefixes(decision))
        request = ApprovalRequest(argv, cwd, gate.reason, kind, offer_always)
        answer = self.approver.request_approval(request)
        if answer is ReviewDecision.APPROVED_ALWAYS and not offer_always:
            answer = ReviewDecision.APPROVED_FOR_SESSION
        if answer is ReviewDecision.APPROVED:
            return Verdict(True, True, answer, "approved by the user")
        if answer is ReviewDecision.APPROVED_FOR_SESSION:
            self._approved.add((kind, argv))
            return Verdict(True, True, answer, "approved by the user for this session")
        if answer is ReviewDecision.APPROVED_ALWAYS:
            self._approved.add((kind, argv))
            return self._save_always(decision, answer)
        if answer is ReviewDecision.ABORT:
            return Verdict(False, True, answer, "the user aborted", abort=True)
        return Verdict(False, True, ReviewDecision.DENIED, "denied by the user")

    def _save_always(self, decision: PolicyDecision, answer: ReviewDecision) -> Verdict:
        assert self.codex_home is not None  # offer_always guarantees it
        try:
            for prefix in _rule_prefixes(decision):
                append_allow_rule(self.codex_home, prefix)
        except AmendError as exc:
            return Verdict(True, True, answer, f"approved by the user; the rule was not saved: "
                                               f"{exc}")
        path = default_rules_path(self.codex_home)
        return Verdict(True, True, answer, f"approved by the user; allow rule saved in {path}",
                       saved_rules=(path,))


def _rule_prefixes(decision: PolicyDecision) -> list[tuple[str, ...]]:
    """The simple commands an "always" answer turns into allow rules: those that needed asking
    because nothing matched them (a rule-backed prompt would still win over an allow rule)."""
    return [c.argv for c in decision.commands
            if c.decision is Decision.PROMPT and not c.by_rule and c.argv]
