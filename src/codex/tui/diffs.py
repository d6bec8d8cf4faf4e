"""Patch cells: `Edited path (+a -b)` (a true minus sign) over a line-numbered, coloured diff.

Input is the unified diff the patch engine produced (`LiveFileDiff`) or `git diff` output
(`/diff`); numbers are the new file's line numbers for added and context lines and the old
file's for removed ones; `⋮` separates hunks. Paths are shown relative to the workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from codex.tui.lines import MINUS, Line, safe

_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_GIT_FILE = re.compile(r"^diff --git a/(.*) b/(.*)$")


@dataclass
class FileDiff:
    """One file's change: its path, what happened to it and its unified diff."""

    path: str
    kind: str = "update"  # add | delete | update
    diff: str = ""
    added: int = field(init=False, default=0)
    removed: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        for line in self.diff.splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                self.added += 1
            elif line.startswith("-") and not line.startswith("---"):
                self.removed += 1


def relative(path: str, workspace: Path) -> str:
    """`path` relative to `workspace` when it lies inside it."""
    try:
        return str(Path(path).relative_to(workspace))
    except ValueError:
        return path


def counts(added: int, removed: int) -> Line:
    return [("", " ("), ("class:diff.add", f"+{added}"), ("", " "),
            ("class:diff.del", f"{MINUS}{removed}"), ("", ")")]


_VERBS = {"add": "Added", "delete": "Deleted", "update": "Edited"}


def patch_cell(files: list[FileDiff], *, failed: bool = False) -> list[Line]:
    """The cell for one patch (one file or several)."""
    bullet = ("class:bullet.fail", "✗ ") if failed else ("class:bullet.ok", "• ")
    verb = "Patch failed for" if failed else None
    if len(files) == 1:
        only = files[0]
        head: Line = [bullet, ("class:cell.title", verb or _VERBS.get(only.kind, "Edited")),
                      ("", " " + safe(only.path))]
        lines = [head + counts(only.added, only.removed)]
        lines += diff_lines(only.diff, indent="    ")
        return lines
    total_add = sum(f.added for f in files)
    total_del = sum(f.removed for f in files)
    lines = [[bullet, ("class:cell.title", verb or "Edited"), ("", f" {len(files)} files"),
              *counts(total_add, total_del)]]
    for item in files:
        lines.append([("class:dim", "  └ "), ("", safe(item.path)),
                      *counts(item.added, item.removed)])
        lines += diff_lines(item.diff, indent="      ")
    return lines


def diff_lines(diff: str, *, indent: str) -> list[Line]:
    """Numbered, coloured lines of a unified diff (headers dropped, `⋮` between hunks)."""
    rows: list[tuple[int, str, str]] = []
    old = new = 0
    hunks = 0
    width = 1
    for raw in diff.splitlines():
        match = _HUNK.match(raw)
        if match:
            old, new = int(match.group(1)), int(match.group(2))
            if hunks:
                rows.append((0, "⋮", ""))
            hunks += 1
            continue
        if not hunks or raw.startswith(("---", "+++", "\\")):
            continue
        sign, text = (raw[:1] or " "), raw[1:]
        if sign == "-":
            rows.append((old, "-", text))
            old += 1
        elif sign == "+":
            rows.append((new, "+", text))
            new += 1
        else:
            rows.append((new, " ", text))
            old += 1
            new += 1
        width = max(width, len(str(rows[-1][0])))
    out: list[Line] = []
    for number, sign, text in rows:
        if sign == "⋮":
            out.append([("class:dim", indent + "⋮")])
            continue
        style = {"+": "class:diff.add", "-": "class:diff.del"}.get(sign, "")
        out.append([("class:dim", f"{indent}{number:>{width}} "),
                    (style, sign + safe(text))])
    return out


def split_git_diff(text: str, workspace: Path) -> list[FileDiff]:
    """`git diff` output split per file."""
    files: list[FileDiff] = []
    path: str | None = None
    kind = "update"
    body: list[str] = []

    def close() -> None:
        if path is not None:
            files.append(FileDiff(relative(path, workspace), kind, "\n".join(body)))

    for raw in text.splitlines():
        match = _GIT_FILE.match(raw)
        if match:
            close()
            path, kind, body = match.group(2), "update", []
        elif raw.startswith("new file mode"):
            kind = "add"
        elif raw.startswith("deleted file mode"):
            kind = "delete"
        else:
            body.append(raw)
    close()
    return files
