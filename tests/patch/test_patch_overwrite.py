"""Codex's overwrite rules: `*** Add File:` over an existing file and `*** Move to:` onto an
existing file replace it (models trained on the Codex harness rely on both), still all or
nothing across files, still only where the path policy allows a write, and the summary the
model reads says which file was replaced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from patch_helpers import envelope, snapshot

from codex.patch import PatchFailed, PathPolicy, apply_patch, preview_patch


def test_add_file_over_an_existing_file_replaces_it(ws: Path, policy: PathPolicy) -> None:
    (ws / "dup.txt").write_text("old one\nold two\n")
    (ws / "dup.txt").chmod(0o750)
    result = apply_patch(envelope("*** Add File: dup.txt", "+replaced"), policy)
    assert (ws / "dup.txt").read_text() == "replaced\n"
    assert (ws / "dup.txt").stat().st_mode & 0o777 == 0o750  # as the Codex CLI: mode kept
    (change,) = result.changes
    assert (change.kind, change.overwritten) == ("added", True)
    assert "-old one" in change.diff and "+replaced" in change.diff
    assert "--- a/dup.txt" in change.diff  # a diff against the replaced file, not /dev/null
    assert result.summary() == ("Success. Updated the following files:\n"
                                "A dup.txt (overwrote the existing dup.txt)")


def test_add_file_of_a_new_file_says_nothing_about_overwriting(
        ws: Path, policy: PathPolicy) -> None:
    result = apply_patch(envelope("*** Add File: fresh.txt", "+x"), policy)
    assert not result.changes[0].overwritten
    assert result.summary().endswith("\nA fresh.txt")


def test_move_onto_an_existing_file_replaces_it(ws: Path, policy: PathPolicy) -> None:
    (ws / "a.txt").write_text("a\n")
    (ws / "b.txt").write_text("b\n")
    result = apply_patch(envelope("*** Update File: a.txt", "*** Move to: b.txt", "@@", "-a",
                                  "+A"), policy)
    assert not (ws / "a.txt").exists()
    assert (ws / "b.txt").read_text() == "A\n"
    (change,) = result.changes
    assert (change.kind, change.overwritten) == ("moved", True)
    assert result.summary() == ("Success. Updated the following files:\n"
                                "M b.txt (overwrote the existing b.txt)")


def test_preview_says_it_would_overwrite(ws: Path, policy: PathPolicy) -> None:
    (ws / "dup.txt").write_text("keep\n")
    result = preview_patch(envelope("*** Add File: dup.txt", "+new"), policy)
    assert result.summary().endswith("A dup.txt (would overwrite the existing dup.txt)")
    assert (ws / "dup.txt").read_text() == "keep\n"


@pytest.mark.parametrize("body", [
    ("*** Add File: dup.txt", "+replaced"),
    ("*** Update File: a.txt", "*** Move to: dup.txt", "@@", "-a", "+A"),
])
def test_overwrite_is_rolled_back_when_a_later_file_fails(
        ws: Path, policy: PathPolicy, body: tuple[str, ...]) -> None:
    (ws / "dup.txt").write_text("keep me\n")
    (ws / "a.txt").write_text("a\n")
    before = snapshot(ws)
    with pytest.raises(PatchFailed, match=r"missing\.txt"):
        apply_patch(envelope(*body, "*** Update File: missing.txt", "@@", "-x", "+y"), policy)
    assert snapshot(ws) == before


def _refused(text: str, policy: PathPolicy, root: Path, fragment: str) -> None:
    before = snapshot(root)
    with pytest.raises(PatchFailed) as info:
        apply_patch(text, policy)
    assert info.value.refused and fragment in str(info.value)
    assert snapshot(root) == before


def test_add_file_over_an_existing_protected_file_is_refused(
        tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    (ws / ".git").mkdir()
    (ws / ".git/config").write_text("[core]\n")
    (ws / ".envrc").write_text("export A=1\n")
    for target in (".git/config", ".envrc"):
        _refused(envelope(f"*** Add File: {target}", "+evil"), policy, tmp_path,
                 "protected path")
    assert (ws / ".git/config").read_text() == "[core]\n"


def test_move_onto_an_existing_protected_file_is_refused(
        tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    (ws / ".git/hooks").mkdir(parents=True)
    (ws / ".git/hooks/pre-push").write_text("#!/bin/sh\nexit 0\n")
    (ws / "hook.sh").write_text("#!/bin/sh\nevil\n")
    _refused(envelope("*** Update File: hook.sh", "*** Move to: .git/hooks/pre-push"),
             policy, tmp_path, "protected path")
    assert (ws / "hook.sh").exists()


def test_add_file_over_an_existing_file_outside_the_workspace_is_refused(
        tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    _refused(envelope("*** Add File: ../outside.txt", "+x"), policy, tmp_path,
             "outside the working directory")
    _refused(envelope(f"*** Add File: {outside}", "+x"), policy, tmp_path,
             "outside the writable roots")
    assert outside.read_text() == "not yours\n"


def test_move_onto_an_existing_file_outside_the_workspace_is_refused(
        tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    (ws / "a.txt").write_text("a\n")
    _refused(envelope("*** Update File: a.txt", f"*** Move to: {outside}"), policy, tmp_path,
             "outside the writable roots")
    assert outside.read_text() == "not yours\n" and (ws / "a.txt").exists()


def test_add_file_through_a_symlink_to_an_outside_file_is_refused(
        tmp_path: Path, ws: Path, policy: PathPolicy) -> None:
    outside = tmp_path / "target.txt"
    outside.write_text("not yours\n")
    os.symlink(outside, ws / "link.txt")
    _refused(envelope("*** Add File: link.txt", "+x"), policy, tmp_path, "outside")
    assert outside.read_text() == "not yours\n"
