"""ApprovalSession flows with the real TerminalApprover on in-memory streams, and the
non-interactive approver. (Real-terminal flows are in test_terminal_pty.py.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from codex.approvals import (
    ApprovalSession,
    NonInteractiveApprover,
    TerminalApprover,
    default_approver,
)
from codex.execpolicy import Decision, evaluate, load_rules
from codex.policies import ApprovalPolicy, ReviewDecision

WORKSPACE = Path("/work/proj")


def terminal(answers: str) -> tuple[TerminalApprover, io.StringIO]:
    out = io.StringIO()
    return TerminalApprover(io.StringIO(answers), out), out


def session(answers: str, home: Path | None,
            policy: ApprovalPolicy = ApprovalPolicy.UNTRUSTED) -> tuple[ApprovalSession,
                                                                         io.StringIO]:
    approver, out = terminal(answers)
    return ApprovalSession(policy, approver, codex_home=home), out


def review(s: ApprovalSession, *argv: str, escalated: bool = False):  # type: ignore[no-untyped-def]
    decision = evaluate(list(argv), workspace=WORKSPACE, rules=load_rules(s.codex_home))
    return s.review(argv, cwd=WORKSPACE, decision=decision, escalated=escalated)


@pytest.mark.parametrize(("answer", "run", "review_decision"), [
    ("y\n", True, ReviewDecision.APPROVED),
    ("yes\n", True, ReviewDecision.APPROVED),
    ("Y\n", True, ReviewDecision.APPROVED),
    ("n\n", False, ReviewDecision.DENIED),
    ("no\n", False, ReviewDecision.DENIED),
    ("", False, ReviewDecision.DENIED),  # end of input
    ("q\n", False, ReviewDecision.ABORT),
    ("abort\n", False, ReviewDecision.ABORT),
    ("maybe\n\ny\n", True, ReviewDecision.APPROVED),  # invalid answers are asked again
    ("x\nx\nx\nx\nx\ny\n", False, ReviewDecision.DENIED),  # gives up after 5 attempts
])
def test_answers(tmp_path: Path, answer: str, run: bool,
                 review_decision: ReviewDecision) -> None:
    s, out = session(answer, tmp_path)
    verdict = review(s, "make", "test")
    assert (verdict.run, verdict.review, verdict.asked) == (run, review_decision, True)
    assert verdict.abort is (review_decision is ReviewDecision.ABORT)
    shown = out.getvalue()
    assert "command: make test" in shown and "cwd:     /work/proj" in shown
    assert "`make` is not a known-safe command" in shown


def test_session_approval_is_remembered_for_the_exact_command(tmp_path: Path) -> None:
    s, out = session("a\nn\n", tmp_path)
    first = review(s, "make", "test")
    assert first.run and first.review is ReviewDecision.APPROVED_FOR_SESSION
    again = review(s, "make", "test")
    assert again.run and not again.asked
    other = review(s, "make", "install")
    assert not other.run and other.review is ReviewDecision.DENIED
    assert out.getvalue().count("codex wants to run") == 2
    assert not (tmp_path / "rules").exists(), "session approval writes no rule"


def test_always_saves_a_rule_that_the_next_session_uses(tmp_path: Path) -> None:
    s, _ = session("A\n", tmp_path)
    verdict = review(s, "bash", "-lc", "make test && ls")
    assert verdict.run and verdict.review is ReviewDecision.APPROVED_ALWAYS
    assert verdict.saved_rules == (tmp_path / "rules" / "default.toml",)
    rules = load_rules(tmp_path)
    assert [r.pattern for r in rules.rules] == [("make", "test")]  # `ls` needed no rule
    fresh, out = session("", tmp_path)  # nobody answers: must not be asked
    later = review(fresh, "make", "test", "-v")
    assert later.run and not later.asked
    assert out.getvalue() == ""


def test_always_cannot_unlock_rule_backed_prompts(tmp_path: Path) -> None:
    s, out = session("A\na\n", tmp_path)
    verdict = review(s, "git", "push", "--force")
    # No simple command needs a rule (an allow rule could not beat the built-in prompt), so
    # "always" is not offered: `A` is asked again, `a` approves for the session.
    assert "[A] always" not in out.getvalue()
    assert "please answer y, a, n or q" in out.getvalue()
    assert verdict.run and verdict.review is ReviewDecision.APPROVED_FOR_SESSION
    assert not (tmp_path / "rules").exists()


def test_always_is_not_offered_without_codex_home(tmp_path: Path) -> None:
    s, out = session("always\n", None)
    verdict = review(s, "make")
    assert "[A] always" not in out.getvalue()
    assert not verdict.run, "always is not a valid answer when it is not offered"


def test_forbidden_is_never_asked(tmp_path: Path) -> None:
    s, out = session("y\n", tmp_path)
    verdict = review(s, "sudo", "ls")
    assert not verdict.run and not verdict.asked
    assert verdict.reason.startswith("forbidden by policy: ")
    assert out.getvalue() == ""


def test_policies_that_do_not_ask(tmp_path: Path) -> None:
    s, out = session("", tmp_path, ApprovalPolicy.ON_FAILURE)
    assert review(s, "make").run
    s, out = session("", tmp_path, ApprovalPolicy.NEVER)
    refused = review(s, "git", "reset", "--hard")
    assert not refused.run and "`never`" in refused.reason
    assert out.getvalue() == ""


def test_retry_unsandboxed_flow(tmp_path: Path) -> None:
    s, out = session("a\n", tmp_path, ApprovalPolicy.ON_FAILURE)
    decision = evaluate(["make"], workspace=WORKSPACE)
    first = s.review_retry(["make"], cwd=WORKSPACE, failure="exit 1: Permission denied",
                           decision=decision)
    assert first.run and first.review is ReviewDecision.APPROVED_FOR_SESSION
    shown = out.getvalue()
    assert "OUTSIDE the sandbox" in shown and "Permission denied" in shown
    assert "[A] always" not in shown
    second = s.review_retry(["make"], cwd=WORKSPACE, failure="again", decision=decision)
    assert second.run and not second.asked
    # Approving the unsandboxed retry does not approve a sandboxed run under untrusted, and
    # vice versa: they are remembered separately.
    s2, _ = session("", tmp_path, ApprovalPolicy.ON_REQUEST)
    back = s2.review_retry(["make"], cwd=WORKSPACE, failure="x", decision=decision)
    assert not back.run and "reported back" in back.reason


def test_non_interactive_refuses_with_the_reason(tmp_path: Path) -> None:
    s = ApprovalSession(ApprovalPolicy.UNTRUSTED, NonInteractiveApprover(), codex_home=tmp_path)
    verdict = review(s, "git", "push", "--force")
    assert not verdict.run and verdict.review is ReviewDecision.DENIED and not verdict.asked
    assert "force-pushing" in verdict.reason and "non-interactive" in verdict.reason
    assert review(s, "ls").run


def test_default_approver_without_a_terminal_is_non_interactive() -> None:
    assert not default_approver(interactive=False).interactive


def test_control_characters_in_commands_are_escaped(tmp_path: Path) -> None:
    s, out = session("n\n", tmp_path)
    review(s, "make", "\x1b[2J\x1b[1;1Hcodex: approved\r")
    shown = out.getvalue()
    assert "\x1b" not in shown and "\r" not in shown
    assert "\\x1b[2J" in shown


def test_multi_line_reasons_keep_their_lines(tmp_path: Path) -> None:
    from codex.approvals import ApprovalRequest
    approver, out = terminal("y\n")
    request = ApprovalRequest(("apply_patch", "a.py"), tmp_path,
                              "--- a.py\n+++ a.py\n+print('\x1b[31mred')", offer_always=False)
    assert approver.request_approval(request) is ReviewDecision.APPROVED
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  reason:  "))
    assert lines[start:start + 3] == ["  reason:  --- a.py", "           +++ a.py",
                                      "           +print('\\x1b[31mred')"]


def test_decision_enum_values_match_protocol() -> None:
    assert {d.value for d in Decision} == {"allow", "prompt", "forbidden"}
