"""Property tests: the parser never crashes, and a patch made from an edit reproduces it."""

from __future__ import annotations

import contextlib
import difflib
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from patch_helpers import policy_for

from codex.patch import PatchFailed, PatchParseError, apply_patch, parse_patch, preview_patch

_FUZZ = settings(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])

_MARKERS = ["*** Begin Patch", "*** End Patch", "*** Add File: a.txt", "*** Delete File: a.txt",
            "*** Update File: a.txt", "*** Move to: b.txt", "*** End of File", "@@", "@@ ctx",
            "@@ -1,2 +1,2 @@", "<<'EOF'", "EOF", "apply_patch <<EOF", "", " ", "+", "-", " x",
            "+y", "-z", "\r", "\t*** End Patch"]


@_FUZZ
@given(st.lists(st.one_of(st.sampled_from(_MARKERS), st.text(max_size=20)), max_size=30))
def test_parser_never_crashes_on_marker_soup(lines: list[str]) -> None:
    with contextlib.suppress(PatchParseError):
        parse_patch("\n".join(lines))


@_FUZZ
@given(st.text(max_size=400))
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    with contextlib.suppress(PatchParseError):
        parse_patch(text)


@_FUZZ
@given(st.lists(st.one_of(st.sampled_from(_MARKERS), st.text(max_size=12)), max_size=25),
       st.binary(max_size=200))
def test_planning_never_crashes(lines: list[str], content: bytes) -> None:
    """Parsed patches against a real file: only the documented errors come out."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "a.txt").write_bytes(content)
        with contextlib.suppress(PatchParseError, PatchFailed):
            preview_patch("\n".join(["*** Begin Patch", *lines, "*** End Patch"]),
                          policy_for(ws))


_LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                       blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85"
                                                            "\u2028\u2029\ufeff"),
                max_size=12)


def _patch_from_edit(name: str, old: list[str], new: list[str]) -> str:
    """An apply_patch Update section built from difflib's grouped opcodes (3 lines context)."""
    out = ["*** Begin Patch", f"*** Update File: {name}"]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        out.append("@@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in old[i1:i2]]
            else:
                out += ["-" + line for line in old[i1:i2]]
                out += ["+" + line for line in new[j1:j2]]
    out.append("*** End Patch")
    return "\n".join(out) + "\n"


@settings(max_examples=200, deadline=None)
@given(
    old=st.lists(_LINE, min_size=1, max_size=30, unique=True),
    data=st.data(),
    crlf=st.booleans(),
    final_newline=st.booleans(),
)
def test_patch_generated_from_an_edit_reproduces_it(
        old: list[str], data: st.DataObject, crlf: bool, final_newline: bool) -> None:
    """Lines are unique so every hunk has exactly one place to go."""
    start = data.draw(st.integers(0, len(old)))
    end = data.draw(st.integers(start, len(old)))
    used = set(old)
    inserted = data.draw(st.lists(_LINE.filter(lambda s: s not in used), max_size=5,
                                  unique=True))
    new = old[:start] + inserted + old[end:]
    # A last line that is empty with no newline after it is not a line at all on disk.
    assume(new != old and new and (final_newline or (old[-1] and new[-1])))
    # A file without any line ending gives no hint of its convention: new lines get LF.
    has_eol = len(old) > 1 or final_newline
    eol = "\r\n" if crlf else "\n"
    new_eol = eol if has_eol else "\n"

    def encode(lines: list[str], sep: str) -> bytes:
        body = sep.join(lines) + (sep if final_newline else "")
        return body.encode("utf-8")

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "f.txt").write_bytes(encode(old, eol))
        result = apply_patch(_patch_from_edit("f.txt", old, new), policy_for(ws))
        assert (ws / "f.txt").read_bytes() == encode(new, new_eol)
        assert _apply_unified_diff(old, result.changes[0].diff) == new


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")


def _apply_unified_diff(old: list[str], diff: str) -> list[str]:
    """Replay a unified diff on `old`, checking every context and removed line and every
    hunk header count: the diff shown to users must be exactly what happened."""
    lines = diff.split("\n")[:-1]
    assert lines[0] == "--- a/f.txt" and lines[1] == "+++ b/f.txt"
    out: list[str] = []
    position = 0
    i = 2
    while i < len(lines):
        header = _HUNK.match(lines[i])
        assert header, lines[i]
        old_start, old_len = int(header.group(1)), int(header.group(2) or 1)
        new_len = int(header.group(4) or 1)
        start = old_start - 1 if old_len else old_start
        out += old[position:start]
        position = start
        i += 1
        seen_old = seen_new = 0
        while i < len(lines) and not lines[i].startswith("@@ "):
            tag, text = lines[i][0], lines[i][1:]
            if tag in " -":
                assert old[position] == text
                position += 1
                seen_old += 1
            if tag in " +":
                out.append(text)
                seen_new += 1
            i += 1
        assert (seen_old, seen_new) == (old_len, new_len)
    return out + old[position:]
