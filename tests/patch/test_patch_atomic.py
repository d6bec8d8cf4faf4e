"""All-or-nothing: a failing patch leaves every byte, mode and mtime as it was."""

from __future__ import annotations

import os
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


def _failing_replace_on(call_number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the N-th os.replace of the commit fail like a full disk would."""
    real_replace = os.replace
    calls = {"n": 0}

    def flaky(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == call_number:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)


@pytest.mark.parametrize("failing_call", [1, 2, 3, 4])
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
    _failing_replace_on(failing_call, monkeypatch)
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
