"""The GitHub workflows: each validates against the workflow schema (check-jsonschema's
bundled copy, offline) and every third-party action is pinned to a full commit SHA (a tag
can be moved to other code; a SHA cannot)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / ".github" / "workflows").glob("*.yml"))
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)", re.MULTILINE)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_schema(workflow: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(workflow)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha(workflow: Path) -> None:
    actions = USES.findall(workflow.read_text())
    remote = [a for a in actions if not a.startswith("./")]
    unpinned = [a for a in remote if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", a)]
    assert unpinned == []


def test_the_pin_check_sees_a_tag() -> None:
    """Control: the pattern flags a tag reference."""
    assert USES.findall("      - uses: actions/checkout@v4\n") == ["actions/checkout@v4"]
    assert not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", "actions/checkout@v4")
