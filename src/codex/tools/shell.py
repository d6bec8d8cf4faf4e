"""The `shell` tool: run a command the model proposes through the guard chain.

Arguments follow the Codex CLI: `command` (argv), `workdir` (relative to the workspace),
`timeout_ms`, and an escalation request (`sandbox_permissions: "require_escalated"`, or the
older `with_escalated_permissions: true`) with a `justification` the user sees when asked.
A call that is really apply_patch (`["apply_patch", PATCH]` or a bash heredoc) goes to the
patch engine. Everything else goes to `codex.tools.guarded_exec.run_guarded` (exec policy →
approvals → sandbox → audit); the model gets the exit code, wall time and output capped to
a head and a tail, and front ends get the full structured result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.tools.apply_patch import handle_apply_patch
from codex.tools.base import ToolArgumentError, ToolContext, ToolOutput
from codex.tools.invocation import detect_apply_patch
from codex.tools.output import OutputCollector, format_exec_output

if TYPE_CHECKING:
    from codex.tools.guarded_exec import GuardedOutcome

DEFAULT_TIMEOUT_MS = 10_000
MAX_TIMEOUT_MS = 60 * 60 * 1000
_KNOWN = {"command", "workdir", "timeout_ms", "sandbox_permissions",
          "with_escalated_permissions", "justification"}


@dataclass(frozen=True)
class ShellCall:
    """Validated `shell` arguments."""

    argv: list[str]
    workdir: Path
    timeout_ms: int
    escalate: bool
    justification: str | None


def parse_shell_arguments(arguments: dict[str, Any], workspace: Path) -> ShellCall:
    """Validate the model's `shell` arguments; ToolArgumentError says what to fix."""
    unknown = set(arguments) - _KNOWN
    if unknown:
        raise ToolArgumentError(f"unknown argument(s): {', '.join(sorted(unknown))}")
    command = arguments.get("command")
    if isinstance(command, str):
        raise ToolArgumentError(
            "'command' must be an argv array, e.g. [\"bash\", \"-lc\", \"ls -la\"], not a string"
        )
    if (not isinstance(command, list) or not command
            or not all(isinstance(a, str) for a in command)):
        raise ToolArgumentError("'command' must be a non-empty array of strings")
    if any("\0" in a for a in command):
        raise ToolArgumentError("'command' arguments must not contain NUL bytes")
    workdir_raw = arguments.get("workdir")
    if workdir_raw is not None and not isinstance(workdir_raw, str):
        raise ToolArgumentError("'workdir' must be a string path")
    workdir = Path(os.path.normpath(workspace / workdir_raw)) if workdir_raw else workspace
    timeout = arguments.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ToolArgumentError("'timeout_ms' must be a positive number of milliseconds")
    permissions = arguments.get("sandbox_permissions", "use_default")
    if permissions not in ("use_default", "require_escalated"):
        raise ToolArgumentError(
            "'sandbox_permissions' must be \"use_default\" or \"require_escalated\""
        )
    legacy = arguments.get("with_escalated_permissions", False)
    if not isinstance(legacy, bool):
        raise ToolArgumentError("'with_escalated_permissions' must be true or false")
    justification = arguments.get("justification")
    if justification is not None and not isinstance(justification, str):
        raise ToolArgumentError("'justification' must be a string")
    return ShellCall(
        argv=list(command),
        workdir=workdir,
        timeout_ms=int(min(timeout, MAX_TIMEOUT_MS)),
        escalate=permissions == "require_escalated" or legacy,
        justification=justification,
    )


def handle_shell(arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
    """Run one `shell` call (or route it to apply_patch) and describe the result."""
    if isinstance(arguments, str):
        return ToolOutput(text="shell takes JSON arguments", success=False)
    try:
        call = parse_shell_arguments(arguments, ctx.workspace)
    except ToolArgumentError as exc:
        return ToolOutput(text=f"shell rejected: {exc}", success=False)
    invocation = detect_apply_patch(call.argv)
    if invocation is not None:
        workdir = call.workdir / invocation.cd if invocation.cd else call.workdir
        return handle_apply_patch(invocation.patch, ctx, workdir=workdir)
    if not call.workdir.is_dir():
        return ToolOutput(text=f"shell rejected: workdir {call.workdir} is not a directory",
                          success=False)
    return _run(call, ctx)


def _run(call: ShellCall, ctx: ToolContext) -> ToolOutput:
    from codex.tools.guarded_exec import ExecRequest, run_guarded

    if ctx.guard is None:
        return ToolOutput(text="shell is unavailable: this session has no guard chain",
                          success=False)
    collector = OutputCollector()
    sink = ctx.on_output

    def on_output(stream: str, chunk: bytes) -> None:
        collector.feed(chunk)
        if sink is not None:
            sink(stream, chunk)

    outcome = run_guarded(ctx.guard, ExecRequest(
        argv=call.argv,
        cwd=call.workdir,
        policy=ctx.sandbox_policy,
        workspace=ctx.workspace,
        timeout_s=call.timeout_ms / 1000,
        on_output=on_output,
        escalated=call.escalate,
        justification=call.justification,
    ))
    return _describe(call, outcome, collector)


def _describe(call: ShellCall, outcome: GuardedOutcome, collector: OutputCollector) -> ToolOutput:
    data: dict[str, Any] = {
        "type": "command_execution",
        "command": call.argv,
        "cwd": str(call.workdir),
        "guard_status": outcome.status.value,
        "sandboxed": outcome.sandboxed,
    }
    result = outcome.result
    if not outcome.ran or result is None:
        text = (f"Command not run ({outcome.status.value.replace('_', ' ')}): {outcome.reason}\n"
                f"Exit code: {outcome.exit_code}")
        data.update(status="declined", exit_code=outcome.exit_code, aggregated_output="",
                    reason=outcome.reason)
        return ToolOutput(text=text, success=False, data=data)
    notes = []
    if result.timed_out:
        notes.append(f"The command timed out after {call.timeout_ms} ms and was killed.")
    if outcome.retried_unsandboxed:
        notes.append(f"It failed in the sandbox and was re-run without it: {outcome.reason}")
    capped = collector.capped()
    text = format_exec_output(result.exit_code, result.duration_s, capped,
                              note=" ".join(notes) or None)
    success = result.exit_code == 0 and not result.timed_out
    data.update(
        status="completed" if success else "failed",
        exit_code=result.exit_code,
        duration_s=result.duration_s,
        timed_out=result.timed_out,
        aggregated_output=collector.full_text() if collector.full_text() is not None
        else capped.text,
        output_truncated=collector.full_text() is None,
    )
    return ToolOutput(text=text, success=success, data=data)
