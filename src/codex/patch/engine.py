"""Turn a parsed patch into the exact bytes every touched file will have (no writes).

Planning reads each file once, applies the operations in patch order to an in-memory view
(so a patch may add a file and then update it, or delete one file and move another onto its
name), and records what changed. Every path is checked against the `PathPolicy` before the
file is even read. All problems are collected, so the model can fix them in one round; if
there is any, `PatchFailed` is raised and nothing has been written.

Hunks are looked for after the previous hunk, as in the Codex CLI; one that is not there but
occurs earlier is still applied (models sometimes write hunks out of order), unless it
touches lines another hunk already changed.

As in the Codex CLI, `*** Add File:` over an existing file replaces it (keeping its mode) and
`*** Move to:` onto an existing file replaces that file; the change says so (`overwritten`),
and the replaced path has passed the same path policy as any other write.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from codex.patch.diff import Opcode, opcodes_for_replacements, unified_diff
from codex.patch.matching import LineIndex, closest_match
from codex.patch.parser import AddFile, Chunk, DeleteFile, Patch, UpdateFile
from codex.patch.paths import PathPolicy, PathRefused
from codex.patch.text import TextFile

MAX_EXCERPT_LINES = 12


class PatchFailed(Exception):
    """The patch cannot be applied as a whole; `problems` lists each reason, one per line."""

    def __init__(self, problems: list[str], *, refused: bool = False) -> None:
        self.problems = problems
        self.refused = refused
        head = "patch rejected" if refused else "patch failed to apply"
        super().__init__(f"{head}; no file was changed:\n" + "\n".join(problems))


@dataclass(frozen=True)
class FileChange:
    """One file operation as a front end shows it: kind is added|updated|deleted|moved."""

    kind: str
    path: Path
    move_path: Path | None
    display_path: str
    display_move_path: str | None
    diff: str
    overwritten: bool = False  # an existing file at the (destination) path was replaced

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": str(self.path),
            "move_path": str(self.move_path) if self.move_path else None,
            "diff": self.diff,
            "overwritten": self.overwritten,
        }


@dataclass(frozen=True)
class FinalState:
    """What one path must look like after the commit: `content` None means absent."""

    path: Path
    content: bytes | None
    mode: int | None
    original: bytes | None
    original_mode: int | None
    original_signature: tuple[int, int, int, int] | None = None  # dev, inode, size, mtime


@dataclass
class PatchPlan:
    """Every change the patch makes, computed but not yet written."""

    changes: list[FileChange] = field(default_factory=list)
    finals: dict[Path, FinalState] = field(default_factory=dict)

    def writes(self) -> list[FinalState]:
        """Paths whose bytes or existence change (unchanged files are never rewritten)."""
        return [
            f for f in self.finals.values()
            if f.content != f.original or (f.content is not None and f.mode != f.original_mode)
        ]


@dataclass
class _Entry:
    content: bytes | None
    mode: int | None
    signature: tuple[int, int, int, int] | None = None


class _View:
    """The filesystem as the patch has changed it so far (reads disk on first touch)."""

    def __init__(self) -> None:
        self.entries: dict[Path, _Entry] = {}
        self.originals: dict[Path, _Entry] = {}

    def get(self, path: Path) -> _Entry:
        if path not in self.entries:
            original = _read(path)
            self.originals[path] = original
            self.entries[path] = _Entry(original.content, original.mode)
        return self.entries[path]

    def set(self, path: Path, content: bytes | None, mode: int | None) -> None:
        self.get(path)
        self.entries[path] = _Entry(content, mode)


class _OpError(Exception):
    pass


def _read(path: Path) -> _Entry:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _Entry(None, None)
    except NotADirectoryError:
        raise _OpError(f"{path}: a parent of this path is a file, not a directory") from None
    if stat.S_ISDIR(st.st_mode):
        raise _OpError(f"{path} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise _OpError(f"{path} is not a regular file")
    with open(path, "rb") as handle:
        return _Entry(handle.read(), stat.S_IMODE(st.st_mode), file_signature(st))


def file_signature(st: os.stat_result) -> tuple[int, int, int, int]:
    """What identifies a file's state cheaply: a change means someone else wrote it."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def plan_patch(patch: Patch, policy: PathPolicy) -> PatchPlan:
    """Check every path, then compute every file's new content; raise PatchFailed on any
    refusal or failure (refusals are reported before anything is read)."""
    refusals: list[str] = []
    resolved: dict[str, Path] = {}
    for op in patch.ops:
        for raw in _paths_of(op):
            if raw in resolved:
                continue
            try:
                resolved[raw] = policy.check_write(raw)
            except PathRefused as exc:
                refusals.append(str(exc))
    if refusals:
        raise PatchFailed(list(dict.fromkeys(refusals)), refused=True)

    view = _View()
    plan = PatchPlan()
    problems: list[str] = []
    for op in patch.ops:
        if _removes_source(op) and os.path.islink(policy.resolve(op.path)):
            problems.append(
                f"{op.path} (patch line {op.line}) is a symbolic link to "
                f"{resolved[op.path]}; apply_patch does not delete or move links (edit the "
                "file it points to, or remove the link with a shell command)"
            )
            continue
        try:
            plan.changes.append(_apply_op(op, resolved, view))
        except _OpError as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"{op.path} (patch line {op.line}): {exc.strerror or exc}")
    if problems:
        raise PatchFailed(problems)
    for path, entry in view.entries.items():
        original = view.originals[path]
        plan.finals[path] = FinalState(
            path=path,
            content=entry.content,
            mode=entry.mode,
            original=original.content,
            original_mode=original.mode,
            original_signature=original.signature,
        )
    return plan


