"""Shaping command output for the model: cap it, keep both ends, say what was cut.

A build log's first lines say what ran and its last lines say why it failed, so a capped
output keeps a head and a tail and marks the gap with `[... N lines / M bytes omitted ...]`.
`OutputCollector` gathers a running command's interleaved stdout/stderr in bounded memory
(a head and a rolling tail), so `yes` for ten seconds costs kilobytes, not gigabytes. The
final text is laid out as the Codex CLI lays out shell output, which models are trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_OUTPUT_BYTES = 10 * 1024
MAX_OUTPUT_LINES = 256
COLLECT_BYTES = 64 * 1024


@dataclass(frozen=True)
class CappedText:
    """`text` after capping; the counts describe the original and what was left out."""

    text: str
    total_lines: int
    total_bytes: int
    omitted_lines: int
    omitted_bytes: int

    @property
    def truncated(self) -> bool:
        return self.omitted_bytes > 0


class OutputCollector:
    """Keeps the first and the last `keep_bytes` of a byte stream and counts the rest."""

    def __init__(self, keep_bytes: int = COLLECT_BYTES) -> None:
        self.keep_bytes = keep_bytes
        self.head = bytearray()
        self.tail = bytearray()
        self.total_bytes = 0
        self.newlines = 0
        self.last_byte = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.total_bytes += len(chunk)
        self.newlines += chunk.count(b"\n")
        self.last_byte = chunk[-1:]
        room = self.keep_bytes - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.keep_bytes:
                del self.tail[: len(self.tail) - self.keep_bytes]

    @property
    def total_lines(self) -> int:
        return self.newlines + (1 if self.total_bytes and self.last_byte != b"\n" else 0)

    def full_text(self) -> str | None:
        """Everything, when nothing had to be dropped."""
        if len(self.head) + len(self.tail) < self.total_bytes:
            return None
        return bytes(self.head + self.tail).decode("utf-8", errors="replace")

    def capped(self, max_bytes: int = MAX_OUTPUT_BYTES,
               max_lines: int = MAX_OUTPUT_LINES) -> CappedText:
        """The collected output capped for the model (see `cap_output`)."""
        head = self.head.decode("utf-8", errors="ignore")
        tail = bytes(self.tail).decode("utf-8", errors="ignore")
        dropped = self.total_bytes - len(self.head) - len(self.tail)
        if dropped == 0:
            return cap_output(head + tail, max_bytes, max_lines)
        return _cap_parts(head, tail, self.total_bytes, self.total_lines, max_bytes, max_lines)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogateescape"))


def _cut_bytes(text: str, limit: int, *, from_end: bool) -> str:
    """The longest prefix (or suffix) of `text` within `limit` UTF-8 bytes, on a character
    boundary."""
    if limit <= 0:
        return ""
    data = text.encode("utf-8", errors="surrogateescape")
    piece = data[-limit:] if from_end else data[:limit]
    return piece.decode("utf-8", errors="ignore")


def _take(lines: list[str], max_lines: int, max_bytes: int, *, from_end: bool) -> list[str]:
    taken: list[str] = []
    used = 0
    sequence = reversed(lines) if from_end else iter(lines)
    for line in sequence:
        if len(taken) >= max_lines:
            break
        size = _utf8_len(line)
        if used + size > max_bytes:
            rest = _cut_bytes(line, max_bytes - used, from_end=from_end)
            if rest:
                taken.append(rest)
            break
        taken.append(line)
        used += size
    return list(reversed(taken)) if from_end else taken


def cap_output(text: str, max_bytes: int = MAX_OUTPUT_BYTES,
               max_lines: int = MAX_OUTPUT_LINES) -> CappedText:
    """Keep at most `max_bytes` and `max_lines` of `text`, half from the start and half
    from the end, with a marker line where the middle was removed."""
    lines = text.splitlines(keepends=True)
    total_bytes = _utf8_len(text)
    if total_bytes <= max_bytes and len(lines) <= max_lines:
        return CappedText(text, len(lines), total_bytes, 0, 0)
    head = _take(lines, max_lines // 2, max_bytes // 2, from_end=False)
    # The tail comes from what the head did not take, so no byte is shown twice.
    rest = text[sum(len(s) for s in head):]
    return _cap_parts("".join(head), rest, total_bytes, len(lines), max_bytes, max_lines,
                      head_is_final=True)


def _cap_parts(head_text: str, tail_text: str, total_bytes: int, total_lines: int,
               max_bytes: int, max_lines: int, *, head_is_final: bool = False) -> CappedText:
    head_lines = head_text.splitlines(keepends=True)
    head = head_lines if head_is_final else _take(head_lines, max_lines // 2, max_bytes // 2,
                                                  from_end=False)
    tail = _take(tail_text.splitlines(keepends=True), max_lines - max_lines // 2,
                 max_bytes - max_bytes // 2, from_end=True)
    kept_text = "".join(head)
    tail_joined = "".join(tail)
    omitted_bytes = total_bytes - _utf8_len(kept_text) - _utf8_len(tail_joined)
    complete = [s for s in head if s.endswith("\n")]
    kept_lines = len(complete) + tail_joined.count("\n") + (
        1 if tail_joined and not tail_joined.endswith("\n") else 0)
    omitted_lines = max(total_lines - kept_lines, 0)
    marker = f"[... {omitted_lines} lines / {omitted_bytes} bytes omitted ...]\n"
    if kept_text and not kept_text.endswith("\n"):
        kept_text += "\n"
    return CappedText(kept_text + marker + tail_joined, total_lines, total_bytes,
                      omitted_lines, omitted_bytes)


def format_exec_output(exit_code: int, duration_s: float, capped: CappedText, *,
                       note: str | None = None) -> str:
    """The text the model reads after a shell call (the Codex CLI's layout)."""
    parts = [f"Exit code: {exit_code}", f"Wall time: {duration_s:.1f} seconds"]
    if note:
        parts.append(note)
    if capped.truncated:
        parts.append(f"Total output lines: {capped.total_lines}")
    parts.append("Output:")
    parts.append(capped.text)
    return "\n".join(parts)
