"""Packing the same build twice gives byte-identical npm tarballs and SBOMs (same sha256), so a
user or a second builder can check a release against its checksums."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from e2e_helpers import NPM_DIR


def test_two_packs_of_one_build_are_identical(packed: dict[str, object],
                                              tmp_path: Path) -> None:
    again = tmp_path / "again"
    subprocess.run(["node", str(NPM_DIR / "scripts/pack-all.js"), "--no-build", "--single",
                    "--out", str(again)], check=True, timeout=600)
    first = (Path(str(packed["dir"])) / "SHA256SUMS").read_text()
    second = (again / "SHA256SUMS").read_text()
    assert first == second
    lines = second.splitlines()
    assert len(lines) >= 4 and any("plugin-runtime" in line for line in lines)
    for line in lines:  # the sums are of the files as packed (sha256sum -c would pass)
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((again / name).read_bytes()).hexdigest() == digest
