"""Renderers for `codex exec`: JSON lines for machines, rich text for people.

`JsonRenderer` prints the thread events (the `codex exec --json` stream of the OpenAI Codex
CLI: thread.started, turn.*, item.*) one per line on stdout and ignores live deltas.
`HumanRenderer` writes the assistant's text to stdout (streamed live when stdout is a
terminal, each message whole otherwise) and puts progress on stderr: commands with their exit
codes, colored diffs of file changes, the plan, warnings, retries and a final token-usage
line, so `codex exec "..." > answer.txt` keeps exactly the answer.
Text from the model or from commands is stripped of control characters before it reaches the
terminal, so neither can drive it with escape sequences.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from codex.protocol import (
    AgentEvent,
    AgentMessageItem,
    CollabToolCallItem,
    CommandExecutionItem,
    ErrorItem,
    FileChangeItem,
    ItemCompleted,
    ItemStarted,
    ItemUpdated,
    LiveCommandOutput,
    LiveFileDiff,
    LiveRetry,
    LiveTextDelta,
    McpToolCallItem,
    ReasoningItem,
    ThreadError,
    ThreadStarted,
    TodoListItem,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
)

if TYPE_CHECKING:
    from rich.console import Console

# Output lines shown per command in human output (the model gets its own capped copy).
OUTPUT_LINES = 20
_THREAD_EVENTS = (ThreadStarted, TurnStarted, TurnCompleted, TurnFailed, ItemStarted,
                  ItemUpdated, ItemCompleted, ThreadError)


def printable(text: str) -> str:
    """`text` without control characters other than newline and tab."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else
                   ch.encode("unicode_escape").decode("ascii") for ch in text)


