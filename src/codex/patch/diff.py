"""Unified diffs of what a patch did, built from the edits themselves.

Running difflib over a whole large file costs hundreds of milliseconds; the engine already
knows which line ranges each hunk replaced, so only those small ranges are compared and the
rest is known to be equal. The output is the familiar `--- a/x` / `+++ b/x` / `@@` format
with three lines of context.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

Opcode = tuple[str, int, int, int, int]
CONTEXT = 3


class _KnownOpcodes(SequenceMatcher[str]):
    """A SequenceMatcher whose opcodes are given, so difflib's hunk grouping can be reused."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [], autojunk=False)
        self._known = opcodes

    def get_opcodes(self) -> list[Opcode]:  # type: ignore[override]
        return list(self._known)


def opcodes_for_replacements(old: Sequence[str],
                             replacements: Sequence[tuple[int, int, Sequence[str]]]
                             ) -> list[Opcode]:
    """Opcodes turning `old` into the result of applying `replacements` (start, count,
    new lines; in file order, non-overlapping), each replaced range compared line by line."""
    opcodes: list[Opcode] = []
    a = b = 0
    for start, count, new in replacements:
        if start > a:
            _append(opcodes, ("equal", a, start, b, b + start - a))
            b += start - a
            a = start
        matcher = SequenceMatcher(None, list(old[start:start + count]), list(new),
                                  autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            _append(opcodes, (tag, a + i1, a + i2, b + j1, b + j2))
        a += count
        b += len(new)
    if a < len(old):
        _append(opcodes, ("equal", a, len(old), b, b + len(old) - a))
    return opcodes or [("equal", 0, 0, 0, 0)]


def _append(opcodes: list[Opcode], code: Opcode) -> None:
    if code[1] == code[2] and code[3] == code[4]:
        return
    if opcodes and opcodes[-1][0] == code[0] == "equal":
        tag, i1, _, j1, _ = opcodes[-1]
        opcodes[-1] = (tag, i1, code[2], j1, code[4])
    else:
        opcodes.append(code)


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _printable(line: str) -> str:
    """Bytes that were not UTF-8 (kept as surrogates) print as U+FFFD."""
    return line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def unified_diff(old: Sequence[str], new: Sequence[str], opcodes: list[Opcode],
                 old_name: str, new_name: str) -> str:
    """The unified diff text ("" when nothing changed)."""
    if all(code[0] == "equal" for code in opcodes):
        return ""
    out = [f"--- {old_name}", f"+++ {new_name}"]
    for group in _KnownOpcodes(opcodes).get_grouped_opcodes(CONTEXT):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + _printable(line) for line in old[i1:i2]]
                continue
            out += ["-" + _printable(line) for line in old[i1:i2]]
            out += ["+" + _printable(line) for line in new[j1:j2]]
    return "\n".join(out) + "\n"
