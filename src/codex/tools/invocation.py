"""Recognise a `shell` call that is really an apply_patch call.

Models trained on the Codex CLI often call `shell` with `["apply_patch", PATCH]` or with a
bash heredoc (`bash -lc "apply_patch <<'EOF' ... EOF"`, possibly after `cd DIR &&`). There
is no `apply_patch` program; like the Codex CLI we route these to the patch engine, which
also means they go through the path policy instead of the sandbox.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

_PATCH_COMMANDS = frozenset({"apply_patch", "applypatch"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
_SHELL_FLAGS = frozenset({"-c", "-lc", "-cl", "-l", "--login"})
_HEREDOC_HEADER = re.compile(
    r"""^\s*(?:cd\s+(?P<dir>'[^']*'|"[^"]*"|[^\s;&|'"]+)\s*&&\s*)?"""
    r"""(?:apply_patch|applypatch)\s*<<-?\s*(?P<q>['"]?)(?P<tag>[A-Za-z_][\w.-]*)(?P=q)[ \t]*$"""
)


@dataclass(frozen=True)
class PatchInvocation:
    """The patch text a shell call carried, and a directory it `cd`-ed into first."""

    patch: str
    cd: str | None = None


def detect_apply_patch(argv: list[str]) -> PatchInvocation | None:
    """A PatchInvocation when `argv` invokes apply_patch, else None."""
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program in _PATCH_COMMANDS:
        return PatchInvocation(patch="\n".join(argv[1:]))
    if program in _SHELLS and len(argv) >= 3 and set(argv[1:-1]) <= _SHELL_FLAGS and any(
        "c" in flag for flag in argv[1:-1] if not flag.startswith("--")
    ):
        return _heredoc(argv[-1])
    return None


def _heredoc(script: str) -> PatchInvocation | None:
    """`[cd DIR &&] apply_patch <<TAG` + body + `TAG`, and nothing after it."""
    lines = script.strip().split("\n")
    if len(lines) < 2:
        return None
    header = _HEREDOC_HEADER.match(lines[0])
    if header is None or lines[-1].strip() != header.group("tag"):
        return None
    directory = header.group("dir")
    cd = shlex.split(directory)[0] if directory else None
    return PatchInvocation(patch="\n".join(lines[1:-1]), cd=cd)
