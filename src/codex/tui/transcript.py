"""Agent events -> history cells: what is committed to the scrollback and what stays live.

`Transcript(commit, workspace)` is fed every `codex.protocol` event of a turn. Finished
things go to `commit(lines)` exactly once, in order; `live()` is what is still moving (the
unfinished last line of the answer, running commands) and is drawn in the live region.
The answer streams line by line: each time a delta completes a line, the Markdown of all
complete lines is rendered and the lines not yet committed are committed, so the final
message never prints twice. Nothing here knows about prompt_toolkit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codex.protocol import (
    AgentEvent,
    AgentMessageItem,
    CommandExecutionItem,
    ErrorItem,
    FileChangeItem,
    ItemCompleted,
    ItemStarted,
    ItemUpdated,
    LiveCommandOutput,
    LiveFileDiff,
    LiveRequestUsage,
    LiveRetry,
    LiveTextDelta,
    McpToolCallItem,
    ReasoningItem,
    TodoListItem,
    TokenUsage,
    TurnCompleted,
    TurnFailed,
)
from codex.tui.cells import (
    command_cell,
    exploration,
    explored_header,
    note,
    running_cell,
)
from codex.tui.diffs import FileDiff, patch_cell, relative
from codex.tui.lines import Line, safe
from codex.tui.markdown import render_markdown

Commit = Callable[[list[Line]], None]


@dataclass
class _Running:
    command: str
    started: float
    output: str = ""


@dataclass
class AnswerStream:
    """The answer being streamed: committed lines so far and the text not yet complete."""

    text: str = ""
    committed: int = 0

    def push(self, delta: str) -> list[Line]:
        """Add `delta`; the newly finished lines to commit."""
        self.text += delta
        if "\n" not in delta:
            return []
        return self._take(self.text[:self.text.rfind("\n") + 1])

    def finish(self, full: str | None = None) -> list[Line]:
        """The message is complete (`full`: its final text): the remaining lines."""
        return self._take(full if full is not None else self.text)

    def pending(self) -> list[Line]:
        """The unfinished tail, rendered (shown live, not committed)."""
        return render_markdown(self.text)[self.committed:]

    def _take(self, source: str) -> list[Line]:
        lines = render_markdown(source)
        fresh = lines[self.committed:]
        self.committed = max(self.committed, len(lines))
        return fresh


@dataclass
class Transcript:
    """See the module docstring."""

    commit: Commit
    workspace: Path
    answer: AnswerStream | None = None
    running: dict[str, _Running] = field(default_factory=dict)
    diffs: dict[str, list[FileDiff]] = field(default_factory=dict)
    usage: TokenUsage = field(default_factory=TokenUsage)
    context_tokens: int = 0  # the last request's conversation: how full the context is
    exploring: bool = False  # the last committed cell is an `Explored` group

    def handle(self, event: AgentEvent) -> None:
        if isinstance(event, LiveTextDelta):
            if not event.reasoning:
                self._answer_delta(event.text)
        elif isinstance(event, LiveRetry):
            self._retry(event)
        elif isinstance(event, LiveCommandOutput):
            running = self.running.get(event.item_id)
            if running is not None:
                running.output = (running.output + event.text)[-16384:]
        elif isinstance(event, LiveRequestUsage):
            self.context_tokens = event.usage.input_tokens + event.usage.output_tokens
        elif isinstance(event, LiveFileDiff):
            self.diffs.setdefault(event.item_id, []).append(
                FileDiff(relative(event.path, self.workspace), "update", event.diff))
        elif isinstance(event, ItemStarted | ItemUpdated | ItemCompleted):
            self._item(event)
        elif isinstance(event, TurnCompleted):
            self._close_answer()
            self.usage = TokenUsage(
                input_tokens=self.usage.input_tokens + event.usage.input_tokens,
                cached_input_tokens=self.usage.cached_input_tokens
                + event.usage.cached_input_tokens,
                output_tokens=self.usage.output_tokens + event.usage.output_tokens)
        elif isinstance(event, TurnFailed):
            self._close_answer()
            self.running.clear()
            self._cell(note(event.error.message, "class:error", "■ "))

    def live(self) -> list[Line]:
        """Lines of the live region: running commands, then the answer's unfinished tail."""
        now = time.monotonic()
        lines: list[Line] = []
        for running in self.running.values():
            lines += running_cell(running.command, running.output, now - running.started)
        if self.answer is not None:
            lines += self.answer.pending()
        return lines

    def _cell(self, lines: list[Line], *, explored: bool = False) -> None:
        if not explored:
            self.exploring = False
        self.commit(lines)

    def _answer_delta(self, text: str) -> None:
        if self.answer is None:
            self.answer = AnswerStream()
            self.exploring = False
            self.commit([[]])  # a blank line before the answer
        fresh = self.answer.push(text)
        if fresh:
            self.commit(fresh)

    def _close_answer(self, final: str | None = None) -> None:
        if self.answer is not None:
            rest = self.answer.finish(final)
            self.answer = None
            if rest:
                self.commit(rest)
            self.commit([[]])

    def _retry(self, event: LiveRetry) -> None:
        discarded = event.discard_partial and self.answer is not None \
            and self.answer.committed > 0
        if event.discard_partial:
            self.answer = None
        suffix = " (the partial answer above is discarded)" if discarded else ""
        self._cell(note(event.message + suffix, "class:warning", "⚠ "))

    def _item(self, event: ItemStarted | ItemUpdated | ItemCompleted) -> None:
        item = event.item
        done = isinstance(event, ItemCompleted)
        if isinstance(item, AgentMessageItem):
            if self.answer is None:
                self.answer = AnswerStream()
                self.commit([[]])
            self._close_answer(item.text)
        elif isinstance(item, ReasoningItem):
            self._cell(note(item.text, "class:reasoning", "• "))
        elif isinstance(item, CommandExecutionItem):
            self._command(item, done)
        elif isinstance(item, FileChangeItem) and done:
            self._patch(item)
        elif isinstance(item, TodoListItem) and not done:
            rows = [[("class:dim", "  └ " if i == 0 else "    "),
                     ("class:dim" if entry.completed else "",
                      ("✔ " if entry.completed else "□ ") + safe(entry.text))]
                    for i, entry in enumerate(item.items)]
            self._cell([[("class:bullet.ok", "• "), ("class:cell.title", "Updated Plan")],
                        *rows])
        elif isinstance(item, McpToolCallItem) and done:
            self._cell(note(f"Called {item.server}.{item.tool} ({item.status})"))
        elif isinstance(item, ErrorItem):
            self._cell(note(item.message, "class:warning", "⚠ "))

    def _command(self, item: CommandExecutionItem, done: bool) -> None:
        if not done:
            self.running[item.id] = _Running(item.command, time.monotonic())
            return
        self.running.pop(item.id, None)
        intent = exploration(item.command) if item.status == "completed" \
            and item.exit_code == 0 else None
        if intent is None:
            self._cell(command_cell(item.command, item.aggregated_output, item.exit_code,
                                    item.status))
            return
        lines = [] if self.exploring else [explored_header()]
        lines.append(intent.line(first=not self.exploring))
        self._cell(lines, explored=True)
        self.exploring = True

    def _patch(self, item: FileChangeItem) -> None:
        diffs = {d.path: d for d in self.diffs.pop(item.id, [])}
        files = []
        for change in item.changes:
            path = relative(change.path, self.workspace)
            known = diffs.get(path)
            files.append(FileDiff(path, change.kind, known.diff if known else ""))
        if not files:
            self._cell(note("Patch failed: no file was changed", "class:error", "✗ "))
            return
        self._cell(patch_cell(files, failed=item.status != "completed"))
