"""The one way a command runs: exec policy (decide) -> approvals (ask) -> sandbox (enforce),
with every decision written to the audit log (record) before it takes effect.

Public interface (used by `codex sandbox` and the agent's shell tool):

    guard = Guard.create(codex_home=..., approval_policy=..., approver=..., audit=...,
                         session_id=..., actor=..., extra_rule_files=(), allow_degraded=False,
                         env={...}, env_passthrough=(...))
        One per session: the loaded rules (RuleLoadError propagates: "file:line: problem"),
        the approval memory (approved_for_session), the audit log (None = not recorded).
    outcome = run_guarded(guard, ExecRequest(argv, cwd, policy, timeout_s=..., capture=...,
                                             on_output=..., escalated=..., justification=...))
        Never raises for a refusal: the typed `GuardedOutcome` says what happened.
    GuardedOutcome: status (RAN | FORBIDDEN | DECLINED | ABORTED | SANDBOX_UNAVAILABLE |
        SANDBOX_ERROR (bad cwd, helper failure) | AUDIT_FAILED), reason, decision
        (PolicyDecision), result (SandboxResult of the run that counts, or None), sandboxed,
        retried_unsandboxed, first_result (the failed sandboxed run when a re-run happened),
        entries (audit entries written), error (the SandboxUnavailable / SandboxError / AuditError
        that stopped it), exit_code (REFUSED_EXIT_CODE = 126 when not run).

Audit trail of one command, in order: `command_exec requires_approval` (when the approval
policy asks), `approval allowed|denied` (the answer, or why nobody could answer),
`policy_change allowed` (an "always" answer saved a rule), then `command_exec allowed|denied`.
On a sandbox failure under `on-failure`/`untrusted` the re-run outside the sandbox gets the same
sequence with profile `trusted`. If an entry cannot be written, nothing runs (fail closed).
"""

from __future__ import annotations

import shlex
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from codex.approvals import (
    ApprovalSession,
    Approver,
    Requirement,
    Verdict,
    after_sandbox_failure,
    needs_approval,
)
from codex.audit import AuditEntry, AuditError, AuditLog, Decision, Operation
from codex.execpolicy import Decision as PolicyVerdict
from codex.execpolicy import PolicyDecision, RuleSet, evaluate, load_rules
from codex.policies import ApprovalPolicy, SandboxPolicy
from codex.sandbox import SandboxRequest, SandboxResult, SandboxUnavailable, run_sandboxed
from codex.sandbox.runner import PreparedRun, SandboxError
from codex.tools.warm_shell import WarmHelper

# Exit status of a command the guards did not let run ("found but cannot be executed").
REFUSED_EXIT_CODE = 126
UNSANDBOXED_PROFILE = "trusted"
# How a command runs outside the sandbox: no confinement, but a scrubbed environment and no
# terminal on stdin (the `trusted` profile).
UNSANDBOXED = SandboxPolicy(profile=UNSANDBOXED_PROFILE, confined=False, network=True)
_TAIL_BYTES = 64 * 1024

# Output that says the sandbox, not the command's own logic, stopped it.
_DENIAL_MARKERS = (
    b"permission denied", b"operation not permitted", b"read-only file system",
    b"network is unreachable", b"temporary failure in name resolution",
    b"could not resolve host", b"name or service not known", b"bad system call",
)


class Status(StrEnum):
    """How a guarded command ended."""

    RAN = "ran"
    FORBIDDEN = "forbidden"
    DECLINED = "declined"
    ABORTED = "aborted"
    SANDBOX_UNAVAILABLE = "sandbox_unavailable"
    SANDBOX_ERROR = "sandbox_error"
    AUDIT_FAILED = "audit_failed"


@dataclass(frozen=True)
class ExecRequest:
    """One command to run through the guards.

    `workspace` (default `cwd`) is what the exec policy calls inside/outside. With `capture`
    the output is kept in the result; `on_output(stream, chunk)` streams it; with neither it
    passes through to our stdout/stderr. `escalated` asks to run outside the sandbox (the
    model's request, with its `justification`), which always needs approval. `prepared`:
    the sandboxed run set up in advance (`codex.sandbox.runner.prepare`), used when it fits.
    """

    argv: Sequence[str]
    cwd: Path
    policy: SandboxPolicy
    workspace: Path | None = None
    timeout_s: float | None = None
    capture: bool = False
    on_output: Callable[[str, bytes], None] | None = None
    stdin: bytes | None = None
    escalated: bool = False
    justification: str | None = None
    prepared: PreparedRun | None = None


