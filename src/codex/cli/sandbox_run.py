"""What `codex sandbox` does once its arguments are parsed and its config is known.

Shared by the two ways in: the typer command (`codex.cli.sandbox_cmd`, which also teaches
`--help` and reports parse errors) and the stdlib-only fast lane (`codex.cli.sandbox_fast`,
which starts in a fraction of the time). Stdlib only: nothing here may import typer,
pydantic or rich. The request goes through the guard chain (`codex.tools.guarded_exec`:
exec policy -> approvals -> `codex.sandbox.run_sandboxed` -> audit log), and the outcome
becomes an exit code (the command's own; 126 not executable, 127 not found, 124 timeout,
128+n signal n; 1 when the profile cannot be enforced here or the guards refuse the command;
2 for usage errors) and, with --json, one result object on stdout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from codex.config.sandbox_settings import SandboxSettings
from codex.config.workdir import resolve_roots
from codex.policies import ApprovalPolicy, SandboxPolicy
from codex.security.permissions import PermissionProfile, apply
from codex.security.profiles import parse_profile, resolve_policy

if TYPE_CHECKING:
    from codex.sandbox.runner import PreparedRun
    from codex.tools.guarded_exec import GuardedOutcome

EXIT_REFUSED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input on the command line; the message names the problem and the fix (exit 2)."""


@dataclass(frozen=True)
class SandboxArgs:
    """The `codex sandbox` options, as given (global options live in the config inputs)."""

    command: list[str]
    writable_roots: list[Path] = field(default_factory=list)
    timeout: float | None = None
    allow_degraded: bool = False
    env: list[str] = field(default_factory=list)
    as_json: bool = False
    approval_policy: str | None = None


@dataclass(frozen=True)
class CheckedArgs:
    """`SandboxArgs` after the checks that need no config."""

    args: SandboxArgs
    approval_policy: ApprovalPolicy | None
    named_env: dict[str, str]


def check_args(args: SandboxArgs) -> CheckedArgs:
    """Reject what is wrong before any config is read; raise UsageError."""
    if not args.command:
        raise UsageError("no command given; usage: codex sandbox [OPTIONS] -- CMD [ARGS]...")
    policy = parse_approval_policy(args.approval_policy)
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: must be a positive number of seconds")
    return CheckedArgs(args, policy, parse_env(args.env))


def parse_approval_policy(value: str | None) -> ApprovalPolicy | None:
    if value is None:
        return None
    try:
        return ApprovalPolicy(value.strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in ApprovalPolicy)
        raise UsageError(f"--approval-policy {value!r}: choose one of {choices}") from None


def parse_env(items: list[str]) -> dict[str, str]:
    """`--env NAME` passes NAME from our environment; `--env NAME=VALUE` sets it."""
    named: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name or not (name[0].isalpha() or name[0] == "_") or not all(
                c.isalnum() or c == "_" for c in name):
            raise UsageError(f"--env {item!r}: expected NAME or NAME=VALUE")
        if sep:
            named[name] = value
        elif name in os.environ:
            named[name] = os.environ[name]
    return named


def sandbox_policy(settings: SandboxSettings, workspace: Path,
                   extra_roots: list[Path]) -> SandboxPolicy:
    """The settings' policy for `workspace`, plus `--writable-root`s (checked here)."""
    if not workspace.is_dir():
        raise UsageError(f"-C {workspace}: not a directory")
    profile = parse_profile(settings.security_profile)
    configured = resolve_roots((Path(p) for p in settings.writable_roots), workspace)
    policy = resolve_policy(profile, workspace, configured)
    if settings.permission_profile is not None:
        policy = apply(PermissionProfile.from_json(settings.permission_profile), policy,
                       workspace)
    extra = [p.expanduser() for p in extra_roots]
    if not extra:
        return policy
    if not policy.writable_roots:
        raise UsageError(f"--writable-root needs a write profile (workspace-write or "
                         f"workspace-net), not {policy.profile}")
    for path in extra:
        if not path.is_dir():
            raise UsageError(f"--writable-root {path}: not a directory")
    roots = tuple(dict.fromkeys(
        [*policy.writable_roots, *((workspace / p).resolve() for p in extra)]))
    return dataclasses.replace(policy, writable_roots=roots)


def execute(settings: SandboxSettings, workspace: Path, checked: CheckedArgs) -> int:
    """Build the policy for `workspace` and run; UsageError for bad input."""
    policy = sandbox_policy(settings, workspace, checked.args.writable_roots)
    try:
        cwd = Path.cwd()
    except FileNotFoundError:
        raise UsageError("the current directory no longer exists") from None
    approval = checked.approval_policy or ApprovalPolicy(settings.approval_policy)
    return run(policy, checked, cwd, workspace, settings, approval)


