"""A text file as lines plus the line endings it came with, so an edit keeps its conventions.

Each line keeps its own ending: a patch that touches line 10 of a CRLF file (or of a file
with mixed endings) changes no other line's bytes. New lines take the file's dominant ending.
A file without a final newline keeps lacking one; a UTF-8 byte-order mark is kept. Bytes that
are not UTF-8 survive unchanged through `surrogateescape`.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = "\ufeff"


@dataclass
class TextFile:
    """Decoded file content split into `lines` with per-line `endings` ("" for the last line
    when the file does not end with a newline; None for lines a patch inserted)."""

    lines: list[str]
    endings: list[str | None]
    newline: str
    bom: bool

    @classmethod
    def from_bytes(cls, data: bytes) -> TextFile:
        text = data.decode("utf-8", errors="surrogateescape")
        bom = text.startswith(_BOM)
        if bom:
            text = text[1:]
        pieces = text.split("\n")
        last = pieces.pop()  # after the final "\n" ("" when the file ends with one)
        lines: list[str] = []
        endings: list[str | None] = []
        for piece in pieces:
            if piece.endswith("\r"):
                lines.append(piece[:-1])
                endings.append("\r\n")
            else:
                lines.append(piece)
                endings.append("\n")
        if last:
            lines.append(last)
            endings.append("")
        crlf = text.count("\r\n")
        newline = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
        return cls(lines=lines, endings=endings, newline=newline, bom=bom)

    @classmethod
    def from_lines(cls, lines: list[str]) -> TextFile:
        """A new file (Add File): LF endings and a final newline."""
        return cls(lines=list(lines), endings=[None] * len(lines), newline="\n", bom=False)

    @property
    def ends_with_newline(self) -> bool:
        """True for an empty file too: whatever is added to it should end with a newline."""
        return not self.endings or self.endings[-1] != ""

    def replace(self, start: int, count: int, new_lines: list[tuple[str, str | None]]) -> None:
        """Replace `count` lines at `start` with (text, ending) pairs; a None ending is
        chosen on encode."""
        self.lines[start:start + count] = [text for text, _ in new_lines]
        self.endings[start:start + count] = [ending for _, ending in new_lines]

    def to_bytes(self, *, final_newline: bool) -> bytes:
        """Encode with each line's own ending, the dominant one for new lines, and a final
        newline exactly when `final_newline` (the caller passes the original convention)."""
        parts: list[str] = [_BOM] if self.bom else []
        last = len(self.lines) - 1
        for i, (line, ending) in enumerate(zip(self.lines, self.endings, strict=True)):
            parts.append(line)
            if i == last:
                if final_newline:
                    parts.append(ending or self.newline)
            else:
                parts.append(ending or self.newline)
        return "".join(parts).encode("utf-8", errors="surrogateescape")