@dataclass(frozen=True)
class GuardedOutcome:
    """What the chain did with one command (see the module docstring)."""

    status: Status
    reason: str
    decision: PolicyDecision
    result: SandboxResult | None = None
    sandboxed: bool = True
    retried_unsandboxed: bool = False
    first_result: SandboxResult | None = None
    entries: tuple[AuditEntry, ...] = ()
    error: Exception | None = None

    @property
    def ran(self) -> bool:
        return self.status is Status.RAN

    @property
    def exit_code(self) -> int:
        """The command's exit code, or REFUSED_EXIT_CODE when the guards stopped it."""
        return self.result.exit_code if self.result is not None else REFUSED_EXIT_CODE


@dataclass
class Guard:
    """The per-session state of the chain: rules, approval memory, audit log, identity."""

    rules: RuleSet
    approvals: ApprovalSession
    audit: AuditLog | None
    session_id: str
    actor: str
    allow_degraded: bool = False
    env: dict[str, str] = field(default_factory=dict)
    env_passthrough: tuple[str, ...] = ()
    # An agent session's warm helper (codex.tools.warm_shell); None runs cold.
    warm: WarmHelper | None = None

    @classmethod
    def create(
        cls,
        *,
        codex_home: Path,
        approval_policy: ApprovalPolicy,
        approver: Approver,
        audit: AuditLog | None,
        session_id: str,
        actor: str,
        extra_rule_files: Sequence[Path] = (),
        allow_degraded: bool = False,
        env: Mapping[str, str] | None = None,
        env_passthrough: Sequence[str] = (),
    ) -> Guard:
        """Load the rules (RuleLoadError on a bad file) and start the approval session.

        `env`: variables the user named explicitly for every command (passed even when they
        look like credentials); `env_passthrough`: names from config passed when set.
        """
        rules = load_rules(codex_home, extra_rule_files)
        approvals = ApprovalSession(approval_policy, approver, codex_home=codex_home)
        return cls(rules, approvals, audit, session_id, actor, allow_degraded,
                   dict(env or {}), tuple(env_passthrough))


class _Trail:
    """The audit entries of one command; a failed write stops the command."""

    def __init__(self, guard: Guard, target: str) -> None:
        self.guard = guard
        self.target = target
        self.entries: list[AuditEntry] = []

    def record(self, operation: Operation, decision: Decision, reason: str, profile: str,
               target: str | None = None) -> None:
        log = self.guard.audit
        if log is None:
            return
        self.entries.append(log.record(operation, target or self.target, decision, reason,
                                       profile, self.guard.session_id, self.guard.actor))


def run_guarded(guard: Guard, request: ExecRequest) -> GuardedOutcome:
    """Decide, ask, enforce and record for one command; see the module docstring."""
    argv = list(request.argv)
    workspace = request.workspace or request.cwd
    decision = evaluate(argv, workspace=workspace, rules=guard.rules)
    trail = _Trail(guard, _command_text(guard, argv))
    try:
        return _run(guard, request, decision, trail)
    except AuditError as exc:
        return _refused(Status.AUDIT_FAILED,
                        f"not run: {exc} (every decision must be recorded: make the audit "
                        "directory writable, or turn auditing off with audit.enabled = false)",
                        decision, trail, exc)


def _command_text(guard: Guard, argv: list[str]) -> str:
    """The command as the audit log shows it. Each word is scrubbed before shell quoting, which
    would otherwise split a secret containing a quote into pieces no scrubber recognises."""
    if guard.audit is None:
        return shlex.join(argv)
    scrub = guard.audit.scrubber.scrub
    return shlex.join(scrub(word) for word in argv)


