"""Parse the Codex apply_patch format into file operations (no filesystem access).

The grammar the model is given (see `codex.tools.specs.APPLY_PATCH_LARK_GRAMMAR`)::

    *** Begin Patch
    *** Add File: <path>          followed by `+` lines (the new file's content)
    *** Delete File: <path>
    *** Update File: <path>       optionally followed by `*** Move to: <path>`, then hunks:
    @@ [context line]             narrows where the hunk applies
     context / -removed / +added  one line each
    *** End of File               the hunk's lines end the file
    *** End Patch

Models do not always emit it byte-exact, so the parser accepts what a human reader would:
a heredoc wrapper (`apply_patch <<'EOF'` ... `EOF`), markers padded with whitespace, CRLF
patch text, blank lines between sections, a first hunk without `@@`, unified-diff style
`@@ -1,3 +1,4 @@ ctx` headers, and empty lines inside a hunk (read as empty context lines).
Inside a hunk a line that starts with a space is always context, even if it looks like a
marker (file content may well contain `*** Add File:`), so markers there must not be
indented; trailing whitespace is fine everywhere.
Anything else is a `PatchParseError` that names the patch line and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BEGIN_PATCH = "*** Begin Patch"
END_PATCH = "*** End Patch"
ADD_FILE = "*** Add File:"
DELETE_FILE = "*** Delete File:"
UPDATE_FILE = "*** Update File:"
MOVE_TO = "*** Move to:"
END_OF_FILE = "*** End of File"

_HEREDOC_START = re.compile(
    r"""^\s*(?:(?:apply_patch|applypatch)\s*)?<<-?\s*(?P<q>['"]?)(?P<tag>[A-Za-z_][\w.-]*)(?P=q)\s*$"""
)
_UNIFIED_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(?P<ctx>.*)$")


class PatchParseError(ValueError):
    """The patch text is not in the apply_patch format; `line` is 1-based in the patch."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        where = f"patch line {line}: " if line is not None else ""
        super().__init__(f"invalid patch: {where}{message}")


@dataclass(frozen=True)
class Chunk:
    """One `@@` hunk: replace `old_lines` (found after `context`) with `new_lines`."""

    context: str | None
    lines: tuple[tuple[str, str], ...]  # (" " | "-" | "+", text) in patch order
    end_of_file: bool
    line: int  # patch line where the hunk starts, for error messages

    @property
    def old_lines(self) -> tuple[str, ...]:
        return tuple(text for kind, text in self.lines if kind != "+")

    @property
    def new_lines(self) -> tuple[str, ...]:
        return tuple(text for kind, text in self.lines if kind != "-")


@dataclass(frozen=True)
class AddFile:
    path: str
    lines: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class DeleteFile:
    path: str
    line: int


@dataclass(frozen=True)
class UpdateFile:
    path: str
    move_to: str | None
    chunks: tuple[Chunk, ...]
    line: int


FileOp = AddFile | DeleteFile | UpdateFile


@dataclass(frozen=True)
class Patch:
    """A parsed patch: the file operations in the order they were written."""

    ops: tuple[FileOp, ...]
    text: str = field(repr=False, default="")


def strip_heredoc(text: str) -> str:
    """Remove a shell heredoc wrapper (`apply_patch <<'EOF'` ... `EOF`) if there is one."""
    return _split_heredoc(text)[0]


def _split_heredoc(text: str) -> tuple[str, int]:
    """(text without a heredoc wrapper, number of patch lines the wrapper took before it)."""
    stripped = text.strip()
    lines = stripped.split("\n")
    if len(lines) >= 2:
        start = _HEREDOC_START.match(lines[0])
        if start and lines[-1].strip() == start.group("tag"):
            leading = text[: len(text) - len(text.lstrip())].count("\n")
            return "\n".join(lines[1:-1]), leading + 1
    return text, 0


def _marker_value(line: str, marker: str) -> str | None:
    """The text after `marker` when `line` (padded or not) starts with it."""
    stripped = line.strip()
    if stripped.startswith(marker):
        return stripped[len(marker):].strip()
    return None


def _is_file_header(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith((ADD_FILE, DELETE_FILE, UPDATE_FILE)) or stripped == END_PATCH


class _Reader:
    """A cursor over patch lines that remembers original 1-based line numbers."""

    def __init__(self, lines: list[str], first_line_number: int) -> None:
        self.lines = lines
        self.pos = 0
        self.base = first_line_number

    def done(self) -> bool:
        return self.pos >= len(self.lines)

    def peek(self) -> str:
        return self.lines[self.pos]

    def line_number(self) -> int:
        return self.base + self.pos

    def take(self) -> str:
        line = self.lines[self.pos]
        self.pos += 1
        return line


def parse_patch(text: str) -> Patch:
    """Parse patch text (lenient as described in the module docstring)."""
    normalised = text.replace("\r\n", "\n")  # a lone CR is content, not a line break
    body, offset = _split_heredoc(normalised)
    all_lines = body.split("\n")
    # Locate the envelope: first and last non-blank lines.
    first = next((i for i, line in enumerate(all_lines) if line.strip()), None)
    if first is None:
        raise PatchParseError("the patch is empty; it must start with '*** Begin Patch'")
    last = max(i for i, line in enumerate(all_lines) if line.strip())
    if all_lines[first].strip() != BEGIN_PATCH:
        raise PatchParseError(
            f"the first line must be '{BEGIN_PATCH}', got {all_lines[first].strip()[:80]!r}",
            offset + first + 1,
        )
    if last == first or all_lines[last].strip() != END_PATCH:
        raise PatchParseError(
            f"the last line must be '{END_PATCH}', got {all_lines[last].strip()[:80]!r}",
            offset + last + 1,
        )
    reader = _Reader(all_lines[first + 1:last], offset + first + 2)
    ops: list[FileOp] = []
    while not reader.done():
        line = reader.peek()
        if not line.strip():
            reader.take()
            continue
        ops.append(_parse_file_op(reader))
    if not ops:
        raise PatchParseError("the patch contains no file operations")
    return Patch(ops=tuple(ops), text=text)


def _parse_file_op(reader: _Reader) -> FileOp:
    number = reader.line_number()
    header = reader.take()
    if (path := _marker_value(header, ADD_FILE)) is not None:
        _require_path(path, "Add File", number)
        lines = _parse_add_lines(reader)
        if not reader.done() and reader.peek().strip() and not _is_file_header(reader.peek()):
            raise PatchParseError(
                f"unexpected line {reader.peek()[:80]!r} in '*** Add File: {path}': every line "
                "of an added file starts with '+'",
                reader.line_number(),
            )
        return AddFile(path=path, lines=lines, line=number)
    if (path := _marker_value(header, DELETE_FILE)) is not None:
        _require_path(path, "Delete File", number)
        return DeleteFile(path=path, line=number)
    if (path := _marker_value(header, UPDATE_FILE)) is not None:
        _require_path(path, "Update File", number)
        return _parse_update(reader, path, number)
    raise PatchParseError(
        f"{header.strip()[:80]!r} is not a file operation; expected '*** Add File: <path>', "
        "'*** Delete File: <path>' or '*** Update File: <path>'",
        number,
    )


def _require_path(path: str, what: str, line: int) -> None:
    if not path:
        raise PatchParseError(f"'*** {what}:' needs a path", line)


def _parse_add_lines(reader: _Reader) -> tuple[str, ...]:
    lines: list[str] = []
    while not reader.done():
        line = reader.peek()
        if line.startswith("+"):
            lines.append(reader.take()[1:])
        elif not line.strip() and _more_add_lines_follow(reader):
            # A model dropped the `+` of an empty line in the middle of the file.
            reader.take()
            lines.append("")
        else:
            break
    return tuple(lines)


def _more_add_lines_follow(reader: _Reader) -> bool:
    for line in reader.lines[reader.pos:]:
        if line.strip():
            return line.startswith("+")
    return False


def _parse_update(reader: _Reader, path: str, number: int) -> UpdateFile:
    move_to: str | None = None
    if not reader.done() and (target := _marker_value(reader.peek(), MOVE_TO)) is not None:
        _require_path(target, "Move to", reader.line_number())
        reader.take()
        move_to = target
    chunks: list[Chunk] = []
    while not reader.done():
        line = reader.peek()
        # A blank line between hunks is skipped, but one that starts with a space is an empty
        # context line (the grammar's `" " /(.*)/ LF`) and starts a hunk.
        if not line.strip() and not line.startswith(" "):
            reader.take()
            continue
        if _is_file_header(line):
            break
        if line.lstrip().startswith("***") and line.strip() != END_OF_FILE:
            raise PatchParseError(
                f"unknown marker {line.strip()[:80]!r} in the update of {path}",
                reader.line_number(),
            )
        chunks.append(_parse_chunk(reader, path))
    if not chunks and move_to is None:
        raise PatchParseError(f"'*** Update File: {path}' has no hunks", number)
    return UpdateFile(path=path, move_to=move_to, chunks=tuple(chunks), line=number)


def _chunk_header(line: str) -> tuple[bool, str | None]:
    """(is a header, context) for `@@`, `@@ ctx` and unified-diff `@@ -a,b +c,d @@ ctx`."""
    stripped = line.strip()
    if stripped == "@@":
        return True, None
    unified = _UNIFIED_HUNK_HEADER.match(stripped)
    if unified:
        ctx = unified.group("ctx").strip()
        return True, ctx or None
    if line.startswith("@@ "):
        ctx = line[3:].strip()
        return True, ctx or None
    return False, None


def _parse_chunk(reader: _Reader, path: str) -> Chunk:
    start = reader.line_number()
    is_header, context = _chunk_header(reader.peek())
    if is_header:
        reader.take()  # only the first hunk may omit it: the others start at an `@@`
    body: list[tuple[str, str]] = []
    end_of_file = False
    while not reader.done():
        line = reader.peek()
        kind, content = (line[:1], line[1:]) if line else (" ", "")
        if kind in (" ", "-", "+"):
            body.append((kind, content))
        elif line.strip() == END_OF_FILE:
            reader.take()
            end_of_file = True
            break
        elif _is_file_header(line) or _chunk_header(line)[0] or line.lstrip().startswith("***"):
            break
        else:
            raise PatchParseError(
                f"unexpected line {line[:80]!r} in a hunk of {path}: every hunk line starts "
                "with ' ' (context), '-' (removed) or '+' (added)",
                reader.line_number(),
            )
        reader.take()
    if not body:
        raise PatchParseError(f"a hunk of {path} has no lines", start)
    return Chunk(
        context=context,
        lines=tuple(body),
        end_of_file=end_of_file,
        line=start,
    )
