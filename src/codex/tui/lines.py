"""Styled lines: the one shape every cell renderer produces and the screen prints.

A `Line` is a list of (style, text) fragments with no newline in it; styles are class names
of `codex.tui.style.STYLE` (`class:diff.add`, ...), so colour is decided once, where NO_COLOR
is honoured. `safe` makes text from the model or a command harmless on a terminal: every
control character (escape sequences, carriage returns, bells) is shown as an escape instead of
being obeyed, so a model cannot move the cursor or retitle the terminal.
"""

from __future__ import annotations

PROMPT_MARK = "\u203a "  # the composer's and a sent prompt's mark
MINUS = "\u2212"  # removed-line counts use a true minus sign

Fragment = tuple[str, str]
Line = list[Fragment]


def safe(text: str) -> str:
    """`text` with tabs expanded and every other control character shown escaped."""
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch == "\t":
            out.append("    ")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def plain(line: Line) -> str:
    """The text of a line without its styles."""
    return "".join(text for _style, text in line)


def styled(style: str, text: str) -> Line:
    """A one-fragment line of escaped `text`."""
    return [(style, safe(text))]


def _indent_of(text: str) -> int:
    """Columns a wrapped continuation is indented by: the leading blanks plus a list or
    cell marker (`• `, `└ `, `- `, `1. `, `> `, the prompt mark) when the line starts with one."""
    stripped = text.lstrip(" ")
    lead = len(text) - len(stripped)
    head, _, rest = stripped.partition(" ")
    if rest and (head in ("•", "└", "│", "-", "*", ">", "✔", "✗", "■", "⚠", "\u203a")
                 or (head[:-1].isdigit() and head.endswith("."))):
        lead += len(head) + 1
    return lead


def wrap(line: Line, width: int) -> list[Line]:
    """`line` folded to `width` columns at spaces where possible, continuation rows
    indented under the text (not the marker); one row when it fits."""
    from prompt_toolkit.utils import get_cwidth

    text = plain(line)
    if width <= 8 or get_cwidth(text) <= width:
        return [line]
    indent = min(_indent_of(text), width // 2)
    chars = [(style, ch) for style, chunk in line for ch in chunk]
    rows: list[Line] = []
    start = 0
    first = True
    while start < len(chars):
        room = width - (0 if first else indent)
        used = 0
        end = start
        last_space = -1
        while end < len(chars) and used + get_cwidth(chars[end][1]) <= room:
            if chars[end][1] == " ":
                last_space = end
            used += get_cwidth(chars[end][1])
            end += 1
        if end < len(chars) and last_space > start:
            end = last_space + 1
        row: Line = [] if first else [("", " " * indent)]
        row += [(style, ch) for style, ch in chars[start:end]]
        rows.append(_merge(row))
        start = end
        while not first and start < len(chars) and chars[start][1] == " ":
            start += 1
        first = False
    return rows


def _merge(row: Line) -> Line:
    """Adjacent fragments of one style joined (fewer escape codes)."""
    merged: Line = []
    for style, text in row:
        if merged and merged[-1][0] == style:
            merged[-1] = (style, merged[-1][1] + text)
        else:
            merged.append((style, text))
    return merged
