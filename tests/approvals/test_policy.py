"""The approval policy table (Codex semantics) applied to real exec-policy decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex.approvals import Requirement, after_sandbox_failure, needs_approval
from codex.execpolicy import PolicyDecision, evaluate
from codex.policies import ApprovalPolicy

WORKSPACE = Path("/work/proj")


def decide(*argv: str) -> PolicyDecision:
    return evaluate(list(argv), workspace=WORKSPACE, home=Path("/home/alice"))


SAFE = ("git", "status")
UNKNOWN = ("make", "test")
UNPROVABLE = ("bash", "-lc", "ls $(pwd)")
RULE_PROMPT = ("git", "push", "--force")
FORBIDDEN = ("sudo", "make", "install")

R, A, X = Requirement.RUN, Requirement.ASK, Requirement.REFUSE
TABLE = [
    # policy,                      safe, unknown, unprovable, rule prompt, forbidden
    (ApprovalPolicy.UNTRUSTED, (R, A, A, A, X)),
    (ApprovalPolicy.ON_FAILURE, (R, R, R, A, X)),
    (ApprovalPolicy.ON_REQUEST, (R, R, R, A, X)),
    (ApprovalPolicy.NEVER, (R, R, R, X, X)),
]


@pytest.mark.parametrize(("policy", "expected"), TABLE)
def test_policy_table(policy: ApprovalPolicy, expected: tuple[Requirement, ...]) -> None:
    got = tuple(needs_approval(policy, decide(*argv)).requirement
                for argv in (SAFE, UNKNOWN, UNPROVABLE, RULE_PROMPT, FORBIDDEN))
    assert got == expected


@pytest.mark.parametrize(("policy", "expected"), [
    (ApprovalPolicy.UNTRUSTED, A), (ApprovalPolicy.ON_FAILURE, A),
    (ApprovalPolicy.ON_REQUEST, A), (ApprovalPolicy.NEVER, X),
])
def test_escalation_asks_except_under_never(policy: ApprovalPolicy,
                                            expected: Requirement) -> None:
    assert needs_approval(policy, decide(*SAFE), escalated=True).requirement is expected
    assert needs_approval(policy, decide(*FORBIDDEN), escalated=True).requirement is X


@pytest.mark.parametrize(("policy", "expected"), [
    (ApprovalPolicy.UNTRUSTED, A), (ApprovalPolicy.ON_FAILURE, A),
    (ApprovalPolicy.ON_REQUEST, X), (ApprovalPolicy.NEVER, X),
])
def test_after_sandbox_failure(policy: ApprovalPolicy, expected: Requirement) -> None:
    assert after_sandbox_failure(policy).requirement is expected


def test_reasons_carry_the_justification() -> None:
    gate = needs_approval(ApprovalPolicy.NEVER, decide(*RULE_PROMPT))
    assert "force-pushing" in gate.reason and "`never`" in gate.reason
    refused = needs_approval(ApprovalPolicy.UNTRUSTED, decide(*FORBIDDEN))
    assert refused.reason.startswith("forbidden by policy: ")