def _run(guard: Guard, request: ExecRequest, decision: PolicyDecision,
         trail: _Trail) -> GuardedOutcome:
    profile = request.policy.profile
    where = f" (in {request.cwd})"
    if decision.decision is PolicyVerdict.FORBIDDEN:
        reason = f"forbidden by policy: {decision.justification}"
        trail.record(Operation.COMMAND_EXEC, Decision.DENIED, reason + where, profile)
        return _refused(Status.FORBIDDEN, reason, decision, trail)

    verdict = _approve(guard, request, decision, trail, escalated=request.escalated)
    run_profile = UNSANDBOXED_PROFILE if request.escalated else profile
    if not verdict.run:
        trail.record(Operation.COMMAND_EXEC, Decision.DENIED, verdict.reason + where,
                     run_profile)
        return _refused(Status.ABORTED if verdict.abort else Status.DECLINED, verdict.reason,
                        decision, trail)
    trail.record(Operation.COMMAND_EXEC, Decision.ALLOWED, verdict.reason + where, run_profile)

    policy = UNSANDBOXED if request.escalated else request.policy
    tail = _Tail()
    try:
        result = _execute(guard, request, policy, tail, trail)
    except SandboxUnavailable as exc:
        reason = str(exc)
        trail.record(Operation.COMMAND_EXEC, Decision.DENIED, reason + where, profile)
        return _refused(Status.SANDBOX_UNAVAILABLE, reason, decision, trail, exc)
    except SandboxError as exc:
        trail.record(Operation.COMMAND_EXEC, Decision.DENIED, f"not run: {exc}{where}", profile)
        return _refused(Status.SANDBOX_ERROR, str(exc), decision, trail, exc)
    if not policy.confined:
        return GuardedOutcome(Status.RAN, verdict.reason, decision, result,
                              sandboxed=False, entries=tuple(trail.entries))

    failure = sandbox_failure(result, tail.data(result))
    if failure is None or after_sandbox_failure(guard.approvals.policy).requirement \
            is Requirement.REFUSE:
        return GuardedOutcome(Status.RAN, verdict.reason, decision, result,
                              entries=tuple(trail.entries))
    try:
        return _retry_unsandboxed(guard, request, decision, trail, result, failure)
    except AuditError as exc:
        # The sandboxed run did happen; only the re-run is off when it cannot be recorded.
        return GuardedOutcome(Status.RAN, f"failed in the sandbox ({failure}); not re-run: "
                                          f"{exc}", decision, result,
                              entries=tuple(trail.entries), error=exc)


def _approve(guard: Guard, request: ExecRequest, decision: PolicyDecision, trail: _Trail, *,
             escalated: bool) -> Verdict:
    """Run the approval step, auditing the need to ask and the answer."""
    gate = needs_approval(guard.approvals.policy, decision, escalated=escalated)
    profile = UNSANDBOXED_PROFILE if escalated else request.policy.profile
    if gate.requirement is Requirement.ASK:
        why = gate.reason
        if escalated and request.justification:
            why = f"{why} (requested because: {request.justification})"
        trail.record(Operation.COMMAND_EXEC, Decision.REQUIRES_APPROVAL, why, profile)
    verdict = guard.approvals.review(list(request.argv), cwd=request.cwd, decision=decision,
                                     escalated=escalated)
    _record_answer(trail, gate.requirement is Requirement.ASK, verdict, profile)
    return verdict


def _record_answer(trail: _Trail, asked_for: bool, verdict: Verdict, profile: str) -> None:
    if not asked_for:
        return
    answer = verdict.review.value if verdict.review is not None else "no answer"
    trail.record(Operation.APPROVAL, Decision.ALLOWED if verdict.run else Decision.DENIED,
                 f"{answer}: {verdict.reason}", profile)
    for path in verdict.saved_rules:
        trail.record(Operation.POLICY_CHANGE, Decision.ALLOWED,
                     f"allow rule saved for {trail.target} (approved always)", profile,
                     target=str(path))


