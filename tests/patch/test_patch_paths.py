"""The path policy: refused paths are refused before any byte is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from patch_helpers import envelope, policy_for, snapshot

from codex.patch import PatchFailed, PathPolicy, apply_patch
from codex.security import SecurityProfile


def _assert_refused(text: str, policy: PathPolicy, root: Path, fragment: str) -> None:
    before = snapshot(root)
    with pytest.raises(PatchFailed) as info:
        apply_patch(text, policy)
    assert info.value.refused
    assert fragment in str(info.value)
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "target",
    [".git/hooks/pre-commit", ".git/config", ".gitmodules", ".envrc", ".vscode/tasks.json",
     ".idea/workspace.xml", ".codex/config.toml", "sub/repo/.git/hooks/post-checkout",
     "nested/.envrc", ".VSCode/settings.json"],
)
def test_protected_paths_are_refused(tmp_path: Path, ws: Path, policy: PathPolicy,
                                     target: str) -> None:
    (ws / ".git").mkdir()
    _assert_refused(envelope("*** Add File: ok.txt", "+fine", f"*** Add File: {target}", "+x"),
                    policy, tmp_path, "protected path")
    assert not (ws / "ok.txt").exists()


def test_protected_existing_file_cannot_be_updated_or_deleted(
        tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    (ws / ".git").mkdir()
    (ws / ".git/config").write_text("[core]\n")
    _assert_refused(envelope("*** Update File: .git/config", "@@", " [core]",
                             "+\tfsmonitor = evil"), policy, tmp_path, "protected path")
    _assert_refused(envelope("*** Delete File: .git/config"), policy, tmp_path, "protected")


def test_move_into_protected_path_is_refused(tmp_path: Path, ws: Path,
                                             policy: PathPolicy) -> None:
    (ws / "hook.sh").write_text("#!/bin/sh\n")
    _assert_refused(envelope("*** Update File: hook.sh", "*** Move to: .git/hooks/pre-push"),
                    policy, tmp_path, "protected path")


def test_dotdot_escape_is_refused(tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    _assert_refused(envelope("*** Add File: ../outside.txt", "+x"), policy, tmp_path,
                    "'..' leads outside the working directory")
    assert not (tmp_path / "outside.txt").exists()


def test_dotdot_that_stays_inside_is_fine(ws: Path, policy: PathPolicy) -> None:
    (ws / "a").mkdir()
    apply_patch(envelope("*** Add File: a/../b.txt", "+x"), policy)
    assert (ws / "b.txt").read_text() == "x\n"


def test_absolute_path_outside_roots_is_refused(tmp_path: Path, policy: PathPolicy) -> None:
    outside = tmp_path / "elsewhere.txt"
    _assert_refused(envelope(f"*** Add File: {outside}", "+x"), policy, tmp_path,
                    "outside the writable roots")


def test_absolute_path_inside_workspace_is_allowed(ws: Path, policy: PathPolicy) -> None:
    apply_patch(envelope(f"*** Add File: {ws / 'abs.txt'}", "+x"), policy)
    assert (ws / "abs.txt").read_text() == "x\n"


def test_extra_writable_root_allows_absolute_paths(tmp_path: Path, ws: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    policy = policy_for(ws, extra_roots=(extra,))
    apply_patch(envelope(f"*** Add File: {extra / 'e.txt'}", "+x"), policy)
    assert (extra / "e.txt").read_text() == "x\n"


def test_symlink_leading_outside_is_refused(tmp_path: Path, ws: Path,
                                            policy: PathPolicy) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("secret\n")
    (ws / "innocent.txt").symlink_to(victim)
    _assert_refused(envelope("*** Update File: innocent.txt", "@@", "-secret", "+pwned"),
                    policy, tmp_path, "symlink")
    assert victim.read_text() == "secret\n"


def test_symlinked_directory_leading_outside_is_refused(tmp_path: Path, ws: Path,
                                                        policy: PathPolicy) -> None:
    outside = tmp_path / "outside_dir"
    outside.mkdir()
    (ws / "dir").symlink_to(outside, target_is_directory=True)
    _assert_refused(envelope("*** Add File: dir/planted.txt", "+x"), policy, tmp_path,
                    "symlink")
    assert not (outside / "planted.txt").exists()


def test_symlink_into_protected_path_is_refused(tmp_path: Path, ws: Path,
                                                policy: PathPolicy) -> None:
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / "hooks").symlink_to(ws / ".git" / "hooks", target_is_directory=True)
    _assert_refused(envelope("*** Add File: hooks/pre-commit", "+x"), policy, tmp_path,
                    "protected path")


@pytest.mark.parametrize("profile", [SecurityProfile.OFFLINE, SecurityProfile.NET_READ_ONLY])
def test_read_only_profiles_refuse_every_write(tmp_path: Path, ws: Path,
                                               profile: SecurityProfile) -> None:
    policy = policy_for(ws, profile)
    _assert_refused(envelope("*** Add File: a.txt", "+x"), policy, tmp_path,
                    "--profile workspace-write")


def test_trusted_profile_allows_anything(tmp_path: Path, ws: Path) -> None:
    policy = policy_for(ws, SecurityProfile.TRUSTED)
    apply_patch(envelope("*** Add File: ../outside.txt", "+x", "*** Add File: .envrc", "+y"),
                policy)
    assert (tmp_path / "outside.txt").read_text() == "x\n"
    assert (ws / ".envrc").read_text() == "y\n"


def test_workspace_under_a_protected_looking_parent_still_works(tmp_path: Path) -> None:
    ws = tmp_path / ".idea" / "project"
    ws.mkdir(parents=True)
    apply_patch(envelope("*** Add File: a.txt", "+x"), policy_for(ws))
    assert (ws / "a.txt").read_text() == "x\n"


def test_refusals_are_reported_before_content_problems(tmp_path: Path, ws: Path,
                                                       policy: PathPolicy) -> None:
    _assert_refused(envelope("*** Update File: missing.txt", "@@", "-a", "+b",
                             "*** Add File: .envrc", "+x"), policy, tmp_path, ".envrc")
