"""Renderers for `codex fanout`: one JSON event stream, or a progress view for people.

`JsonFanoutRenderer` prints every agent's thread events and state changes as JSON lines on
stdout, each with the `agent_id` of the agent it came from, then one `fanout.completed` line
(the merged result). `ProgressView` keeps one line per agent on a terminal (state, elapsed,
tokens, last action), redrawn in place; into a pipe it writes one line per state change.
Both leave the final summary to `print_summary` (stderr; the chosen answer goes to stdout).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from codex.cli.exec_render import printable
from codex.protocol import AgentEvent, AgentStateChanged

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from codex.supervisor import AgentRecord


class JsonFanoutRenderer:
    """One JSON object per line: `{"agent_id": ..., <event>}` for non-live events."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, agent_id: str, event: AgentEvent | AgentStateChanged) -> None:
        if event.type.startswith("live."):
            return
        self.line({"agent_id": agent_id, **event.model_dump(mode="json")})

    def line(self, data: dict[str, Any]) -> None:
        self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.out.flush()


def _tokens(record: AgentRecord) -> str:
    total = record.usage.input_tokens + record.usage.output_tokens
    return f"{total / 1000:.1f}k" if total >= 1000 else str(total)


def agent_line(record: AgentRecord, width: int = 100) -> str:
    """`a1  running   3.2s  1.2k tok  $ pytest -q` (clipped to `width`)."""
    action = (record.error if record.final and record.error else record.last_action) or ""
    first = action.splitlines()[0] if action.strip() else ""
    return (f"{record.id:<12} {record.state:<10} {record.elapsed_s:6.1f}s "
            f"{_tokens(record):>6} tok  {printable(first)}")[:width]


class ProgressView:
    """Live lines on a terminal, state-change lines elsewhere (see the module docstring)."""

    def __init__(self, records: Callable[[], Iterable[AgentRecord]],
                 err: TextIO | None = None) -> None:
        from rich.console import Console

        self._records = records
        self.console: Console = Console(file=err or sys.stderr, highlight=False)
        self._live: Live | None = None

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(get_renderable=self._render, console=self.console,
                              refresh_per_second=4, transient=False)
            self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()

    def _render(self) -> RenderableType:
        from rich.text import Text

        width = self.console.width
        return Text("\n".join(agent_line(r, width) for r in self._records()))

    def __call__(self, agent_id: str, event: AgentEvent | AgentStateChanged) -> None:
        if self._live is None and isinstance(event, AgentStateChanged):
            note = f": {event.error}" if event.error else ""
            self.console.print(printable(f"{agent_id} {event.state}{note}"), markup=False)
