"""The SSE decoder: the quirks real servers send, and fuzzing that it never loses an event."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from codex.model.sse import SseDecoder, SseEvent


def decode(*chunks: bytes) -> list[SseEvent]:
    decoder = SseDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.flush()


def test_event_and_data_lines() -> None:
    assert decode(b"event: a\ndata: {\"x\": 1}\n\n") == [SseEvent("a", '{"x": 1}')]


def test_missing_event_line_and_no_space_after_colon() -> None:
    assert decode(b"data:{}\n\ndata:  two\n\n") == [SseEvent(None, "{}"), SseEvent(None, " two")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    stream = b": keep-alive\nretry: 10\nfoo: bar\ndata: x\n: between\n\n"
    assert decode(stream) == [SseEvent(None, "x")]


def test_crlf_and_bare_cr_line_endings() -> None:
    assert decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [
        SseEvent(None, "a"), SseEvent(None, "b"), SseEvent(None, "c")]


def test_crlf_split_between_reads_is_one_line_ending() -> None:
    assert decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == [
        SseEvent(None, "a"), SseEvent(None, "b")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(b"data: one\ndata: two\ndata\n\n") == [SseEvent(None, "one\ntwo\n")]


def test_utf8_split_inside_a_character_and_bom() -> None:
    raw = "\ufeffdata: h\u00e9llo \u2603\n\n".encode()
    chunks = [raw[i:i + 1] for i in range(len(raw))]
    assert decode(*chunks) == [SseEvent(None, "h\u00e9llo \u2603")]


def test_last_event_without_blank_line_is_dispatched_at_end() -> None:
    assert decode(b"data: a\n\ndata: [DONE]") == [SseEvent(None, "a"), SseEvent(None, "[DONE]")]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert decode(b"\n\n\r\n: c\n\nevent: lonely\n\n") == []


def test_id_field_is_kept() -> None:
    assert decode(b"id: 7\ndata: x\n\n") == [SseEvent(None, "x", "7")]


_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30
)
_events = st.lists(
    st.tuples(st.one_of(st.none(), _text.filter(lambda s: s != "")), st.lists(_text, min_size=1,
                                                                              max_size=3)),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    events=_events,
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    space=st.booleans(),
    comments=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_well_formed_events_survive_any_chunking(
    events: list[tuple[str | None, list[str]]],
    newline: str,
    space: bool,
    comments: bool,
    cuts: list[int],
) -> None:
    sep = ": " if space else ":"
    text = ""
    expected = []
    for name, lines in events:
        if comments:
            text += f":ping{newline}"
        if name is not None:
            text += f"event{sep}{name}{newline}"
        for line in lines:
            # The decoder strips exactly one space after the colon, whoever wrote it.
            text += f"data{sep}{line}{newline}"
        text += newline
        value_lines = [line[1:] if not space and line.startswith(" ") else line for line in lines]
        if name is not None and not space and name.startswith(" "):
            name = name[1:]
        expected.append(SseEvent(name or None, "\n".join(value_lines)))
    raw = text.encode()
    points = sorted({min(c, len(raw)) for c in cuts})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    assert decode(*chunks) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=10))
def test_arbitrary_bytes_never_crash(chunks: list[bytes]) -> None:
    for event in decode(*chunks):
        assert isinstance(event.data, str)