class JsonRenderer:
    """One JSON object per line on stdout for every thread event."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, _THREAD_EVENTS):
            self.out.write(event.model_dump_json() + "\n")
            self.out.flush()


class HumanRenderer:
    """Readable progress (see the module docstring)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None,
                 stream_text: bool | None = None) -> None:
        from rich.console import Console

        self.out = out or sys.stdout
        # Live text only on a terminal: text streamed into a pipe or file could not be taken
        # back when a broken stream is retried, so there each message is written once, whole.
        self.stream_text = self.out.isatty() if stream_text is None else stream_text
        self.err: Console = Console(file=err or sys.stderr, highlight=False, soft_wrap=True)
        self._streamed = False  # assistant text already shown for the current message
        self._at_line_start = True
        self._partial: dict[str, str] = {}  # per command: output after its last newline
        self._shown: dict[str, int] = {}  # per command: output lines shown
        self._hidden: dict[str, int] = {}  # per command: output lines beyond the display cap

    def header(self, lines: list[tuple[str, str]]) -> None:
        from rich.text import Text

        for label, value in lines:
            self.err.print(Text.assemble((f"{label}: ", "bold"), printable(value)))
        self.err.print(Text("-" * 8, style="dim"))

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, LiveTextDelta):
            if self.stream_text and not event.reasoning:
                self._write(event.text)
        elif isinstance(event, LiveRetry):
            self._end_line()
            note = " (the partial answer above is discarded)" \
                if event.discard_partial and self._streamed else ""
            self._note(event.message + note, "yellow")
            if event.discard_partial:
                self._streamed = False
        elif isinstance(event, LiveCommandOutput):
            self._command_output(event.item_id, event.text)
        elif isinstance(event, LiveFileDiff):
            self._diff(event.path, event.diff)
        elif isinstance(event, ItemStarted | ItemUpdated | ItemCompleted):
            self._item(event)
        elif isinstance(event, TurnCompleted):
            self._end_line()
            usage = event.usage
            self._note(f"tokens used: {usage.input_tokens} input ({usage.cached_input_tokens} "
                       f"cached), {usage.output_tokens} output", "dim")
        elif isinstance(event, TurnFailed):
            self._end_line()
            self._note(f"error: {event.error.message}", "bold red")
        elif isinstance(event, ThreadError):
            self._note(f"error: {event.message}", "bold red")

    def _item(self, event: ItemStarted | ItemUpdated | ItemCompleted) -> None:
        item = event.item
        done = isinstance(event, ItemCompleted)
        if isinstance(item, AgentMessageItem):
            if not self._streamed:
                self._write(item.text)
            self._end_line()
            self._streamed = False
        elif isinstance(item, ReasoningItem):
            self._note(item.text, "dim italic")
        elif isinstance(item, CommandExecutionItem):
            self._command(item, done)
        elif isinstance(item, FileChangeItem) and done:  # its diffs already showed progress
            names = ", ".join(f"{c.kind} {c.path}" for c in item.changes) or "no file"
            if item.status == "completed":
                self._note(f"patch applied: {names}", "green")
            else:
                self._note("patch not applied (no file changed)", "red")
        elif isinstance(item, TodoListItem) and not done:
            lines = [f"  [{'x' if e.completed else ' '}] {e.text}" for e in item.items]
            self._note("plan:\n" + "\n".join(lines), "cyan")
        elif isinstance(item, ErrorItem):
            self._note(f"warning: {item.message}", "yellow")
        elif isinstance(item, CollabToolCallItem):
            states = ", ".join(f"{agent} {state.status}" for agent, state
                               in item.agents_states.items())
            self._note(f"sub-agents: {item.tool} {states or item.status}",
                       "cyan" if item.status == "completed" else "red")
        elif isinstance(item, McpToolCallItem):
            self._mcp_call(item, done)

    def _mcp_call(self, item: McpToolCallItem, done: bool) -> None:
        self._end_line()
        call = f"{item.server}.{item.tool}"
        if not done:
            self._note(f"mcp: {call}({json.dumps(item.arguments, ensure_ascii=False)[:200]})",
                       "bold")
        elif item.status == "completed":
            self._note(f"mcp: {call} done", "green")
        else:
            message = (item.error or {}).get("message", "failed")
            self._note(f"mcp: {call} failed: {message.splitlines()[0] if message else ''}",
                       "red")

    def _command(self, item: CommandExecutionItem, done: bool) -> None:
        from rich.text import Text

        self._end_line()
        if not done:
            self.err.print(Text.assemble(("$ ", "bold"), (printable(item.command), "bold")))
            return
        rest = self._partial.pop(item.id, "")
        if rest:
            self._output_lines(item.id, [rest])
        self._shown.pop(item.id, None)
        hidden = self._hidden.pop(item.id, 0)
        if hidden:
            self._note(f"... {hidden} more line(s) of output not shown", "dim")
        if item.status == "declined":
            self._note(f"not run: {item.aggregated_output or 'refused'}", "red")
            return
        code = "?" if item.exit_code is None else str(item.exit_code)
        style = "green" if item.status == "completed" else "red"
        self._note(f"exit {code} ({item.status})", style)

    def _command_output(self, item_id: str, text: str) -> None:
        """Whole lines only (chunks split lines anywhere), at most OUTPUT_LINES per command."""
        lines = (self._partial.pop(item_id, "") + text).split("\n")
        if lines[-1]:
            self._partial[item_id] = lines[-1]
        self._output_lines(item_id, lines[:-1])

    def _output_lines(self, item_id: str, lines: list[str]) -> None:
        from rich.text import Text

        self._end_line()
        shown = self._shown.get(item_id, 0)
        room = max(0, OUTPUT_LINES - shown)
        for line in lines[:room]:
            self.err.print(Text(printable(line), style="dim"))
        self._shown[item_id] = shown + min(room, len(lines))
        if len(lines) > room:
            self._hidden[item_id] = self._hidden.get(item_id, 0) + len(lines) - room

    def _diff(self, path: str, diff: str) -> None:
        from rich.text import Text

        self._end_line()
        self.err.print(Text(printable(path), style="bold"))
        for line in printable(diff).splitlines():
            style = ("green" if line.startswith("+") and not line.startswith("+++") else
                     "red" if line.startswith("-") and not line.startswith("---") else
                     "cyan" if line.startswith("@@") else "")
            self.err.print(Text(line, style=style))

    def _write(self, text: str) -> None:
        if not text:
            return
        self.out.write(printable(text))
        self.out.flush()
        self._streamed = True
        self._at_line_start = text.endswith("\n")

    def _end_line(self) -> None:
        if not self._at_line_start:
            self.out.write("\n")
            self.out.flush()
            self._at_line_start = True

    def _note(self, message: str, style: str) -> None:
        from rich.text import Text

        self.err.print(Text(printable(message), style=style))

