"""What every tool handler receives and returns.

A handler gets the parsed arguments of one model tool call and a `ToolContext` (where it
runs, under which policies, who to ask, where to record and stream), and returns a
`ToolOutput`: the text the model reads, whether the call succeeded, and structured data a
front end renders (a command's exit code, a patch's diffs, a plan's steps). Handlers answer
the model with text rather than raising: a bad argument is the model's mistake to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codex.policies import ApprovalPolicy, ReviewDecision, SandboxPolicy

if TYPE_CHECKING:
    from codex.patch import PatchResult
    from codex.tools.guarded_exec import Guard


class AuditRecorder(Protocol):
    """The part of `codex.audit.AuditLog` the tools use (raises when it cannot record)."""

    def record(self, operation: Any, target: str, decision: Any, reason: str, profile: str,
               session_id: str, actor: str) -> object: ...


# Asked before a patch is written when the approval policy wants the user to see edits
# (`untrusted`); gets the would-be changes, answers with a ReviewDecision. Without one, the
# guard's approver is asked (see `codex.tools.apply_patch.approver_for_patches`).
PatchApprover = Callable[["PatchResult"], ReviewDecision]

# Receives a running command's output as it arrives: (stream name "stdout"|"stderr", bytes).
OutputSink = Callable[[str, bytes], None]


@dataclass
class ToolContext:
    """Everything a tool call may need besides its own arguments.

    `guard` is the session's `codex.tools.guarded_exec.Guard` (rules, approvals, audit log);
    the shell tool refuses to run anything without one. `audit` records patch decisions
    (normally the same `AuditLog` as the guard's). `on_output` streams command output.
    """

    workspace: Path
    sandbox_policy: SandboxPolicy
    approval_policy: ApprovalPolicy
    session_id: str
    guard: Guard | None = None
    audit: AuditRecorder | None = None
    approve_patch: PatchApprover | None = None
    on_output: OutputSink | None = None
    actor: str = "agent"


@dataclass(frozen=True)
class ToolOutput:
    """The result of one tool call; `images` (data: URLs) go to the model with the text
    where the wire allows."""

    text: str
    success: bool
    data: dict[str, Any] = field(default_factory=dict)
    images: tuple[str, ...] = ()


class ToolArgumentError(ValueError):
    """The model's arguments do not fit the tool's schema; the message tells it what to fix."""
