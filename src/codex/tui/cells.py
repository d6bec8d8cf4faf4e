"""History cells other than patches: the prompt, commands, notes, approvals, the header.

Commands: `• Running cmd` while it runs (in the live region) and `• Ran cmd` once done, with
head and tail of its output (`… +N lines` between) and the exit status. Commands that only
read, list or search are shown by intent (`Read x`, `List dir`, `Search pat in path`) and
consecutive ones grouped under one `• Explored` bullet.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from codex.tui.lines import PROMPT_MARK, Line, safe

OUTPUT_HEAD = 2
OUTPUT_TAIL = 3

_READERS = frozenset({"cat", "head", "tail", "nl", "bat", "less", "more", "wc"})
_LISTERS = frozenset({"ls", "tree", "find", "fd"})
_SEARCHERS = frozenset({"rg", "grep", "ag", "ack"})


def user_cell(text: str) -> list[Line]:
    rows = safe_lines(text) or [""]
    return [[("class:user.mark", PROMPT_MARK if i == 0 else "  "), ("class:user", row)]
            for i, row in enumerate(rows)]


def safe_lines(text: str) -> list[str]:
    return [safe(row) for row in text.rstrip("\n").split("\n")] if text else []


def note(text: str, style: str = "class:dim", mark: str = "• ") -> list[Line]:
    rows = safe_lines(text) or [""]
    return [[(style, (mark if i == 0 else " " * len(mark)) + row)] for i, row in enumerate(rows)]


def output_excerpt(output: str, indent: str = "  └ ") -> list[Line]:
    """Head and tail of a command's output with `… +N lines` in between."""
    rows = safe_lines(output.rstrip("\n"))
    if len(rows) > OUTPUT_HEAD + OUTPUT_TAIL + 1:
        hidden = len(rows) - OUTPUT_HEAD - OUTPUT_TAIL
        rows = [*rows[:OUTPUT_HEAD], f"… +{hidden} lines", *rows[-OUTPUT_TAIL:]]
    pad = " " * len(indent)
    return [[("class:dim", (indent if i == 0 else pad) + row)] for i, row in enumerate(rows)]


def command_cell(command: str, output: str, exit_code: int | None, status: str) -> list[Line]:
    """A finished (or refused) command."""
    if status == "declined":
        return [[("class:bullet.fail", "✗ "), ("class:cell.title", "Not run "),
                 ("class:command", safe(command))], *output_excerpt(output or "refused")]
    ok = status == "completed" and exit_code == 0
    lines: list[Line] = [[("class:bullet.ok" if ok else "class:bullet.fail", "• "),
                          ("class:cell.title", "Ran "), ("class:command", safe(command))]]
    lines += output_excerpt(output) if output.strip() else [[("class:dim", "  └ (no output)")]]
    code = "?" if exit_code is None else str(exit_code)
    lines.append([("class:exit.ok" if ok else "class:exit.fail",
                   f"    {'✓' if ok else '✗'} exit {code}")])
    return lines


def running_cell(command: str, output: str, elapsed_s: float) -> list[Line]:
    """A command still running: its last output lines (live region only)."""
    rows = safe_lines(output.rstrip("\n"))[-OUTPUT_TAIL:]
    head: Line = [("class:bullet.run", "• "), ("class:cell.title", "Running "),
                  ("class:command", safe(command)), ("class:dim", f" ({elapsed_s:.0f}s)")]
    return [head, *[[("class:dim", "  │ " + row)] for row in rows]]


@dataclass(frozen=True)
class Exploration:
    """What a read-only command was for: `Read x`, `List dir`, `Search pat in path`."""

    verb: str
    target: str

    def line(self, first: bool) -> Line:
        return [("class:dim", "  └ " if first else "    "), ("class:cell.title", self.verb),
                ("", " " + safe(self.target))]


def exploration(command: str) -> Exploration | None:
    """The intent of a simple read/list/search command, else None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) == 3 and words[0] in ("bash", "sh", "zsh") and words[1] in ("-lc", "-c"):
        try:
            words = shlex.split(words[2])
        except ValueError:
            return None
    if not words or any(w in ("|", "&&", "||", ";", ">", ">>") for w in words):
        return None
    tool, args = words[0], [w for w in words[1:] if not w.startswith("-")]
    if tool in _READERS or (tool == "sed" and "-n" in words):
        files = args[1:] if tool == "sed" else args
        return Exploration("Read", ", ".join(files)) if files else None
    if tool in _LISTERS:
        return Exploration("List", args[0] if args else ".")
    if tool in _SEARCHERS or (tool == "git" and args[:1] == ["grep"]):
        terms = args[1:] if tool == "git" else args
        if not terms:
            return None
        where = f" in {' '.join(terms[1:])}" if len(terms) > 1 else ""
        return Exploration("Search", terms[0] + where)
    return None


def explored_header() -> Line:
    return [("class:bullet.ok", "• "), ("class:cell.title", "Explored")]


def approval_result(subject: str, decision: str) -> list[Line]:
    """The history line that records how an approval was answered."""
    texts = {
        "approved": ("class:bullet.ok", "✔ ", "You approved ", " (this time)"),
        "approved_for_session": ("class:bullet.ok", "✔ ", "You approved ",
                                 " for this session"),
        "approved_always": ("class:bullet.ok", "✔ ", "You approved ", " (rule saved)"),
        "denied": ("class:bullet.fail", "✗ ", "You denied ", ""),
        "abort": ("class:bullet.fail", "✗ ", "You aborted the turn at ", ""),
    }
    style, mark, lead, tail = texts.get(decision, texts["denied"])
    return [[(style, mark), ("", lead), ("class:command", safe(subject)), ("", tail)]]


def title_cell(version: str) -> list[Line]:
    """The first line, printed before the live region is drawn: the region then never
    starts at the top-left corner, where erasing it would count as clearing the whole
    screen (tmux's scroll-on-clear would copy the frame into the scrollback)."""
    return [[("class:cell.title", ">_ codex"), ("class:dim", f" (v{version})")]]


def header_cell(fields: list[tuple[str, str]]) -> list[Line]:
    """The session's details, printed once it has opened."""
    return [[("class:dim", f"  {label}: "), ("", safe(value))] for label, value in fields]