def _removes_source(op: AddFile | DeleteFile | UpdateFile) -> bool:
    return isinstance(op, DeleteFile) or (isinstance(op, UpdateFile) and op.move_to is not None)


def _paths_of(op: AddFile | DeleteFile | UpdateFile) -> list[str]:
    if isinstance(op, UpdateFile) and op.move_to is not None:
        return [op.path, op.move_to]
    return [op.path]


def _apply_op(op: AddFile | DeleteFile | UpdateFile, resolved: dict[str, Path],
              view: _View) -> FileChange:
    path = resolved[op.path]
    current = view.get(path)
    if isinstance(op, AddFile):
        _check_parents(path, op.path, op.line)
        content = TextFile.from_lines(list(op.lines)).to_bytes(final_newline=bool(op.lines))
        replaced = current.content
        view.set(path, content, current.mode)
        old_lines = TextFile.from_bytes(replaced).lines if replaced is not None else []
        return _change("added", path, None, op.path, None, _whole(old_lines, list(op.lines)),
                       overwritten=replaced is not None)
    if current.content is None:
        verb = "Delete File" if isinstance(op, DeleteFile) else "Update File"
        raise _OpError(f"{verb} {op.path} (patch line {op.line}): the file does not exist")
    if isinstance(op, DeleteFile):
        view.set(path, None, None)
        old_lines = TextFile.from_bytes(current.content).lines
        return _change("deleted", path, None, op.path, None, _whole(old_lines, []))
    edited = apply_chunks(current.content, op.chunks, op.path)
    if op.move_to is None:
        view.set(path, edited.content, current.mode)
        return _change("updated", path, None, op.path, None, edited)
    target = resolved[op.move_to]
    overwritten = False
    if target != path:
        overwritten = view.get(target).content is not None
        _check_parents(target, op.move_to, op.line)
        view.set(path, None, None)
    view.set(target, edited.content, current.mode)
    return _change("moved", path, target, op.path, op.move_to, edited, overwritten=overwritten)


def _check_parents(path: Path, raw: str, line: int) -> None:
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise _OpError(
                    f"{raw} (patch line {line}): cannot create it because {parent} is not a "
                    "directory"
                )
            return


@dataclass(frozen=True)
class Edited:
    """A file's new bytes, and its lines before/after with the opcodes between them."""

    content: bytes
    old_lines: list[str]
    new_lines: list[str]
    opcodes: list[Opcode]


