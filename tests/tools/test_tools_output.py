"""Capping command output for the model: head and tail kept, the cut marked and counted."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from codex.tools.output import OutputCollector, cap_output, format_exec_output

MARKER = re.compile(r"\[\.\.\. (\d+) lines / (\d+) bytes omitted \.\.\.\]\n")


def test_small_output_is_untouched() -> None:
    capped = cap_output("a\nb\n")
    assert capped.text == "a\nb\n" and not capped.truncated


def test_many_lines_keep_head_and_tail() -> None:
    text = "".join(f"line {i}\n" for i in range(1000))
    capped = cap_output(text, max_bytes=10_240, max_lines=256)
    lines = capped.text.splitlines()
    assert lines[0] == "line 0" and lines[127] == "line 127"
    assert lines[-1] == "line 999" and lines[-128] == "line 872"
    match = MARKER.search(capped.text)
    assert match is not None
    assert int(match.group(1)) == 1000 - 256 == capped.omitted_lines
    kept = capped.text.replace(match.group(0), "")
    assert int(match.group(2)) == len(text) - len(kept) == capped.omitted_bytes


def test_one_huge_line_is_cut_by_bytes() -> None:
    text = "x" * 100_000
    capped = cap_output(text, max_bytes=1000, max_lines=256)
    assert len(capped.text.encode()) < 1100
    assert capped.omitted_bytes == 99_000


def test_multibyte_characters_are_not_split() -> None:
    capped = cap_output("é" * 10_000, max_bytes=101, max_lines=10)
    capped.text.encode("utf-8")  # valid text
    assert "\ufffd" not in capped.text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000), st.integers(10, 500), st.integers(2, 40))
def test_cap_invariants(text: str, max_bytes: int, max_lines: int) -> None:
    capped = cap_output(text, max_bytes=max_bytes, max_lines=max_lines)
    if not capped.truncated:
        assert capped.text == text
        return
    match = MARKER.search(capped.text)
    assert match is not None
    kept = capped.text.replace(match.group(0), "", 1)
    assert len(kept.encode("utf-8", "surrogateescape")) <= max_bytes + 1  # + a newline
    assert text.startswith(kept.split("\n")[0][:1]) or not kept


def test_collector_keeps_memory_bounded_and_counts_everything() -> None:
    collector = OutputCollector(keep_bytes=4096)
    for i in range(100_000):
        collector.feed(f"row {i}\n".encode())
    assert len(collector.head) + len(collector.tail) <= 8192
    assert collector.total_lines == 100_000
    assert collector.full_text() is None
    capped = collector.capped(max_bytes=2048, max_lines=64)
    lines = capped.text.splitlines()
    assert lines[0] == "row 0" and lines[-1] == "row 99999"
    assert capped.total_lines == 100_000
    assert capped.omitted_lines == 100_000 - 64


def test_collector_without_drops_matches_cap_output() -> None:
    collector = OutputCollector()
    data = "".join(f"{i}\n" for i in range(500))
    collector.feed(data.encode())
    assert collector.full_text() == data
    assert collector.capped().text == cap_output(data).text


def test_exec_layout() -> None:
    text = format_exec_output(2, 1.234, cap_output("boom\n"))
    assert text == "Exit code: 2\nWall time: 1.2 seconds\nOutput:\nboom\n"
    long = format_exec_output(0, 0.0, cap_output("x\n" * 1000))
    assert "Total output lines: 1000\nOutput:\n" in long
