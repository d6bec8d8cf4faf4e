"""codex.fsutil: atomic replacement leaves the new bytes, the asked mode and no temp files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codex.fsutil import fsync_directory, write_atomic


def test_write_atomic_replaces_content_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("old\n", encoding="utf-8")
    write_atomic(target, "new ✓\n")
    assert target.read_bytes() == "new ✓\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_write_atomic_default_mode_is_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "fresh.txt"
    old_umask = os.umask(0o022)
    try:
        write_atomic(target, "x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_atomic_applies_the_given_mode(tmp_path: Path) -> None:
    target = tmp_path / "shared.txt"
    write_atomic(target, "x", mode=0o644)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failed_rename_removes_the_temp_file_and_keeps_the_target(tmp_path: Path) -> None:
    target = tmp_path / "occupied"
    target.mkdir()  # rename(file, directory) fails
    (target / "keep").write_text("kept", encoding="utf-8")
    with pytest.raises(OSError):
        write_atomic(target, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["occupied"]
    assert (target / "keep").read_text(encoding="utf-8") == "kept"


def test_fsync_directory_refuses_a_file(tmp_path: Path) -> None:
    fsync_directory(tmp_path)
    plain = tmp_path / "plain"
    plain.write_text("", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        fsync_directory(plain)
