"""The apply_patch tool: the model's only way to write files from the agent process.

Order of checks, each before any byte is written: parse the patch; check every path against
the active profile's path policy (refusals are audited as denied); compute every file; ask
the user when the approval policy is `untrusted`; record the allowed write in the audit log
(if recording fails, nothing is written); then commit all-or-nothing.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from codex.patch import (
    AddFile,
    CommitFailed,
    DeleteFile,
    PatchFailed,
    PatchParseError,
    PatchResult,
    PathPolicy,
    PathRefused,
    UpdateFile,
    commit_patch,
    parse_patch,
    prepare_patch,
    preview_of,
)
from codex.policies import ApprovalPolicy, ReviewDecision
from codex.tools.base import PatchApprover, ToolContext, ToolOutput

_APPROVED = (ReviewDecision.APPROVED, ReviewDecision.APPROVED_FOR_SESSION,
             ReviewDecision.APPROVED_ALWAYS)


def patch_text_from_arguments(arguments: dict[str, Any] | str) -> str | None:
    """The patch text of a freeform call (the raw input) or a function call (`input`)."""
    if isinstance(arguments, str):
        return arguments
    value = arguments.get("input", arguments.get("patch"))
    return value if isinstance(value, str) else None


def planned_changes(text: str, ctx: ToolContext,
                    workdir: Path | None = None) -> list[dict[str, str]] | None:
    """The files a patch names, as `{path, kind}` (kind add|delete|update; a move is an update
    of its destination), without reading or writing any of them: what a front end shows
    while the patch is being applied. Paths are the ones the completed change will carry
    (symlinks followed where the policy allows the write). None when the text is no patch."""
    policy = PathPolicy.from_sandbox_policy(ctx.sandbox_policy, workdir or ctx.workspace)
    try:
        patch = parse_patch(text)
    except PatchParseError:
        return None
    kinds = {AddFile: "add", DeleteFile: "delete", UpdateFile: "update"}
    changes = []
    for op in patch.ops:
        raw = op.move_to if isinstance(op, UpdateFile) and op.move_to else op.path
        try:
            path = policy.check_write(raw)
        except PathRefused:
            path = policy.resolve(raw)
        changes.append({"path": str(path), "kind": kinds[type(op)]})
    return changes


def handle_apply_patch(arguments: dict[str, Any] | str, ctx: ToolContext,
                       workdir: Path | None = None) -> ToolOutput:
    """Apply the patch in `arguments` under `ctx`'s policies; the output tells the model
    exactly what happened (and, on failure, that nothing changed)."""
    text = patch_text_from_arguments(arguments)
    if text is None:
        return ToolOutput(
            text="apply_patch needs the patch text: call it with {\"input\": \"*** Begin Patch"
                 "\\n...\\n*** End Patch\"}",
            success=False,
        )
    policy = PathPolicy.from_sandbox_policy(ctx.sandbox_policy, workdir or ctx.workspace)
    try:
        patch = parse_patch(text)
        plan = prepare_patch(text, policy)
    except PatchParseError as exc:
        return ToolOutput(text=f"{exc}\nNo file was changed.", success=False)
    except PatchFailed as exc:
        if exc.refused:
            targets = [_op_target(op.path, policy) for op in patch.ops]
            _audit_denial(ctx, targets, "; ".join(exc.problems))
        return _failure(str(exc), exc.problems, refused=exc.refused)
    preview = preview_of(plan)
    targets = [str(p) for c in preview.changes for p in (c.path, c.move_path) if p is not None]
    if ctx.approval_policy is ApprovalPolicy.UNTRUSTED:
        approve = ctx.approve_patch or approver_for_patches(ctx)
        decision = approve(preview) if approve else None
        if decision not in _APPROVED:
            reason = ("the user declined the patch" if decision is not None
                      else "approval policy 'untrusted' requires approval and no approver "
                           "is available")
            _audit_denial(ctx, targets, reason)
            return _failure(f"patch not applied: {reason}; no file was changed", [reason],
                            refused=True)
    try:
        _audit(ctx, targets, "allowed", _describe(preview))
    except Exception as exc:  # an audit failure must stop the write (fail closed)
        return _failure(f"patch not applied: cannot record it in the audit log ({exc})",
                        [str(exc)], refused=True)
    try:
        result = commit_patch(plan)  # exactly what was approved and recorded
    except CommitFailed as exc:
        return _failure(str(exc), [str(exc)], refused=False)
    return ToolOutput(text=result.summary(), success=True, data=_data(result))


def approver_for_patches(ctx: ToolContext) -> PatchApprover | None:
    """Ask the session guard's approver about a patch, as a request to run `apply_patch
    <paths>` whose reason carries the diff (None when the session has no guard)."""
    if ctx.guard is None:
        return None
    approver = ctx.guard.approvals.approver
    workspace = ctx.workspace

    def ask(preview: PatchResult) -> ReviewDecision:
        from codex.approvals import ApprovalRequest

        paths = tuple(c.display_move_path or c.display_path for c in preview.changes)
        diff = "".join(c.diff for c in preview.changes)
        return approver.request_approval(ApprovalRequest(
            argv=("apply_patch", *paths), cwd=workspace,
            reason=f"the approval policy asks before files change:\n{diff}",
            offer_always=False))

    return ask


def _op_target(raw: str, policy: PathPolicy) -> str:
    return str(policy.resolve(raw))


def _describe(result: PatchResult) -> str:
    return ", ".join(f"{c.kind} {c.display_move_path or c.display_path}" for c in result.changes)


def _audit(ctx: ToolContext, targets: list[str], decision: str, reason: str) -> None:
    if ctx.audit is None:
        return
    ctx.audit.record("patch_apply", ", ".join(targets), decision, reason,
                     ctx.sandbox_policy.profile, ctx.session_id, ctx.actor)


def _audit_denial(ctx: ToolContext, targets: list[str], reason: str) -> None:
    """Record a refusal; nothing is written either way, so a failing log does not matter."""
    with contextlib.suppress(Exception):
        _audit(ctx, targets, "denied", reason)


def _data(result: PatchResult) -> dict[str, Any]:
    return {"type": "file_change", "status": "completed", **result.to_json()}


def _failure(text: str, problems: list[str], *, refused: bool) -> ToolOutput:
    return ToolOutput(
        text=text,
        success=False,
        data={"type": "file_change", "status": "failed", "refused": refused,
              "problems": problems, "changes": []},
    )