def apply_chunks(content: bytes, chunks: tuple[Chunk, ...], display_path: str) -> Edited:
    """Apply update hunks to a file's bytes; raise _OpError naming the hunk that failed."""
    text = TextFile.from_bytes(content)
    final_newline = text.ends_with_newline
    lines = text.lines
    finder = LineIndex(lines)
    replacements: list[tuple[int, int, list[tuple[str, str | None]]]] = []
    index = 0
    for number, chunk in enumerate(chunks, 1):
        where = f"Update File {display_path}: hunk {number} (patch line {chunk.line})"
        if chunk.context is not None:
            found = _seek_in_order(finder, [chunk.context], index, at_end=False)
            if found is None:
                raise _OpError(
                    f"{where}: the '@@ {chunk.context}' context line was not found"
                    + _excerpt(lines, [chunk.context], index)
                )
            index = found + 1
        if not chunk.old_lines:
            at = index if chunk.context is not None and not chunk.end_of_file else len(lines)
            _check_overlap(replacements, at, 0, where)
            replacements.append((at, 0, [(t, None) for t in chunk.new_lines]))
            continue
        body = list(chunk.lines)
        old = [t for k, t in body if k != "+"]
        found = _seek_in_order(finder, old, index, at_end=chunk.end_of_file)
        while found is None and len(old) > 1 and body[-1] == (" ", ""):
            # Blank lines a model left at the end of a hunk are separators, not content.
            body.pop()
            old = [t for k, t in body if k != "+"]
            found = _seek_in_order(finder, old, index, at_end=chunk.end_of_file)
        if found is None:
            raise _OpError(
                f"{where}: these lines were not found"
                + _excerpt(lines, list(chunk.old_lines), index)
            )
        _check_overlap(replacements, found, len(old), where)
        replacements.append((found, len(old), _merge(body, text, found)))
        index = max(index, found + len(old))
    # Same start: a later hunk's lines go after an earlier hunk's insertion.
    ordered = [r for _, r in sorted(enumerate(replacements), key=lambda p: (p[1][0], p[0]))]
    old_lines = list(lines)
    opcodes = opcodes_for_replacements(
        old_lines, [(start, count, [t for t, _ in new]) for start, count, new in ordered])
    for start, count, new_lines in reversed(ordered):
        text.replace(start, count, new_lines)
    return Edited(text.to_bytes(final_newline=final_newline or not content), old_lines,
                  list(text.lines), opcodes)


def _seek_in_order(finder: LineIndex, pattern: list[str], index: int, *,
                   at_end: bool) -> int | None:
    """Where `pattern` is, preferring after the previous hunk (`index`); a model that wrote
    hunks out of order still gets them applied when each has one unambiguous place."""
    found = finder.seek(pattern, index, at_end=at_end)
    if found is None and index > 0:
        found = finder.seek(pattern, 0, at_end=at_end)
    return None if found is None else found[0]


def _check_overlap(replacements: list[tuple[int, int, list[tuple[str, str | None]]]],
                   start: int, count: int, where: str) -> None:
    for other, (other_start, other_count, _) in enumerate(replacements, 1):
        overlaps = (start < other_start + other_count and other_start < start + count
                    if count else other_start < start < other_start + other_count)
        if overlaps:
            raise _OpError(f"{where}: it changes lines that hunk {other} already changes "
                           f"(line {start + 1}); merge the two hunks")


def _merge(body: list[tuple[str, str]], text: TextFile,
           start: int) -> list[tuple[str, str | None]]:
    """The hunk's replacement lines; context lines keep the file's own text and ending (a
    fuzzy match must not rewrite the lines it only matched against)."""
    merged: list[tuple[str, str | None]] = []
    position = start
    for kind, line in body:
        if kind == " ":
            merged.append((text.lines[position], text.endings[position]))
            position += 1
        elif kind == "-":
            position += 1
        else:
            merged.append((line, None))
    return merged


def _excerpt(lines: list[str], pattern: list[str], start: int) -> str:
    shown = pattern[:MAX_EXCERPT_LINES]
    out = ["", "  expected:"]
    out += [f"    |{line}" for line in shown]
    if len(pattern) > len(shown):
        out.append(f"    ... ({len(pattern) - len(shown)} more lines)")
    best = closest_match(lines, pattern, start)
    if best is None:
        out.append("  nothing similar is in the file; re-read it before patching")
    else:
        end = min(best + max(len(pattern), 1), len(lines), best + MAX_EXCERPT_LINES)
        out.append(f"  closest text in the file (lines {best + 1}-{end}):")
        out += [f"    {n + 1:>5}|{lines[n]}" for n in range(best, end)]
    return "\n".join(out)


def _whole(old_lines: list[str], new_lines: list[str]) -> Edited:
    """A whole file added, deleted or replaced, as an edit."""
    tag = "replace" if old_lines and new_lines else "insert" if not old_lines else "delete"
    if not old_lines and not new_lines:
        tag = "equal"
    return Edited(b"", old_lines, new_lines,
                  [(tag, 0, len(old_lines), 0, len(new_lines))])


def _change(kind: str, path: Path, move_path: Path | None, display: str,
            display_move: str | None, edited: Edited, *, overwritten: bool = False) -> FileChange:
    old_name = "/dev/null" if kind == "added" and not overwritten else f"a/{display}"
    new_name = "/dev/null" if kind == "deleted" else f"b/{display_move or display}"
    diff = unified_diff(edited.old_lines, edited.new_lines, edited.opcodes, old_name, new_name)
    return FileChange(kind, path, move_path, display, display_move, diff, overwritten)
