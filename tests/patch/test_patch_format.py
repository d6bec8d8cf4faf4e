"""Every feature of the apply_patch format, judged by the bytes on disk afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from patch_helpers import envelope

from codex.patch import PatchFailed, PatchParseError, PathPolicy, apply_patch, parse_patch
from codex.patch.parser import AddFile, DeleteFile, UpdateFile


def test_add_file_creates_parents_and_ends_with_newline(ws: Path, policy: PathPolicy) -> None:
    result = apply_patch(envelope("*** Add File: src/pkg/new.py", "+x = 1", "+", "+y = 2"),
                         policy)
    assert (ws / "src/pkg/new.py").read_bytes() == b"x = 1\n\ny = 2\n"
    assert [(c.kind, c.display_path) for c in result.changes] == [("added", "src/pkg/new.py")]
    assert result.summary() == "Success. Updated the following files:\nA src/pkg/new.py"
    assert "+x = 1" in result.changes[0].diff


def test_add_empty_file(ws: Path, policy: PathPolicy) -> None:
    apply_patch(envelope("*** Add File: empty.txt"), policy)
    assert (ws / "empty.txt").read_bytes() == b""


def test_delete_file(ws: Path, policy: PathPolicy) -> None:
    (ws / "old.txt").write_text("bye\n")
    result = apply_patch(envelope("*** Delete File: old.txt"), policy)
    assert not (ws / "old.txt").exists()
    assert result.changes[0].kind == "deleted"
    assert "-bye" in result.changes[0].diff


def test_update_with_context_header_picks_the_right_occurrence(
        ws: Path, policy: PathPolicy) -> None:
    (ws / "m.py").write_text(
        "def a():\n    return 1\n\n\ndef b():\n    return 1\n"
    )
    apply_patch(envelope("*** Update File: m.py", "@@ def b():", "-    return 1",
                         "+    return 2"), policy)
    assert (ws / "m.py").read_text() == "def a():\n    return 1\n\n\ndef b():\n    return 2\n"


def test_multiple_hunks_apply_in_order(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("".join(f"line{i}\n" for i in range(1, 11)))
    apply_patch(envelope(
        "*** Update File: f.txt",
        "@@",
        " line2",
        "-line3",
        "+LINE3",
        " line4",
        "@@",
        " line8",
        "-line9",
        "+LINE9",
        "+extra",
    ), policy)
    expected = [f"line{i}" for i in range(1, 11)]
    expected[2] = "LINE3"
    expected[8] = "LINE9"
    expected.insert(9, "extra")
    assert (ws / "f.txt").read_text() == "\n".join(expected) + "\n"


def test_hunks_out_of_order_still_apply(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\nb\nc\nd\ne\n")
    apply_patch(envelope("*** Update File: f.txt", "@@", " d", "-e", "+E", "@@", " a", "-b",
                         "+B"), policy)
    assert (ws / "f.txt").read_text() == "a\nB\nc\nd\nE\n"


def test_overlapping_hunks_are_an_error(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\nb\nc\n")
    with pytest.raises(PatchFailed, match=r"hunk 2 .*changes lines that hunk 1 already changes"):
        apply_patch(envelope("*** Update File: f.txt", "@@", " a", "-b", "+B", "@@", "-b",
                             "+X"), policy)
    assert (ws / "f.txt").read_text() == "a\nb\nc\n"


def test_two_appends_keep_their_order(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\n")
    apply_patch(envelope("*** Update File: f.txt", "@@", "+first", "@@", "+second"), policy)
    assert (ws / "f.txt").read_text() == "a\nfirst\nsecond\n"


def test_first_hunk_without_at_at(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.py").write_text("import foo\n")
    apply_patch(envelope("*** Update File: f.py", " import foo", "+import bar"), policy)
    assert (ws / "f.py").read_text() == "import foo\nimport bar\n"


def test_move_to_new_directory_keeps_mode(ws: Path, policy: PathPolicy) -> None:
    source = ws / "old" / "name.sh"
    source.parent.mkdir()
    source.write_text("echo one\n")
    source.chmod(0o751)
    result = apply_patch(envelope("*** Update File: old/name.sh", "*** Move to: new/dir/name.sh",
                                  "@@", "-echo one", "+echo two"), policy)
    target = ws / "new/dir/name.sh"
    assert not source.exists()
    assert target.read_text() == "echo two\n"
    assert target.stat().st_mode & 0o777 == 0o751
    assert result.changes[0].kind == "moved"
    assert result.summary().endswith("M new/dir/name.sh")


def test_pure_rename_without_hunks(ws: Path, policy: PathPolicy) -> None:
    (ws / "a.txt").write_text("same\n")
    apply_patch(envelope("*** Update File: a.txt", "*** Move to: b.txt"), policy)
    assert not (ws / "a.txt").exists()
    assert (ws / "b.txt").read_text() == "same\n"


def test_delete_then_move_onto_its_name_in_one_patch(ws: Path, policy: PathPolicy) -> None:
    (ws / "a.txt").write_text("a\n")
    (ws / "b.txt").write_text("b\n")
    apply_patch(envelope("*** Delete File: b.txt", "*** Update File: a.txt",
                         "*** Move to: b.txt", "@@", "-a", "+A"), policy)
    assert not (ws / "a.txt").exists()
    assert (ws / "b.txt").read_text() == "A\n"


def test_add_then_update_same_file_in_one_patch(ws: Path, policy: PathPolicy) -> None:
    apply_patch(envelope("*** Add File: n.txt", "+one", "*** Update File: n.txt", "@@",
                         "-one", "+two"), policy)
    assert (ws / "n.txt").read_text() == "two\n"


def test_update_and_delete_of_missing_file_fail(ws: Path, policy: PathPolicy) -> None:
    with pytest.raises(PatchFailed) as info:
        apply_patch(envelope("*** Update File: nope.txt", "@@", "-a", "+b",
                             "*** Delete File: gone.txt"), policy)
    assert len(info.value.problems) == 2
    assert "nope.txt" in info.value.problems[0] and "does not exist" in info.value.problems[0]
    assert "gone.txt" in info.value.problems[1]


def test_delete_directory_fails(ws: Path, policy: PathPolicy) -> None:
    (ws / "d").mkdir()
    with pytest.raises(PatchFailed, match="is a directory"):
        apply_patch(envelope("*** Delete File: d"), policy)
    assert (ws / "d").is_dir()


def test_end_of_file_anchors_at_the_end(ws: Path, policy: PathPolicy) -> None:
    (ws / "t.txt").write_text("x\nend\nx\nend\n")
    apply_patch(envelope("*** Update File: t.txt", "@@", " x", "-end", "+END",
                         "*** End of File"), policy)
    assert (ws / "t.txt").read_text() == "x\nend\nx\nEND\n"


def test_pure_addition_with_end_of_file_appends(ws: Path, policy: PathPolicy) -> None:
    (ws / "t.txt").write_text("a\nb\n")
    apply_patch(envelope("*** Update File: t.txt", "@@", "+c", "*** End of File"), policy)
    assert (ws / "t.txt").read_text() == "a\nb\nc\n"


def test_pure_addition_after_context_header(ws: Path, policy: PathPolicy) -> None:
    (ws / "c.py").write_text("class A:\n    x = 1\nclass B:\n    y = 2\n")
    apply_patch(envelope("*** Update File: c.py", "@@ class A:", "+    added = 0"), policy)
    assert (ws / "c.py").read_text() == (
        "class A:\n    added = 0\n    x = 1\nclass B:\n    y = 2\n"
    )


def test_deletion_only_hunk(ws: Path, policy: PathPolicy) -> None:
    (ws / "l.txt").write_text("keep\ndrop1\ndrop2\nkeep2\n")
    apply_patch(envelope("*** Update File: l.txt", "@@", " keep", "-drop1", "-drop2"), policy)
    assert (ws / "l.txt").read_text() == "keep\nkeep2\n"


# --- newlines ---------------------------------------------------------------------------

def test_crlf_file_stays_crlf(ws: Path, policy: PathPolicy) -> None:
    (ws / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    apply_patch(envelope("*** Update File: w.txt", "@@", " one", "-two", "+TWO", "+2.5"),
                policy)
    assert (ws / "w.txt").read_bytes() == b"one\r\nTWO\r\n2.5\r\nthree\r\n"


def test_crlf_patch_text_applies_to_lf_file(ws: Path, policy: PathPolicy) -> None:
    (ws / "u.txt").write_bytes(b"a\nb\n")
    text = envelope("*** Update File: u.txt", "@@", " a", "-b", "+B").replace("\n", "\r\n")
    apply_patch(text, policy)
    assert (ws / "u.txt").read_bytes() == b"a\nB\n"


def test_lone_carriage_return_is_content(ws: Path, policy: PathPolicy) -> None:
    (ws / "r.txt").write_bytes(b"progress\r50%\nend\n")
    apply_patch(envelope("*** Update File: r.txt", "@@", " progress\r50%", "-end", "+END"),
                policy)
    assert (ws / "r.txt").read_bytes() == b"progress\r50%\nEND\n"


def test_mixed_endings_only_touched_lines_change(ws: Path, policy: PathPolicy) -> None:
    (ws / "m.txt").write_bytes(b"a\r\nb\nc\r\nd\r\n")
    apply_patch(envelope("*** Update File: m.txt", "@@", " c", "-d", "+D"), policy)
    assert (ws / "m.txt").read_bytes() == b"a\r\nb\nc\r\nD\r\n"


def test_missing_trailing_newline_is_preserved(ws: Path, policy: PathPolicy) -> None:
    (ws / "n.txt").write_bytes(b"a\nb")
    apply_patch(envelope("*** Update File: n.txt", "@@", " a", "-b", "+B"), policy)
    assert (ws / "n.txt").read_bytes() == b"a\nB"


def test_missing_trailing_newline_preserved_when_appending(ws: Path, policy: PathPolicy) -> None:
    (ws / "n.txt").write_bytes(b"a\nb")
    apply_patch(envelope("*** Update File: n.txt", "@@", " b", "+c", "*** End of File"), policy)
    assert (ws / "n.txt").read_bytes() == b"a\nb\nc"


def test_trailing_newline_preserved(ws: Path, policy: PathPolicy) -> None:
    (ws / "n.txt").write_bytes(b"a\nb\n")
    apply_patch(envelope("*** Update File: n.txt", "@@", "-a", "+A"), policy)
    assert (ws / "n.txt").read_bytes() == b"A\nb\n"


def test_non_utf8_bytes_elsewhere_survive(ws: Path, policy: PathPolicy) -> None:
    (ws / "bin.txt").write_bytes(b"\xff\xfe latin\nchange me\n")
    result = apply_patch(envelope("*** Update File: bin.txt", "@@", "-change me", "+changed"),
                         policy)
    assert (ws / "bin.txt").read_bytes() == b"\xff\xfe latin\nchanged\n"
    assert " \ufffd\ufffd latin\n-change me\n+changed" in result.changes[0].diff
    result.changes[0].diff.encode("utf-8")  # printable


def test_bom_is_kept(ws: Path, policy: PathPolicy) -> None:
    (ws / "b.txt").write_bytes(b"\xef\xbb\xbffirst\nsecond\n")
    apply_patch(envelope("*** Update File: b.txt", "@@", " first", "-second", "+2nd"), policy)
    assert (ws / "b.txt").read_bytes() == b"\xef\xbb\xbffirst\n2nd\n"


# --- context matching passes -----------------------------------------------------------

def test_match_ignoring_trailing_whitespace(ws: Path, policy: PathPolicy) -> None:
    (ws / "s.txt").write_text("alpha   \nbeta\t\n")
    apply_patch(envelope("*** Update File: s.txt", "@@", " alpha", "-beta", "+BETA"), policy)
    assert (ws / "s.txt").read_text() == "alpha   \nBETA\n"


def test_match_ignoring_indentation(ws: Path, policy: PathPolicy) -> None:
    (ws / "s.py").write_text("def f():\n        return 1\n")
    apply_patch(envelope("*** Update File: s.py", "@@", " def f():", "-    return 1",
                         "+    return 2"), policy)
    assert (ws / "s.py").read_text() == "def f():\n    return 2\n"


def test_match_with_unicode_punctuation_normalised(ws: Path, policy: PathPolicy) -> None:
    (ws / "u.txt").write_text("say \u201chello\u201d \u2014 it\u2019s\u00a0fine\nnext\n")
    apply_patch(envelope("*** Update File: u.txt", "@@", " say \"hello\" - it's fine",
                         "-next", "+NEXT"), policy)
    assert (ws / "u.txt").read_text() == "say \u201chello\u201d \u2014 it\u2019s\u00a0fine\nNEXT\n"


def test_exact_match_is_preferred_over_fuzzy(ws: Path, policy: PathPolicy) -> None:
    (ws / "p.txt").write_text("  x\nx\n")
    apply_patch(envelope("*** Update File: p.txt", "@@", "-x", "+y"), policy)
    assert (ws / "p.txt").read_text() == "  x\ny\n"


def test_failed_hunk_names_file_hunk_and_shows_closest_text(
        ws: Path, policy: PathPolicy) -> None:
    (ws / "code.py").write_text("def f():\n    return compute(1, 2)\n")
    with pytest.raises(PatchFailed) as info:
        apply_patch(envelope("*** Update File: code.py", "@@", " def f():",
                             "-    return compute(1, 3)", "+    return 0"), policy)
    message = str(info.value)
    assert "code.py" in message and "hunk 1" in message and "patch line 3" in message
    assert "expected:" in message and "|    return compute(1, 3)" in message
    assert "closest text in the file (lines 1-2)" in message
    assert "2|    return compute(1, 2)" in message
    assert "no file was changed" in message


def test_missing_context_header_is_reported(ws: Path, policy: PathPolicy) -> None:
    (ws / "c.py").write_text("a\n")
    with pytest.raises(PatchFailed, match=r"'@@ def nothere\(\):' context line was not found"):
        apply_patch(envelope("*** Update File: c.py", "@@ def nothere():", "-a", "+b"), policy)


# --- leniency -------------------------------------------------------------------------

@pytest.mark.parametrize("opener", ["<<'EOF'", "<<EOF", '<<"EOF"', "apply_patch <<'EOF'",
                                    "apply_patch <<'PATCH'"])
def test_heredoc_wrappers_are_stripped(ws: Path, policy: PathPolicy, opener: str) -> None:
    tag = opener.split("<<")[1].strip("'\"")
    text = f"{opener}\n" + envelope("*** Add File: h.txt", "+hi") + f"{tag}\n"
    apply_patch(text, policy)
    assert (ws / "h.txt").read_text() == "hi\n"


def test_padded_markers(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\n")
    text = ("  *** Begin Patch  \n   *** Update File: f.txt  \n@@\n-a\n+b\n"
            "*** Add File: g.txt \n+g\n   *** Delete File: h.txt\n *** End Patch \n\n")
    (ws / "h.txt").write_text("h\n")
    apply_patch(text, policy)
    assert (ws / "f.txt").read_text() == "b\n"
    assert (ws / "g.txt").read_text() == "g\n"
    assert not (ws / "h.txt").exists()


def test_marker_lookalike_context_line_is_content(ws: Path, policy: PathPolicy) -> None:
    (ws / "doc.md").write_text("Example:\n*** Add File: x\nend\n")
    apply_patch(envelope("*** Update File: doc.md", "@@", " Example:", " *** Add File: x",
                         "-end", "+END"), policy)
    assert (ws / "doc.md").read_text() == "Example:\n*** Add File: x\nEND\n"


def test_padded_hunk_header_and_blank_lines_between_sections(
        ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\nb\n")
    text = envelope("", "*** Update File: f.txt", "@@   ", " a", "-b", "+B", "",
                    "", "*** Add File: z.txt", "+z", "")
    apply_patch(text, policy)
    assert (ws / "f.txt").read_text() == "a\nB\n"


def test_unified_diff_style_hunk_header(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\nb\n")
    apply_patch(envelope("*** Update File: f.txt", "@@ -1,2 +1,2 @@", " a", "-b", "+B"), policy)
    assert (ws / "f.txt").read_text() == "a\nB\n"


def test_empty_line_inside_hunk_is_empty_context(ws: Path, policy: PathPolicy) -> None:
    (ws / "f.txt").write_text("a\n\nb\n")
    apply_patch(envelope("*** Update File: f.txt", "@@", " a", "", "-b", "+B"), policy)
    assert (ws / "f.txt").read_text() == "a\n\nB\n"


# --- parse errors ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("hello\n*** End Patch", "first line must be '*** Begin Patch'"),
        ("*** Begin Patch\n*** Add File: a\n+x", "last line must be '*** End Patch'"),
        ("*** Begin Patch\n*** End Patch", "no file operations"),
        ("*** Begin Patch\n*** Frobnicate: a\n*** End Patch", "patch line 2"),
        ("*** Begin Patch\n*** Update File: a\n*** End Patch", "has no hunks"),
        ("*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\nbogus\n*** End Patch",
         "patch line 6: unexpected line 'bogus'"),
        ("*** Begin Patch\n*** Update File: a\n@@\n*** End Patch", "has no lines"),
        ("*** Begin Patch\n*** Update File: a\n@@\n~x\n*** End Patch", "patch line 4"),
        ("*** Begin Patch\n*** Add File:\n+x\n*** End Patch", "needs a path"),
        ("*** Begin Patch\n*** Add File: a\n+x\ny\n*** End Patch",
         "patch line 4: unexpected line 'y' in '*** Add File: a': every line of an added file "
         "starts with '+'"),
    ],
)
def test_parse_errors_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(PatchParseError, match=re.escape(fragment)):
        parse_patch(text)


def test_parse_error_line_numbers_count_the_heredoc_line() -> None:
    with pytest.raises(PatchParseError, match="patch line 3"):
        parse_patch("<<'EOF'\n*** Begin Patch\n*** Nope: x\n*** End Patch\nEOF")


def test_parsed_structure() -> None:
    parsed = parse_patch(envelope(
        "*** Add File: a.txt", "+1", "*** Delete File: b.txt", "*** Update File: c.txt",
        "*** Move to: d.txt", "@@ ctx", " k", "-o", "+n", "*** End of File",
    ))
    add, delete, update = parsed.ops
    assert isinstance(add, AddFile) and add.lines == ("1",)
    assert isinstance(delete, DeleteFile) and delete.path == "b.txt"
    assert isinstance(update, UpdateFile) and update.move_to == "d.txt"
    chunk = update.chunks[0]
    assert (chunk.context, chunk.old_lines, chunk.new_lines, chunk.end_of_file) == (
        "ctx", ("k", "o"), ("k", "n"), True)
