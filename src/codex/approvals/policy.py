"""When to ask: the approval policy applied to an exec-policy decision (Codex CLI semantics).

| policy     | allow | unknown command (no rule) | a rule says prompt | sandbox failure  |
| ---------- | ----- | ------------------------- | ------------------ | ---------------- |
| untrusted  | run   | ask                       | ask                | ask to re-run    |
| on-failure | run   | run in the sandbox        | ask                | ask to re-run    |
| on-request | run   | run in the sandbox        | ask                | back to model    |
| never      | run   | run in the sandbox        | refuse             | back to model    |

("ask to re-run" = ask whether to run it again without the sandbox.)
`forbidden` is always refused, and a request to run outside the sandbox (`escalated`) is asked
under every policy but `never`, where it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from codex.execpolicy import Decision, PolicyDecision
from codex.policies import ApprovalPolicy


class Requirement(StrEnum):
    """What the guard chain does next."""

    RUN = "run"
    ASK = "ask"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Gate:
    """A requirement and the sentence that explains it (for prompts, refusals and the audit)."""

    requirement: Requirement
    reason: str


def needs_approval(policy: ApprovalPolicy, decision: PolicyDecision, *,
                   escalated: bool = False) -> Gate:
    """Whether a command with `decision` runs, is asked about, or is refused under `policy`.

    `escalated` is True when the command is to run outside the sandbox (the model asked for it,
    or it is a re-run after a sandbox failure).
    """
    if decision.decision is Decision.FORBIDDEN:
        return Gate(Requirement.REFUSE, f"forbidden by policy: {decision.justification}")
    if escalated:
        if policy is ApprovalPolicy.NEVER:
            return Gate(Requirement.REFUSE, "running outside the sandbox needs approval, and "
                                            "the approval policy is `never`")
        return Gate(Requirement.ASK, "runs outside the sandbox: " + decision.justification)
    if decision.decision is Decision.ALLOW:
        return Gate(Requirement.RUN, decision.justification)
    if decision.by_rule:
        if policy is ApprovalPolicy.NEVER:
            return Gate(Requirement.REFUSE, f"needs approval ({decision.justification}), and "
                                            "the approval policy is `never`")
        return Gate(Requirement.ASK, decision.justification)
    if policy is ApprovalPolicy.UNTRUSTED:
        return Gate(Requirement.ASK, decision.justification)
    return Gate(Requirement.RUN, f"runs in the sandbox under `{policy.value}`: "
                                 f"{decision.justification}")


def after_sandbox_failure(policy: ApprovalPolicy) -> Gate:
    """After a command failed inside the sandbox: ask to re-run it unsandboxed, or report back."""
    if policy in (ApprovalPolicy.UNTRUSTED, ApprovalPolicy.ON_FAILURE):
        return Gate(Requirement.ASK, "the command failed in the sandbox; run it again without "
                                     "the sandbox?")
    return Gate(Requirement.REFUSE, f"under `{policy.value}` a sandbox failure is reported back "
                                    "instead of retrying without the sandbox")
