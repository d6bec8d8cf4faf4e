"""Find the line where each key of a TOML document is written.

`tomllib` returns values without positions, but a config error must name its line. This scanner
reads the text the way TOML is laid out (table headers, `key = value` lines, multi-line strings)
and records the first line of every dotted key path; inline-table contents are attributed to the
line of the key that holds them.
"""

from __future__ import annotations

import re

KeyPath = tuple[str, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_HEADER = re.compile(r"^\s*(\[\[?)")


def parse_key(text: str) -> tuple[KeyPath, int] | None:
    """Parse a dotted TOML key at the start of `text`; return its parts and where it ends."""
    parts: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text):
            return None
        char = text[pos]
        if char in "\"'":
            end = pos + 1
            while end < len(text) and text[end] != char:
                end += 2 if (char == '"' and text[end] == "\\") else 1
            if end >= len(text):
                return None
            raw = text[pos + 1 : end]
            parts.append(_unescape(raw) if char == '"' else raw)
            pos = end + 1
        else:
            match = _BARE_KEY.match(text, pos)
            if not match:
                return None
            parts.append(match.group())
            pos = match.end()
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return tuple(parts), pos


def _unescape(raw: str) -> str:
    try:
        return raw.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def index_key_lines(text: str) -> dict[KeyPath, int]:
    """Map every table header and `key = value` in `text` to its 1-based line number."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is not None:
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        header = _HEADER.match(line)
        if header:
            parsed = parse_key(line[header.end() :])
            if parsed:
                table = parsed[0]
                for depth in range(1, len(table) + 1):
                    lines.setdefault(table[:depth], number)
            continue
        parsed = parse_key(line)
        if not parsed:
            continue
        key, end = parsed
        rest = line[end:]
        if not rest.startswith("="):
            continue
        full = table + key
        for depth in range(len(table) + 1, len(full) + 1):
            lines.setdefault(full[:depth], number)
        for quote in ('"""', "'''"):
            if rest.count(quote) % 2 == 1:
                open_quote = quote
                break
    return lines


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its nearest written ancestor (inline tables, array items)."""
    for depth in range(len(path), 0, -1):
        found = lines.get(path[:depth])
        if found is not None:
            return found
    return None
