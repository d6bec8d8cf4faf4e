"""Shell calls that are really apply_patch are recognised, and nothing else is."""

from __future__ import annotations

import pytest

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
