"""Incremental Server-Sent Events decoder.

One decoder serves both wire formats. It follows the WHATWG event-stream rules and is lenient
where real servers differ: LF, CRLF and bare CR line endings (also split across reads), comment
lines, `data:` with or without the space, no `event:` line, multi-line data, a UTF-8 BOM, and a
last event that is not followed by a blank line when the stream ends (dispatched by `flush`,
because dropping it would lose a complete `data:` line a server did send).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its `event:` name (None when absent), data and last id."""

    event: str | None
    data: str
    id: str | None = None


class SseDecoder:
    """Feed bytes as they arrive; get back the events completed by them."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._skip_lf = False
        self._at_start = True
        self._event: str | None = None
        self._data: list[str] = []
        self._last_id: str | None = None
        # The server's reconnection delay (`retry:`), in ms; None until one is sent.
        self.retry_ms: int | None = None

    @property
    def last_id(self) -> str | None:
        """The last event id seen, also from events without data (what a resume sends)."""
        return self._last_id

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Decode `chunk` and return every event it completes."""
        return self._consume(self._utf8.decode(chunk))

    def flush(self) -> list[SseEvent]:
        """End of stream: return a last event that had data but no closing blank line."""
        events = self._consume(self._utf8.decode(b"", final=True))
        if self._pending:
            line, self._pending = self._pending, ""
            self._line(line, events)
        self._dispatch(events)
        return events

    def _consume(self, text: str) -> list[SseEvent]:
        events: list[SseEvent] = []
        if self._at_start and text:
            self._at_start = False
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text:
            self._skip_lf = False
            text = text.removeprefix("\n")
        buffer = self._pending + text
        if "\r" not in buffer:
            # Fast path: LF-only streams, which is what nearly every server sends.
            lines = buffer.split("\n")
            self._pending = lines.pop()
            for line in lines:
                self._line(line, events)
            return events
        start = 0
        length = len(buffer)
        while True:
            cr = buffer.find("\r", start)
            lf = buffer.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr == -1 or (lf != -1 and lf < cr):
                self._line(buffer[start:lf], events)
                start = lf + 1
                continue
            self._line(buffer[start:cr], events)
            if cr + 1 < length:
                start = cr + 2 if buffer[cr + 1] == "\n" else cr + 1
            else:
                # A CR at the end of this read: its LF, if any, arrives with the next read.
                self._skip_lf = True
                start = cr + 1
        self._pending = buffer[start:]
        return events

    def _line(self, line: str, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            return
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\x00" not in value:
            self._last_id = value
        elif field == "retry" and value.isdigit():
            self.retry_ms = int(value)

    def _dispatch(self, events: list[SseEvent]) -> None:
        if self._data:
            events.append(SseEvent(self._event or None, "\n".join(self._data), self._last_id))
        self._event = None
        self._data = []
