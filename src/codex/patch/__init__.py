"""The apply_patch format: parse, match context, apply atomically under a path policy.

Public API (stdlib only, so the tools layer and `codex apply-patch` stay light):

- `apply_patch(text, policy) -> PatchResult`: parse, check every path, compute every file,
  then commit all-or-nothing. Raises `PatchParseError` (bad format), `PatchFailed` (a path
  was refused, or a hunk/file operation cannot apply; nothing was written) or `CommitFailed`
  (the disk failed midway; the tree was restored from backups).
- `preview_patch(text, policy) -> PatchResult`: the same checks and diffs, no writes.
- `prepare_patch(text, policy) -> PatchPlan` then `commit_patch(plan) -> PatchResult`: the
  two halves of `apply_patch`, for callers that ask someone (or record something) between
  computing a patch and writing it; the commit refuses files changed since `prepare_patch`.
- `PathPolicy.from_sandbox_policy(sandbox_policy, workdir)`: the write rule of a profile.
- `PatchResult.changes`: `FileChange(kind=added|updated|deleted|moved, path, move_path,
  diff)` for front ends; `PatchResult.summary()` is the text the model sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from codex.patch.commit import CommitFailed, commit_plan
from codex.patch.engine import FileChange, PatchFailed, PatchPlan, plan_patch
from codex.patch.parser import (
    AddFile,
    DeleteFile,
    Patch,
    PatchParseError,
    UpdateFile,
    parse_patch,
    strip_heredoc,
)
from codex.patch.paths import PathPolicy, PathRefused

_SUMMARY_LETTER = {"added": "A", "updated": "M", "deleted": "D", "moved": "M"}


@dataclass(frozen=True)
class PatchResult:
    """What a patch changed (or, for a preview, would change)."""

    changes: tuple[FileChange, ...]
    applied: bool

    def summary(self) -> str:
        """The Codex CLI's success message: one `A|M|D path` line per file, plus a note on
        each line whose file replaced an existing one (the model should know it did)."""
        lines = ["Success. Updated the following files:" if self.applied
                 else "The patch would update the following files:"]
        for change in self.changes:
            shown = change.display_move_path or change.display_path
            note = ""
            if change.overwritten:
                verb = "overwrote" if self.applied else "would overwrite"
                note = f" ({verb} the existing {shown})"
            lines.append(f"{_SUMMARY_LETTER[change.kind]} {shown}{note}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {"applied": self.applied, "changes": [c.to_json() for c in self.changes]}


def prepare_patch(text: str, policy: PathPolicy) -> PatchPlan:
    """Parse `text`, check its paths and compute every file (no writes)."""
    return plan_patch(parse_patch(text), policy)


def preview_of(plan: PatchPlan) -> PatchResult:
    """What `plan` would change."""
    return PatchResult(changes=tuple(plan.changes), applied=False)


def commit_patch(plan: PatchPlan) -> PatchResult:
    """Write `plan` all-or-nothing."""
    commit_plan(plan)
    return PatchResult(changes=tuple(plan.changes), applied=True)


def preview_patch(text: str, policy: PathPolicy) -> PatchResult:
    """Parse and plan `text` without writing anything."""
    return preview_of(prepare_patch(text, policy))


def apply_patch(text: str, policy: PathPolicy) -> PatchResult:
    """Parse, plan and atomically commit `text` (see the module docstring for errors)."""
    return commit_patch(prepare_patch(text, policy))


__all__ = [
    "AddFile",
    "CommitFailed",
    "DeleteFile",
    "FileChange",
    "Patch",
    "PatchFailed",
    "PatchParseError",
    "PatchPlan",
    "PatchResult",
    "PathPolicy",
    "PathRefused",
    "UpdateFile",
    "apply_patch",
    "commit_patch",
    "parse_patch",
    "prepare_patch",
    "preview_of",
    "preview_patch",
    "strip_heredoc",
]
