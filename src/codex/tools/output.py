"""Shaping command output for the model: cap it, keep both ends, say what was cut.

A build log's first lines say what ran and its last lines say why it failed, so a capped
output keeps a head and a tail and marks the gap with `[... N lines / M bytes omitted ...]`.
The result is laid out as the Codex CLI lays out shell output, which models are trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_OUTPUT_BYTES = 10 * 1024
MAX_OUTPUT_LINES = 256


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
    head_chars = sum(len(s) for s in head)
    # The tail comes from what the head did not take, so no byte is shown twice.
    remaining = text[head_chars:].splitlines(keepends=True)
    tail = _take(remaining, max_lines - max_lines // 2, max_bytes - max_bytes // 2,
                 from_end=True)
    kept_bytes = sum(_utf8_len(s) for s in head) + sum(_utf8_len(s) for s in tail)
    omitted_bytes = total_bytes - kept_bytes
    kept_text = "".join(head)
    middle = text[head_chars: len(text) - sum(len(s) for s in tail)]
    omitted_lines = middle.count("\n")
    marker = f"[... {omitted_lines} lines / {omitted_bytes} bytes omitted ...]\n"
    if kept_text and not kept_text.endswith("\n"):
        kept_text += "\n"
    capped = kept_text + marker + "".join(tail)
    return CappedText(capped, len(lines), total_bytes, omitted_lines, omitted_bytes)


def format_exec_output(exit_code: int, duration_s: float, output: str, *,
                       timed_out: bool = False,
                       max_bytes: int = MAX_OUTPUT_BYTES,
                       max_lines: int = MAX_OUTPUT_LINES) -> tuple[str, CappedText]:
    """The text the model reads after a shell call (the Codex CLI's layout), and the
    capping details for front ends."""
    capped = cap_output(output, max_bytes, max_lines)
    parts = [f"Exit code: {exit_code}", f"Wall time: {duration_s:.1f} seconds"]
    if timed_out:
        parts.append("The command timed out and was killed.")
    if capped.truncated:
        parts.append(f"Total output lines: {capped.total_lines}")
    parts.append("Output:")
    parts.append(capped.text)
    return "\n".join(parts), capped
