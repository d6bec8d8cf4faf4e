"""`codex sandbox [OPTIONS] -- CMD [ARGS...]`: run one command under a security profile.

Thin on purpose: options become an `ExecRequest` for the guard chain
(`codex.tools.guarded_exec`: exec policy -> approvals -> `codex.sandbox.run_sandboxed` -> audit
log), and the outcome becomes an exit code (the command's own; 126 not executable, 127 not
found, 124 timeout, 128+n signal n; 1 when the profile cannot be enforced here or the guards
refuse the command; 2 for usage errors) and, with --json, one result object on stdout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from codex.cli.common import global_options, load_effective_config
from codex.protocol import ApprovalPolicy

if TYPE_CHECKING:
    from codex.config import EffectiveConfig
    from codex.tools.guarded_exec import GuardedOutcome

EXIT_REFUSED = 1
EXIT_USAGE = 2

EPILOG = (
    "Examples: codex sandbox -- git status | codex sandbox --profile workspace-write -C ws "
    "-- make test | codex sandbox --profile net-read-only --json -- curl -sI https://example.com"
)


def register(app: typer.Typer) -> None:
    """Add the `sandbox` command."""
    app.command(
        "sandbox",
        epilog=EPILOG,
        context_settings={"allow_interspersed_args": False},
    )(sandbox)


def _usage(message: str) -> typer.Exit:
    typer.echo(f"codex sandbox: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def _parse_env(items: list[str]) -> dict[str, str]:
    """`--env NAME` passes NAME from our environment; `--env NAME=VALUE` sets it."""
    named: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name or not (name[0].isalpha() or name[0] == "_") or not all(
                c.isalnum() or c == "_" for c in name):
            raise _usage(f"--env {item!r}: expected NAME or NAME=VALUE")
        if sep:
            named[name] = value
        elif name in os.environ:
            named[name] = os.environ[name]
    return named


def sandbox(
    ctx: typer.Context,
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="-- CMD [ARGS]...", help="The command to run, after `--`."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", metavar="PROFILE",
                     help="offline (default), net-read-only, workspace-write, workspace-net, "
                          "trusted; aliases read-only, workspace, full-access. Overrides the "
                          "global --profile and config."),
    ] = None,
    cd: Annotated[
        Path | None,
        typer.Option("-C", "--cd", metavar="DIR",
                     help="The workspace: what write profiles may write (default: the current "
                          "directory). CMD itself runs in the current directory."),
    ] = None,
    writable_roots: Annotated[
        list[Path] | None,
        typer.Option("--writable-root", metavar="DIR",
                     help="Another directory write profiles may write (repeatable)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS",
                     help="Kill the command and everything it started after SECONDS "
                          "(exit 124)."),
    ] = None,
    allow_degraded: Annotated[
        bool,
        typer.Option("--allow-degraded",
                     help="Run even when a layer the profile needs is unavailable here; the "
                          "missing layers are recorded in the result."),
    ] = False,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", metavar="NAME[=VALUE]",
                     help="Pass NAME (from this environment, or set to VALUE) although the "
                          "allow-list or the credential filter would drop it (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Capture the command's output and print one JSON result "
                                    "object (exit_code, signal, duration_ms, profile, layers, "
                                    "degraded, hardlinks, stdout, stderr, guard, ...)."),
    ] = False,
    approval_policy: Annotated[
        str | None,
        typer.Option("--approval-policy", metavar="POLICY",
                     help="When to ask before running: untrusted, on-failure, on-request, "
                          "never (default: config approval_policy). Nobody can answer with "
                          "--json or without a terminal on stdin: a command that needs "
                          "approval is then refused."),
    ] = None,
) -> None:
    """Run CMD confined by a security profile (Linux: namespaces, Landlock, seccomp).

    The command's exit code is ours: 126 not executable, 127 not found, 124 timeout, 128+n
    killed by signal n. A profile whose required layers are missing on this machine is
    refused (exit 1) unless --allow-degraded is given. Write profiles warn about files with
    several hard links in the writable roots (writes through them reach the other links).

    Every command first passes the exec policy (forbidden: refused, exit 1) and the approval
    policy; each decision is written to the audit log (`codex audit show`).
    """
    argv = list(command or [])
    if not argv:
        raise _usage("no command given; usage: codex sandbox [OPTIONS] -- CMD [ARGS]...")
    asked_policy = _parse_approval_policy(approval_policy)
    if timeout is not None and timeout <= 0:
        raise _usage(f"--timeout {timeout:g}: must be a positive number of seconds")
    named_env = _parse_env(env or [])
    root = ctx.find_root()
    options = global_options(ctx)
    root.obj = dataclasses.replace(
        options,
        security_profile=profile if profile is not None else options.security_profile,
        cd=cd if cd is not None else options.cd,
    )
    config = load_effective_config(ctx)
    workspace = Path(config.cwd)
    if not workspace.is_dir():
        raise _usage(f"-C {workspace}: not a directory")
    try:
        cwd = Path.cwd()
    except FileNotFoundError:
        raise _usage("the current directory no longer exists") from None
    policy = config.sandbox_policy()
    extra = [p.expanduser() for p in writable_roots or []]
    if extra:
        if not config.security_profile.writes_workspace:
            raise _usage(f"--writable-root needs a write profile (workspace-write or "
                         f"workspace-net), not {config.security_profile.value}")
        for path in extra:
            if not path.is_dir():
                raise _usage(f"--writable-root {path}: not a directory")
        roots = tuple(dict.fromkeys(
            [*policy.writable_roots, *((workspace / p).resolve() for p in extra)]))
        policy = policy.model_copy(update={"writable_roots": roots})
    shell_env = config.shell_environment_policy
    _exit_without_teardown(run(policy, argv, cwd, workspace, timeout, allow_degraded,
                               {**shell_env.set, **named_env}, shell_env.include_only,
                               as_json, config=config,
                               approval_policy=asked_policy or config.approval_policy))


def _exit_without_teardown(code: int) -> NoReturn:
    """End the process once the run is over, skipping interpreter teardown.

    Everything that must outlive us is already durable (the audit log is written with
    os.write + fsync, the sandbox cleaned up after itself); tearing down the ~300 modules
    typer and pydantic loaded costs tens of milliseconds per sandboxed command.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # e.g. a closed pipe: let the interpreter report it as it always did
    os._exit(code)


