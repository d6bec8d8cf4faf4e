"""All-or-nothing: a failing patch leaves every byte, mode and mtime as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from patch_helpers import envelope, snapshot

from codex.patch import CommitFailed, PatchFailed, PathPolicy, apply_patch


def _three_files(ws: Path) -> None:
    (ws / "one.txt").write_text("1a\n1b\n")
    (ws / "two.txt").write_bytes(b"2a\r\n2b\r\n")
    (ws / "three.txt").write_text("3a\n3b\n")
    (ws / "two.txt").chmod(0o640)
    old = 1_600_000_000_000_000_000
    for i, name in enumerate(("one.txt", "two.txt", "three.txt")):
        os.utime(ws / name, ns=(old + i, old + i))


def test_third_hunk_failing_leaves_all_three_files_untouched(
        ws: Path, policy: PathPolicy) -> None:
    _three_files(ws)
    before = snapshot(ws)
    bad = envelope(
        "*** Update File: one.txt", "@@", "-1a", "+ONE",
        "*** Update File: two.txt", "@@", "-2a", "+TWO",
        "*** Update File: three.txt", "@@", "-3z does not exist", "+THREE",
    )
    with pytest.raises(PatchFailed) as info:
        apply_patch(bad, policy)
    assert "three.txt" in str(info.value)
    assert snapshot(ws) == before


def test_failing_add_and_delete_mix_changes_nothing(ws: Path, policy: PathPolicy) -> None:
    _three_files(ws)
    before = snapshot(ws)
    bad = envelope(
        "*** Add File: brand/new.txt", "+new",
        "*** Delete File: one.txt",
        "*** Update File: missing.txt", "@@", "-a", "+b",
    )
    with pytest.raises(PatchFailed):
        apply_patch(bad, policy)
    assert snapshot(ws) == before
    assert not (ws / "brand").exists()


def _failing_fs_call_on(call_number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the N-th rename or hard link of the commit (backups and installs) fail like a
    full disk would."""
    calls = {"n": 0}

    def failing(real: Callable[..., None]) -> Callable[..., None]:
        def call(*args: object, **kwargs: object) -> None:
            calls["n"] += 1
            if calls["n"] == call_number:
                raise OSError(28, "No space left on device")
            real(*args, **kwargs)
        return call

    monkeypatch.setattr(os, "replace", failing(os.replace))
    monkeypatch.setattr(os, "link", failing(os.link))


@pytest.mark.parametrize("failing_call", range(1, 9))
def test_failure_midway_through_commit_is_rolled_back(
        ws: Path, policy: PathPolicy, monkeypatch: pytest.MonkeyPatch, failing_call: int) -> None:
    _three_files(ws)
    (ws / "gone.txt").write_text("delete me\n")
    before = snapshot(ws)
    good = envelope(
        "*** Update File: one.txt", "@@", "-1a", "+ONE",
        "*** Update File: two.txt", "*** Move to: sub/two.txt", "@@", "-2a", "+TWO",
        "*** Add File: fresh/deep/new.txt", "+n",
        "*** Update File: three.txt", "@@", "-3a", "+THREE",
        "*** Delete File: gone.txt",
    )
    _failing_fs_call_on(failing_call, monkeypatch)
    with pytest.raises(CommitFailed) as info:
        apply_patch(good, policy)
    monkeypatch.undo()
    assert info.value.rolled_back
    assert "every file was restored" in str(info.value)
    assert snapshot(ws) == before  # no temp, backup or new directory is left behind