def exit_without_teardown(code: int) -> NoReturn:
    """End the process once the run is over, skipping interpreter teardown.

    Everything that must outlive us is already durable (the audit log is written with
    os.write + fsync, the sandbox cleaned up after itself); tearing down every loaded module
    costs milliseconds to tens of milliseconds per sandboxed command.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # e.g. a closed pipe: let the interpreter report it as it always did
    os._exit(code)


def run(policy: SandboxPolicy, checked: CheckedArgs, cwd: Path, workspace: Path,
        settings: SandboxSettings, approval_policy: ApprovalPolicy) -> int:
    """Run the request through the guard chain; turn the outcome into output and an exit code."""
    env = {**settings.env_set, **checked.named_env}
    prepared = _prepare(policy, checked, cwd, workspace, env, settings.env_include_only)
    try:
        return _run_guarded(policy, checked, cwd, workspace, settings, approval_policy, env,
                            prepared)
    finally:
        if prepared is not None:
            prepared.abandon()


def _prepare(policy: SandboxPolicy, checked: CheckedArgs, cwd: Path, workspace: Path,
             env: dict[str, str], passthrough: list[str]) -> PreparedRun | None:
    """Linux: start the helper and let it confine itself now, before the guard chain is even
    imported; the command starts only if the guards let it (else the run is abandoned).
    The request is the one the guard chain builds for its first, sandboxed attempt."""
    if not sys.platform.startswith("linux"):
        return None
    from codex.sandbox.runner import SandboxRequest, prepare

    args = checked.args
    return prepare(SandboxRequest(
        policy=policy, argv=list(args.command), cwd=cwd, workspace=workspace,
        timeout_s=args.timeout, allow_degraded=args.allow_degraded, env=env,
        env_passthrough=tuple(passthrough), capture=args.as_json))


def _run_guarded(policy: SandboxPolicy, checked: CheckedArgs, cwd: Path, workspace: Path,
                 settings: SandboxSettings, approval_policy: ApprovalPolicy,
                 env: dict[str, str], prepared: PreparedRun | None) -> int:
    import uuid

    from codex.approvals import default_approver
    from codex.audit import AuditLog
    from codex.execpolicy import RuleLoadError
    from codex.sandbox import SandboxUnavailable
    from codex.tools.guarded_exec import ExecRequest, Guard, Status, run_guarded

    args = checked.args
    as_json = args.as_json
    codex_home = Path(settings.codex_home)
    audit = (AuditLog(codex_home, directory=Path(settings.audit_dir))
             if settings.audit_dir is not None else None)
    try:
        guard = Guard.create(
            codex_home=codex_home, approval_policy=approval_policy,
            # Nobody can answer a prompt when the output is for a machine or stdin is no tty.
            approver=default_approver(interactive=not as_json and sys.stdin.isatty()),
            audit=audit, session_id=str(uuid.uuid4()),
            actor="codex sandbox", allow_degraded=args.allow_degraded,
            env=env, env_passthrough=settings.env_include_only)
    except RuleLoadError as exc:
        sys.stderr.write(f"codex sandbox: {exc}\n")
        return EXIT_USAGE
    try:
        outcome = run_guarded(guard, ExecRequest(argv=args.command, cwd=cwd, policy=policy,
                                                 workspace=workspace, timeout_s=args.timeout,
                                                 capture=as_json, prepared=prepared))
    except KeyboardInterrupt:
        return 130
    guard_info = _guard_json(outcome, approval_policy)
    result = outcome.result
    if result is None:
        error = outcome.error
        if isinstance(error, SandboxUnavailable):
            _fail(as_json, str(error), {"refused": {"layer": error.layer, "reason": error.reason},
                                        "profile": error.profile, "guard": guard_info})
        elif outcome.status is Status.SANDBOX_ERROR:
            _fail(as_json, outcome.reason, {"profile": policy.profile, "guard": guard_info})
        else:
            _fail(as_json, f"refused: {outcome.reason}",
                  {"refused": {"by": outcome.status.value, "reason": outcome.reason},
                   "profile": policy.profile, "guard": guard_info})
        return EXIT_REFUSED
    if as_json:
        data = result.to_json()
        data["stdout"] = (result.stdout or b"").decode(errors="replace")
        data["stderr"] = (result.stderr or b"").decode(errors="replace")
        data["guard"] = guard_info
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        _warn(result)
        if outcome.retried_unsandboxed:
            sys.stderr.write("codex sandbox: note: ran again WITHOUT the sandbox after "
                             "approval (it had failed inside it)\n")
    return result.exit_code


def _guard_json(outcome: GuardedOutcome, approval_policy: ApprovalPolicy) -> dict[str, Any]:
    """What the guards decided, for --json (the audit log holds the same, chained)."""
    return {
        "status": outcome.status.value,
        "decision": outcome.decision.decision.value,
        "justification": outcome.decision.justification,
        "reason": outcome.reason,
        "approval_policy": approval_policy.value,
        "sandboxed": outcome.sandboxed,
        "retried_unsandboxed": outcome.retried_unsandboxed,
        "audit_seq": [entry.seq for entry in outcome.entries],
    }


def _fail(as_json: bool, message: str, extra: dict[str, Any]) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"error": message, **extra}) + "\n")
    else:
        sys.stderr.write(f"codex sandbox: {message}\n")


def _warn(result: Any) -> None:
    """Human warnings on stderr, after the command's own output."""
    out = sys.stderr
    if result.timed_out:
        out.write("codex sandbox: timed out; the command and everything it started were "
                  "killed\n")
    for entry in result.degraded:
        out.write(f"codex sandbox: warning: ran without {entry['layer']} ({entry['reason']}) "
                  "because --allow-degraded was given\n")
    if result.hardlinks:
        more = " (scan stopped early; there may be more)" if result.hardlinks_truncated else ""
        out.write(f"codex sandbox: warning: {len(result.hardlinks)} file(s) in the writable "
                  f"roots have other hard links; writes through them change the other "
                  f"links too{more}:\n")
        for path in result.hardlinks[:20]:
            out.write(f"  {path}\n")
        if len(result.hardlinks) > 20:
            out.write(f"  ... and {len(result.hardlinks) - 20} more (see --json)\n")
    for path, moved_to in result.quarantined.items():
        out.write(f"codex sandbox: warning: the command created {path}, which could run code "
                  f"outside the sandbox later; moved it to {moved_to}\n")