def _retry_unsandboxed(guard: Guard, request: ExecRequest, decision: PolicyDecision,
                       trail: _Trail, first: SandboxResult, failure: str) -> GuardedOutcome:
    """`on-failure` (and `untrusted`): ask whether to run again without the sandbox."""
    where = f" (in {request.cwd})"
    argv = list(request.argv)
    gate_reason = f"{after_sandbox_failure(guard.approvals.policy).reason} ({failure})"
    trail.record(Operation.COMMAND_EXEC, Decision.REQUIRES_APPROVAL, gate_reason,
                 UNSANDBOXED_PROFILE)
    verdict = guard.approvals.review_retry(argv, cwd=request.cwd, failure=failure,
                                           decision=decision)
    _record_answer(trail, True, verdict, UNSANDBOXED_PROFILE)
    if not verdict.run:
        trail.record(Operation.COMMAND_EXEC, Decision.DENIED,
                     f"re-run without the sandbox refused: {verdict.reason}{where}",
                     UNSANDBOXED_PROFILE)
        status = Status.ABORTED if verdict.abort else Status.RAN
        return GuardedOutcome(status, f"failed in the sandbox ({failure}); re-run without the "
                                      f"sandbox refused: {verdict.reason}", decision, first,
                              entries=tuple(trail.entries))
    trail.record(Operation.COMMAND_EXEC, Decision.ALLOWED,
                 f"re-run without the sandbox: {verdict.reason}{where}", UNSANDBOXED_PROFILE)
    try:
        result = _execute(guard, request, UNSANDBOXED, _Tail(), trail)
    except SandboxError as exc:
        trail.record(Operation.COMMAND_EXEC, Decision.DENIED, f"not run: {exc}{where}",
                     UNSANDBOXED_PROFILE)
        return _refused(Status.SANDBOX_ERROR, str(exc), decision, trail, exc)
    return GuardedOutcome(Status.RAN, verdict.reason, decision, result, sandboxed=False,
                          retried_unsandboxed=True, first_result=first,
                          entries=tuple(trail.entries))


def _refused(status: Status, reason: str, decision: PolicyDecision, trail: _Trail,
             error: Exception | None = None) -> GuardedOutcome:
    return GuardedOutcome(status, reason, decision, entries=tuple(trail.entries), error=error)


class _Tail:
    """The last bytes a command printed, kept while streaming so a denial can be recognised."""

    def __init__(self) -> None:
        self._chunks = bytearray()
        self.seen = False

    def add(self, chunk: bytes) -> None:
        self.seen = True
        self._chunks += chunk
        if len(self._chunks) > _TAIL_BYTES:
            del self._chunks[:-_TAIL_BYTES]

    def data(self, result: SandboxResult) -> bytes | None:
        if result.stdout is not None or result.stderr is not None:
            return (result.stdout or b"")[-_TAIL_BYTES:] + (result.stderr or b"")[-_TAIL_BYTES:]
        return bytes(self._chunks) if self.seen else None


def _execute(guard: Guard, request: ExecRequest, policy: SandboxPolicy,
             tail: _Tail, trail: _Trail) -> SandboxResult:
    on_output = request.on_output
    if on_output is not None:
        forward = on_output

        def on_output_tapped(stream: str, chunk: bytes) -> None:
            tail.add(chunk)
            forward(stream, chunk)

        on_output = on_output_tapped
    sandbox_request = SandboxRequest(
        policy=policy, argv=list(request.argv), cwd=request.cwd, workspace=request.workspace,
        timeout_s=request.timeout_s,
        allow_degraded=guard.allow_degraded, env=dict(guard.env),
        env_passthrough=guard.env_passthrough, capture=request.capture, on_output=on_output,
        stdin=request.stdin, prepared=request.prepared,
        on_network=lambda host, port, allowed, reason: trail.record(
            Operation.NETWORK, Decision.ALLOWED if allowed else Decision.DENIED,
            f"domain allow-list proxy: {reason}", policy.profile, target=f"{host}:{port}"))
    warm = guard.warm
    if warm is None or not warm.usable(sandbox_request):
        return run_sandboxed(sandbox_request)
    if sandbox_request.prepared is None:
        sandbox_request = replace(sandbox_request, prepared=warm.take(sandbox_request))
    result = run_sandboxed(sandbox_request)
    warm.refill(sandbox_request)  # the next command of the session finds it confined
    return result


def sandbox_failure(result: SandboxResult, output: bytes | None) -> str | None:
    """Why a confined run looks stopped by the sandbox, or None when it does not.

    A run that timed out, succeeded or was not found (127) is not a sandbox failure. When the
    output was seen, a failure counts only with a denial message in it (or a seccomp kill);
    when it passed straight through to the terminal, any other failure counts, and the human
    who is asked decides.
    """
    if result.timed_out or result.exit_code in (0, 127):
        return None
    if result.signal == signal.SIGSYS:
        return "killed by seccomp (SIGSYS)"
    if output is None:
        return f"exit code {result.exit_code}"
    lowered = output.lower()
    for marker in _DENIAL_MARKERS:
        if marker in lowered:
            return f"exit code {result.exit_code}: {marker.decode()}"
    return None
