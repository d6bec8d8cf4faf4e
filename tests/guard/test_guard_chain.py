"""The guard chain end to end: real exec policy, real approvals, real kernel sandbox, real
audit log. Oracles are files on disk and the audit log's bytes, never the chain's own word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex.approvals import NonInteractiveApprover, RequestKind
from codex.audit import AuditEntry, AuditError, AuditLog, Scrubber, read_entries, verify_log
from codex.policies import ApprovalPolicy, ReviewDecision
from codex.security.profiles import SecurityProfile, resolve_policy
from codex.tools.guarded_exec import (
    REFUSED_EXIT_CODE,
    ExecRequest,
    Guard,
    GuardedOutcome,
    Status,
    run_guarded,
    sandbox_failure,
)
from support.approvers import ScriptedApprover

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def _guard(codex_home: Path, policy: ApprovalPolicy,
           approver: ScriptedApprover | NonInteractiveApprover) -> Guard:
    return Guard.create(codex_home=codex_home, approval_policy=policy, approver=approver,
                        audit=AuditLog(codex_home, scrubber=Scrubber()), session_id="sess-t",
                        actor="test")


def _run(guard: Guard, workspace: Path, argv: list[str],
         profile: SecurityProfile = SecurityProfile.WORKSPACE_WRITE) -> GuardedOutcome:
    return run_guarded(guard, ExecRequest(argv=argv, cwd=workspace,
                                          policy=resolve_policy(profile, workspace),
                                          timeout_s=60, capture=True))


def _trail(codex_home: Path) -> list[tuple[str, str, str]]:
    """(operation, decision, profile) of every entry on disk, after checking the chain."""
    directory = codex_home / "audit"
    report = verify_log(directory)
    assert report.ok and not report.warnings, report.findings
    return [(e.operation, e.decision, e.profile) for e in read_entries(directory)]


def test_allowed_command_runs_and_is_audited(codex_home: Path, workspace: Path) -> None:
    guard = _guard(codex_home, ApprovalPolicy.ON_REQUEST, ScriptedApprover())
    outcome = _run(guard, workspace, ["echo", "hello"])
    assert outcome.status is Status.RAN and outcome.exit_code == 0
    assert outcome.result is not None and outcome.result.stdout == b"hello\n"
    assert "landlock-fs" in outcome.result.layers  # it really ran confined
    assert _trail(codex_home) == [("command_exec", "allowed", "workspace-write")]
    (entry,) = read_entries(codex_home / "audit")
    assert entry.target == "echo hello" and "known-safe" in entry.reason
    assert entry.session_id == "sess-t" and entry.actor == "test"


def test_forbidden_command_never_runs(codex_home: Path, workspace: Path) -> None:
    oracle = workspace / "oracle"
    approver = ScriptedApprover(ReviewDecision.APPROVED)
    guard = _guard(codex_home, ApprovalPolicy.ON_REQUEST, approver)
    outcome = _run(guard, workspace, ["bash", "-lc", f"touch {oracle} && sudo true"])
    assert outcome.status is Status.FORBIDDEN and outcome.exit_code == REFUSED_EXIT_CODE
    assert "sudo" in outcome.reason
    assert not oracle.exists()
    assert approver.requests == []  # forbidden is not up for approval
    assert _trail(codex_home) == [("command_exec", "denied", "workspace-write")]


def test_user_rule_forbids(codex_home: Path, workspace: Path) -> None:
    rules = codex_home / "rules"
    rules.mkdir()
    (rules / "local.toml").write_text(
        '[[rule]]\npattern = ["touch"]\ndecision = "forbidden"\n'
        'justification = "no touching here"\nmatch = ["touch x"]\n')
    oracle = workspace / "oracle"
    guard = _guard(codex_home, ApprovalPolicy.NEVER, NonInteractiveApprover())
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.FORBIDDEN and "no touching here" in outcome.reason
    assert not oracle.exists()


def test_prompt_non_interactive_is_refused_with_the_reason(
    codex_home: Path, workspace: Path
) -> None:
    oracle = workspace / "oracle"
    guard = _guard(codex_home, ApprovalPolicy.UNTRUSTED, NonInteractiveApprover())
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.DECLINED
    assert "non-interactive" in outcome.reason and "not a known-safe" in outcome.reason
    assert not oracle.exists()
    assert _trail(codex_home) == [
        ("command_exec", "requires_approval", "workspace-write"),
        ("approval", "denied", "workspace-write"),
        ("command_exec", "denied", "workspace-write"),
    ]


def test_rule_prompt_under_never_is_refused_without_asking(
    codex_home: Path, workspace: Path
) -> None:
    approver = ScriptedApprover()
    guard = _guard(codex_home, ApprovalPolicy.NEVER, approver)
    outcome = _run(guard, workspace, ["git", "push", "--force"])
    assert outcome.status is Status.DECLINED and "never" in outcome.reason
    assert approver.requests == []
    assert _trail(codex_home) == [("command_exec", "denied", "workspace-write")]


def test_approved_command_runs(codex_home: Path, workspace: Path) -> None:
    oracle = workspace / "oracle"
    approver = ScriptedApprover(ReviewDecision.APPROVED)
    guard = _guard(codex_home, ApprovalPolicy.UNTRUSTED, approver)
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.RAN and outcome.exit_code == 0
    assert oracle.exists()
    assert [r.argv for r in approver.requests] == [("touch", str(oracle))]
    assert _trail(codex_home) == [
        ("command_exec", "requires_approval", "workspace-write"),
        ("approval", "allowed", "workspace-write"),
        ("command_exec", "allowed", "workspace-write"),
    ]


def test_denied_and_aborted(codex_home: Path, workspace: Path) -> None:
    oracle = workspace / "oracle"
    guard = _guard(codex_home, ApprovalPolicy.UNTRUSTED,
                   ScriptedApprover(ReviewDecision.DENIED, ReviewDecision.ABORT))
    assert _run(guard, workspace, ["touch", str(oracle)]).status is Status.DECLINED
    assert _run(guard, workspace, ["touch", str(oracle)]).status is Status.ABORTED
    assert not oracle.exists()


def test_session_approval_is_remembered(codex_home: Path, workspace: Path) -> None:
    approver = ScriptedApprover(ReviewDecision.APPROVED_FOR_SESSION)
    guard = _guard(codex_home, ApprovalPolicy.UNTRUSTED, approver)
    argv = ["touch", str(workspace / "a")]
    assert _run(guard, workspace, argv).ran
    assert _run(guard, workspace, argv).ran  # not asked again (the script has no more answers)
    assert len(approver.requests) == 1
    entries = list(read_entries(codex_home / "audit"))
    assert entries[-2].operation == "approval"
    assert entries[-2].reason.startswith("approved_for_session: approved earlier")


def test_approved_always_saves_a_rule_and_audits_it(codex_home: Path, workspace: Path) -> None:
    approver = ScriptedApprover(ReviewDecision.APPROVED_ALWAYS)
    guard = _guard(codex_home, ApprovalPolicy.UNTRUSTED, approver)
    assert _run(guard, workspace, ["touch", str(workspace / "a")]).ran
    rules_file = codex_home / "rules" / "default.toml"
    assert "touch" in rules_file.read_text()
    operations = [op for op, _, _ in _trail(codex_home)]
    assert operations == ["command_exec", "approval", "policy_change", "command_exec"]
    change = next(e for e in read_entries(codex_home / "audit") if e.operation == "policy_change")
    assert change.target == str(rules_file)
    # A new session loads the saved rule: the same command no longer asks.
    fresh = ScriptedApprover()
    again = _run(_guard(codex_home, ApprovalPolicy.UNTRUSTED, fresh), workspace,
                 ["touch", str(workspace / "a")])
    assert again.ran and fresh.requests == []


def test_on_failure_asks_and_reruns_unsandboxed(codex_home: Path, workspace: Path,
                                                tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    oracle = outside / "made-it"
    approver = ScriptedApprover(ReviewDecision.APPROVED)
    guard = _guard(codex_home, ApprovalPolicy.ON_FAILURE, approver)
    # `touch` is unknown (prompt without a rule): under on-failure it runs in the sandbox,
    # where writing outside the workspace is denied.
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.RAN and outcome.retried_unsandboxed
    assert outcome.first_result is not None and outcome.first_result.exit_code != 0
    assert outcome.sandboxed is False and outcome.exit_code == 0
    assert oracle.exists()  # only the approved unsandboxed re-run could create it
    (request,) = approver.requests
    assert request.kind is RequestKind.RUN_UNSANDBOXED
    # outside the writable roots the mount is read-only (Landlock would say EACCES)
    assert "read-only file system" in request.reason
    assert _trail(codex_home) == [
        ("command_exec", "allowed", "workspace-write"),
        ("command_exec", "requires_approval", "trusted"),
        ("approval", "allowed", "trusted"),
        ("command_exec", "allowed", "trusted"),
    ]


def test_on_failure_rerun_declined(codex_home: Path, workspace: Path, tmp_path: Path) -> None:
    oracle = tmp_path / "made-it"
    guard = _guard(codex_home, ApprovalPolicy.ON_FAILURE, ScriptedApprover(ReviewDecision.DENIED))
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.RAN and not outcome.retried_unsandboxed
    assert outcome.exit_code != 0 and "refused" in outcome.reason
    assert not oracle.exists()
    assert _trail(codex_home)[-1] == ("command_exec", "denied", "trusted")


def test_on_failure_non_interactive_does_not_rerun(codex_home: Path, workspace: Path,
                                                   tmp_path: Path) -> None:
    oracle = tmp_path / "made-it"
    guard = _guard(codex_home, ApprovalPolicy.ON_FAILURE, NonInteractiveApprover())
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.RAN and outcome.exit_code != 0
    assert not oracle.exists()


def test_ordinary_failure_is_not_a_sandbox_failure(codex_home: Path, workspace: Path) -> None:
    approver = ScriptedApprover()
    guard = _guard(codex_home, ApprovalPolicy.ON_FAILURE, approver)
    outcome = _run(guard, workspace, ["sh", "-c", "echo tests failed; exit 3"])
    assert outcome.status is Status.RAN and outcome.exit_code == 3
    assert approver.requests == []


def test_on_request_reports_sandbox_failure_back(codex_home: Path, workspace: Path,
                                                 tmp_path: Path) -> None:
    approver = ScriptedApprover()
    guard = _guard(codex_home, ApprovalPolicy.ON_REQUEST, approver)
    outcome = _run(guard, workspace, ["touch", str(tmp_path / "x")])
    assert outcome.status is Status.RAN and outcome.exit_code != 0
    assert approver.requests == [] and not (tmp_path / "x").exists()


def test_escalated_request_needs_approval(codex_home: Path, workspace: Path,
                                          tmp_path: Path) -> None:
    oracle = tmp_path / "escalated"
    guard = _guard(codex_home, ApprovalPolicy.ON_REQUEST, NonInteractiveApprover())
    request = ExecRequest(argv=["touch", str(oracle)], cwd=workspace,
                          policy=resolve_policy(SecurityProfile.OFFLINE, workspace),
                          capture=True, escalated=True, justification="needs the cache")
    outcome = run_guarded(guard, request)
    assert outcome.status is Status.DECLINED and not oracle.exists()
    first = next(read_entries(codex_home / "audit"))
    assert first.decision == "requires_approval" and "needs the cache" in first.reason

    approver = ScriptedApprover(ReviewDecision.APPROVED)
    outcome = run_guarded(_guard(codex_home, ApprovalPolicy.ON_REQUEST, approver), request)
    assert outcome.status is Status.RAN and outcome.sandboxed is False and oracle.exists()
    assert approver.requests[0].kind is RequestKind.RUN_UNSANDBOXED


def test_unwritable_audit_log_fails_closed(codex_home: Path, workspace: Path) -> None:
    blocker = codex_home / "blocker"
    blocker.write_text("")
    guard = Guard.create(codex_home=codex_home, approval_policy=ApprovalPolicy.ON_REQUEST,
                         approver=NonInteractiveApprover(),
                         audit=AuditLog(codex_home, directory=blocker / "audit"),
                         session_id="s", actor="test")
    oracle = workspace / "oracle"
    outcome = _run(guard, workspace, ["sh", "-c", f"echo x > {oracle}"])
    assert outcome.status is Status.AUDIT_FAILED and "audit log" in outcome.reason
    assert not oracle.exists()


def test_missing_cwd_is_a_typed_error(codex_home: Path, tmp_path: Path) -> None:
    guard = _guard(codex_home, ApprovalPolicy.ON_REQUEST, NonInteractiveApprover())
    outcome = _run(guard, tmp_path / "gone", ["echo", "x"])
    assert outcome.status is Status.SANDBOX_ERROR and "does not exist" in outcome.reason
    assert _trail(codex_home)[-1] == ("command_exec", "denied", "workspace-write")


def test_no_secret_reaches_the_audit_log(codex_home: Path, workspace: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    env_secret = "sk-proj-" + "Zq7" * 12
    line_secret = "ghp_" + "k9X" * 12
    monkeypatch.setenv("OPENAI_API_KEY", env_secret)
    monkeypatch.setenv("DEPLOY_TOKEN", "plain-token-value-42")
    guard = Guard.create(codex_home=codex_home, approval_policy=ApprovalPolicy.UNTRUSTED,
                         approver=NonInteractiveApprover(), audit=AuditLog(codex_home),
                         session_id="s", actor="test")
    for argv in (["echo", env_secret], ["curl", "-H", f"Authorization: token {line_secret}"],
                 ["sh", "-c", "echo plain-token-value-42 > out"]):
        _run(guard, workspace, argv)
    raw = b"".join(p.read_bytes() for p in (codex_home / "audit").iterdir())
    for secret in (env_secret, line_secret, "plain-token-value-42", "Zq7Zq7", "k9Xk9X"):
        assert secret.encode() not in raw
    assert raw.count(b"[REDACTED]") >= 3


def test_sandbox_failure_classification() -> None:
    from codex.sandbox import SandboxResult

    def result(code: int, sig: int | None = None, timed_out: bool = False) -> SandboxResult:
        return SandboxResult(code, sig, 0.1, timed_out, "offline", "/", [])

    assert sandbox_failure(result(0), b"permission denied") is None
    assert sandbox_failure(result(127), None) is None
    assert sandbox_failure(result(124, timed_out=True), None) is None
    assert sandbox_failure(result(1), b"tests failed") is None
    assert sandbox_failure(result(1), b"x: Read-only file system") is not None
    assert sandbox_failure(result(159, 31), b"") == "killed by seccomp (SIGSYS)"
    assert sandbox_failure(result(2), None) == "exit code 2"


def test_streamed_output_is_forwarded_and_read_for_denials(codex_home: Path, workspace: Path,
                                                           tmp_path: Path) -> None:
    chunks: list[tuple[str, bytes]] = []
    approver = ScriptedApprover(ReviewDecision.DENIED)
    guard = _guard(codex_home, ApprovalPolicy.ON_FAILURE, approver)
    request = ExecRequest(argv=["sh", "-c", f"echo start; touch {tmp_path / 'x'}"],
                          cwd=workspace,
                          policy=resolve_policy(SecurityProfile.WORKSPACE_WRITE, workspace),
                          timeout_s=60, on_output=lambda s, c: chunks.append((s, c)))
    outcome = run_guarded(guard, request)
    assert outcome.result is not None and outcome.result.stdout is None  # streamed, not kept
    streamed = b"".join(c for _, c in chunks)
    assert b"start" in streamed and b"Read-only file system" in streamed
    (asked,) = approver.requests  # the denial was recognised in the streamed output
    assert "read-only file system" in asked.reason


class FailingAuditLog(AuditLog):
    """A real audit log whose disk "fills up" after `budget` entries (fault injection)."""

    def __init__(self, codex_home: Path, budget: int) -> None:
        super().__init__(codex_home, scrubber=Scrubber())
        self.budget = budget

    def record(self, *args: Any, **kwargs: Any) -> AuditEntry:
        if self.budget <= 0:
            raise AuditError("cannot write the audit log: No space left on device")
        self.budget -= 1
        return super().record(*args, **kwargs)


def test_audit_failure_before_a_rerun_keeps_the_sandboxed_result(
    codex_home: Path, workspace: Path, tmp_path: Path
) -> None:
    oracle = tmp_path / "made-it"
    approver = ScriptedApprover(ReviewDecision.APPROVED)
    guard = Guard.create(codex_home=codex_home, approval_policy=ApprovalPolicy.ON_FAILURE,
                         approver=approver, audit=FailingAuditLog(codex_home, budget=1),
                         session_id="s", actor="test")
    outcome = _run(guard, workspace, ["touch", str(oracle)])
    assert outcome.status is Status.RAN and not outcome.retried_unsandboxed
    assert outcome.result is not None and outcome.result.exit_code != 0
    assert "not re-run" in outcome.reason and "No space left" in outcome.reason
    assert approver.requests == [] and not oracle.exists()


def test_secret_with_a_quote_is_not_split_by_shell_quoting(codex_home: Path, workspace: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    secret = "pa'ss-w0rd-Qx7Qx7Qx7"
    monkeypatch.setenv("DB_PASSWORD", secret)
    guard = Guard.create(codex_home=codex_home, approval_policy=ApprovalPolicy.ON_REQUEST,
                         approver=NonInteractiveApprover(), audit=AuditLog(codex_home),
                         session_id="s", actor="test")
    _run(guard, workspace, ["echo", secret])
    raw = b"".join(p.read_bytes() for p in (codex_home / "audit").iterdir())
    assert b"Qx7Qx7" not in raw and b"pa'" not in raw and b"[REDACTED]" in raw
