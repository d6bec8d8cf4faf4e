"""The dependency audit job's command (pip-audit over requirements.lock against an OSV service),
run against a loopback OSV server serving a fixture advisory: a clean lock passes, a vulnerable
pin fails naming the advisory, and every pin was really queried."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from osv_server import osv_server

pytestmark = pytest.mark.timeout(180)

REPO = Path(__file__).resolve().parents[2]
ADVISORY = json.loads((Path(__file__).parent / "fixtures" / "osv-advisory.json").read_text())


def audit(lock: Path, url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The workflow's audit command (.github/workflows/security-tests.yml), with --osv-url."""
    return subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--no-deps",
         "--disable-pip", "--strict", "--vulnerability-service", "osv", "--osv-url", url,
         "--cache-dir", str(tmp_path / "cache"), "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=150, check=False)


def pins(lock: Path) -> set[str]:
    lines = [line.split(";")[0].strip() for line in lock.read_text().splitlines()]
    return {line.split("==")[0].lower() for line in lines if line and not line.startswith("#")}


def test_the_lock_passes_and_every_pin_is_queried(tmp_path: Path) -> None:
    lock = REPO / "requirements.lock"
    with osv_server([ADVISORY]) as server:
        done = audit(lock, server.url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No known vulnerabilities found" in done.stdout + done.stderr
    queried = {name for name, _ in server.queries}
    # Markers that do not apply here (none today on Linux) are the only pins pip-audit skips.
    assert pins(lock) <= queried, pins(lock) - queried


def test_a_vulnerable_pin_fails_the_audit(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    text = (REPO / "requirements.lock").read_text()
    lock.write_text("\n".join(line if not line.startswith("idna==") else "idna==3.6"
                              for line in text.splitlines()) + "\n")
    with osv_server([ADVISORY]) as server:
        done = audit(lock, server.url, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CODEX-FIXTURE-2026-0001" in done.stdout
    assert "idna" in done.stdout and "3.7" in done.stdout  # the fix version from the range
    assert ("idna", "3.6") in server.queries


def test_an_unreachable_service_fails_rather_than_passes(tmp_path: Path) -> None:
    with osv_server([]) as server:
        url = server.url
    done = audit(REPO / "requirements.lock", url, tmp_path)
    assert done.returncode != 0
