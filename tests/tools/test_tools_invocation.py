"""Shell calls that are really apply_patch are recognised, and nothing else is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex.tools.invocation import PatchInvocation, detect_apply_patch

PATCH = "*** Begin Patch\n*** Add File: a\n+x\n*** End Patch"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["apply_patch", PATCH], PatchInvocation(PATCH)),
        (["applypatch", PATCH], PatchInvocation(PATCH)),
        (["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"], PatchInvocation(PATCH)),
        (["bash", "-c", f"apply_patch <<EOF\n{PATCH}\nEOF"], PatchInvocation(PATCH)),
        (["/bin/sh", "-c", f'apply_patch <<"PATCH"\n{PATCH}\nPATCH\n'], PatchInvocation(PATCH)),
        (["zsh", "-lc", f"cd src && apply_patch <<'EOF'\n{PATCH}\nEOF\n"],
         PatchInvocation(PATCH, cd="src")),
        (["bash", "-lc", f"cd 'my dir' && apply_patch <<'EOF'\n{PATCH}\nEOF"],
         PatchInvocation(PATCH, cd="my dir")),
    ],
)
def test_recognised(argv: list[str], expected: PatchInvocation) -> None:
    assert detect_apply_patch(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["echo", "apply_patch"],
        ["bash", "-lc", "echo hi"],
        ["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\nEOF\nrm -rf /"],
        ["bash", "-lc", f"rm x; apply_patch <<'EOF'\n{PATCH}\nEOF"],
        ["python", "-c", f"apply_patch <<'EOF'\n{PATCH}\nEOF"],
        ["bash", "script.sh", f"apply_patch <<'EOF'\n{PATCH}\nEOF"],
    ],
)
def test_not_recognised(argv: list[str]) -> None:
    assert detect_apply_patch(argv) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.sampled_from(
    ["bash", "-lc", "sh", "-c", "apply_patch", "apply_patch <<'EOF'\n", "\nEOF", "cd x && "])),
    max_size=4))
def test_detection_never_crashes(argv: list[str]) -> None:
    detect_apply_patch(argv)
    if len(argv) == 3:
        detect_apply_patch([argv[0], "-lc", "".join(argv)])


def test_detection_is_fast_on_pathological_whitespace() -> None:
    script = "apply_patch <<'EOF'\n" + " \t" * 200_000 + "\nnot the tag"
    assert detect_apply_patch(["bash", "-lc", script]) is None