def test_failure_while_deleting_is_rolled_back(
        ws: Path, policy: PathPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    _three_files(ws)
    before = snapshot(ws)
    real_unlink = os.unlink

    def flaky_unlink(path: str | os.PathLike[str], *args: object, **kw: object) -> None:
        if str(path).endswith("three.txt"):
            raise PermissionError(1, "Operation not permitted")
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", flaky_unlink)
    with pytest.raises(CommitFailed):
        apply_patch(envelope("*** Update File: one.txt", "@@", "-1a", "+X",
                             "*** Delete File: two.txt", "*** Delete File: three.txt"), policy)
    monkeypatch.undo()
    assert snapshot(ws) == before


def test_success_leaves_no_temporary_or_backup_files(ws: Path, policy: PathPolicy) -> None:
    _three_files(ws)
    apply_patch(envelope("*** Update File: one.txt", "@@", "-1a", "+X",
                         "*** Delete File: two.txt", "*** Add File: n.txt", "+n"), policy)
    assert sorted(p.name for p in ws.iterdir()) == ["n.txt", "one.txt", "three.txt"]


def test_update_preserves_mode_and_unchanged_files_keep_mtime(
        ws: Path, policy: PathPolicy) -> None:
    _three_files(ws)
    (ws / "one.txt").chmod(0o700)
    three_before = (ws / "three.txt").stat().st_mtime_ns
    apply_patch(envelope("*** Update File: one.txt", "@@", "-1a", "+X"), policy)
    assert (ws / "one.txt").stat().st_mode & 0o777 == 0o700
    assert (ws / "three.txt").stat().st_mtime_ns == three_before


def test_update_through_symlink_inside_workspace_keeps_the_link(
        ws: Path, policy: PathPolicy) -> None:
    (ws / "real.txt").write_text("a\n")
    (ws / "link.txt").symlink_to("real.txt")
    apply_patch(envelope("*** Update File: link.txt", "@@", "-a", "+b"), policy)
    assert (ws / "link.txt").is_symlink()
    assert (ws / "real.txt").read_text() == "b\n"


def test_new_file_mode_follows_umask(ws: Path, policy: PathPolicy) -> None:
    old = os.umask(0o027)
    try:
        apply_patch(envelope("*** Add File: u.txt", "+u"), policy)
    finally:
        os.umask(old)
    assert (ws / "u.txt").stat().st_mode & 0o777 == 0o640


def test_symlinks_are_not_deleted_or_moved(ws: Path, policy: PathPolicy) -> None:
    (ws / "real.txt").write_text("a\n")
    (ws / "link.txt").symlink_to("real.txt")
    before = snapshot(ws)
    for body in (("*** Delete File: link.txt",),
                 ("*** Update File: link.txt", "*** Move to: moved.txt")):
        with pytest.raises(PatchFailed, match="is a symbolic link"):
            apply_patch(envelope(*body), policy)
    assert snapshot(ws) == before


def test_file_changed_after_planning_is_not_overwritten(
        ws: Path, policy: PathPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer between planning and commit: the commit refuses and rolls back."""
    import codex.patch.commit as commit_module

    (ws / "a.txt").write_text("a\n")
    (ws / "b.txt").write_text("b\n")
    real_stage = commit_module._stage

    def stage_then_someone_writes(state: object, journal: object) -> Path:
        temp = real_stage(state, journal)  # type: ignore[arg-type]
        (ws / "b.txt").write_text("edited by someone else\n")
        return temp

    monkeypatch.setattr(commit_module, "_stage", stage_then_someone_writes)
    with pytest.raises(CommitFailed, match="changed while the patch was being applied"):
        apply_patch(envelope("*** Update File: a.txt", "@@", "-a", "+A",
                             "*** Update File: b.txt", "@@", "-b", "+B"), policy)
    assert (ws / "a.txt").read_text() == "a\n"
    assert (ws / "b.txt").read_text() == "edited by someone else\n"
    assert sorted(p.name for p in ws.iterdir()) == ["a.txt", "b.txt"]


def test_filesystem_without_hard_links_still_commits_and_rolls_back(
        ws: Path, policy: PathPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    _three_files(ws)
    monkeypatch.setattr(os, "link", no_links)
    apply_patch(envelope("*** Update File: one.txt", "@@", "-1a", "+ONE",
                         "*** Add File: n.txt", "+n"), policy)
    assert (ws / "one.txt").read_text() == "ONE\n1b\n"
    assert (ws / "n.txt").read_text() == "n\n"
    before = snapshot(ws)
    _failing_fs_call_on(2, monkeypatch)  # os.link stays unavailable; the 2nd rename fails
    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(CommitFailed):
        apply_patch(envelope("*** Update File: one.txt", "@@", "-ONE", "+1",
                             "*** Update File: three.txt", "@@", "-3a", "+3"), policy)
    assert snapshot(ws) == before