def _parse_approval_policy(value: str | None) -> ApprovalPolicy | None:
    if value is None:
        return None
    try:
        return ApprovalPolicy(value.strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in ApprovalPolicy)
        raise _usage(f"--approval-policy {value!r}: choose one of {choices}") from None


def run(policy: Any, argv: list[str], cwd: Path, workspace: Path, timeout: float | None,
        allow_degraded: bool, named_env: dict[str, str], passthrough: list[str],
        as_json: bool, *, config: EffectiveConfig, approval_policy: ApprovalPolicy) -> int:
    """Run the request through the guard chain; turn the outcome into output and an exit code."""
    from codex.approvals import default_approver
    from codex.cli.audit_cmd import open_audit_log
    from codex.execpolicy import RuleLoadError
    from codex.sandbox import SandboxUnavailable
    from codex.tools.guarded_exec import ExecRequest, Guard, Status, run_guarded

    try:
        guard = Guard.create(
            codex_home=config.codex_home, approval_policy=approval_policy,
            # Nobody can answer a prompt when the output is for a machine or stdin is no tty.
            approver=default_approver(interactive=not as_json and sys.stdin.isatty()),
            audit=open_audit_log(config), session_id=str(uuid.uuid4()),
            actor="codex sandbox", allow_degraded=allow_degraded, env=named_env,
            env_passthrough=passthrough)
    except RuleLoadError as exc:
        sys.stderr.write(f"codex sandbox: {exc}\n")
        return EXIT_USAGE
    try:
        outcome = run_guarded(guard, ExecRequest(argv=argv, cwd=cwd, policy=policy,
                                                 workspace=workspace, timeout_s=timeout,
                                                 capture=as_json))
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
