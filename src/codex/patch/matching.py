"""Find a hunk's lines in a file, from strict to forgiving.

Models copy context lines imperfectly: trailing spaces vanish, indentation drifts, and
typographic punctuation (an en dash, curly quotes, a non-breaking space) replaces ASCII or
the reverse. Matching runs in passes and the first pass that finds the lines wins, so an exact
match is always preferred over a fuzzy one:

1. exact, 2. ignoring trailing whitespace, 3. ignoring leading and trailing whitespace,
4. as 3 with Unicode punctuation and spaces normalised to ASCII.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\uff02", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
            " ",
        ),
        "\u2026": "...",
        "\ufeff": None,
        "\u200b": None,
    }
)


def normalise_punctuation(line: str) -> str:
    """Map typographic dashes, quotes and spaces to ASCII and trim (the 4th pass's key)."""
    return line.translate(_PUNCTUATION).strip()


PASSES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("exact", lambda s: s),
    ("trailing whitespace ignored", str.rstrip),
    ("surrounding whitespace ignored", str.strip),
    ("unicode punctuation normalised", normalise_punctuation),
)


class LineIndex:
    """The lines of one file with each pass's normalised form computed once, so a patch with
    many hunks on a large file does not re-normalise the file per hunk."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self._keyed: dict[str, list[str]] = {}

    def keyed(self, name: str, key: Callable[[str], str]) -> Sequence[str]:
        if name == "exact":
            return self.lines
        if name not in self._keyed:
            self._keyed[name] = [key(line) for line in self.lines]
        return self._keyed[name]

    def seek(self, pattern: Sequence[str], start: int, *,
             at_end: bool = False) -> tuple[int, str] | None:
        """Index of the first occurrence of `pattern` at or after `start`, and the name of
        the pass that found it; `at_end` prefers an occurrence that ends the file."""
        lines = self.lines
        if not pattern:
            return start, "exact"
        if len(pattern) > len(lines):
            return None
        last_start = len(lines) - len(pattern)
        for name, key in PASSES:
            wanted = [key(p) for p in pattern]
            keyed = self.keyed(name, key)
            if at_end and list(keyed[last_start:]) == wanted:
                return last_start, name
            found = _find(keyed, wanted, max(start, 0), last_start)
            if found is not None:
                return found, name
        return None


def _find(keyed: Sequence[str], wanted: list[str], first: int, last: int) -> int | None:
    """First i in [first, last] with keyed[i:i+len(wanted)] == wanted."""
    head = wanted[0]
    width = len(wanted)
    i = first
    as_list = keyed if isinstance(keyed, list) else list(keyed)
    while i <= last:
        try:
            i = as_list.index(head, i, last + 1)
        except ValueError:
            return None
        if as_list[i:i + width] == wanted:
            return i
        i += 1
    return None


def closest_match(lines: Sequence[str], pattern: Sequence[str], start: int = 0) -> int | None:
    """Where `pattern` most nearly occurs (most lines equal after normalisation), for an
    error message that shows the model what the file really says; None if nothing matches."""
    if not pattern or not lines:
        return None
    wanted = [normalise_punctuation(p) for p in pattern]
    keyed = [normalise_punctuation(line) for line in lines]
    best, best_score = None, 0
    budget = 4_000_000  # comparisons; a huge file gets a partial search rather than a stall
    for i in range(0, max(len(lines) - len(pattern), 0) + 1):
        score = sum(1 for a, b in zip(keyed[i:i + len(wanted)], wanted, strict=False) if a == b)
        if score > best_score or (score == best_score and best is not None and best < start <= i):
            best, best_score = i, score
        budget -= len(wanted)
        if budget <= 0:
            break
    return best
