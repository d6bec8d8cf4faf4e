"""Helpers for the apply_patch suite: a workspace-write policy and a patch envelope."""

from __future__ import annotations

from pathlib import Path

from codex.patch import PathPolicy
from codex.security import SecurityProfile, resolve_policy


def policy_for(workspace: Path, profile: SecurityProfile = SecurityProfile.WORKSPACE_WRITE,
               extra_roots: tuple[Path, ...] = ()) -> PathPolicy:
    return PathPolicy.from_sandbox_policy(
        resolve_policy(profile, workspace, extra_roots), workspace
    )


def envelope(*body: str) -> str:
    """A patch: `body` lines between the Begin/End markers."""
    return "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int, int]]:
    """Every entry under `root`: (bytes or None for a directory, mode, mtime_ns)."""
    result: dict[str, tuple[bytes | None, int, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        result[str(path.relative_to(root))] = (data, st.st_mode, st.st_mtime_ns)
    return result
