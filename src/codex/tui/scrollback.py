"""Printing finished cells into the terminal's own scrollback, above the live region.

While the application runs, lines are batched and written in one `run_in_terminal` call:
prompt_toolkit erases the live region, the lines are printed where it was, and the live
region is drawn again below them, so each committed line lands in the scrollback exactly
once and the terminal's own scrolling, search and copy keep working. Before the
application starts and after it ends, lines are printed directly. Lines are folded to the
terminal's width here, with continuation rows indented under their text.
"""

from __future__ import annotations

from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import print_formatted_text

from codex.tui.lines import Fragment, Line, wrap
from codex.tui.style import STYLE, color_depth


class Scrollback:
    """See the module docstring."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.app: Application[int] | None = None
        self._pending: list[Line] = []
        self._scheduled = False

    def commit(self, lines: list[Line]) -> None:
        self._pending.extend(lines)
        app = self.app
        if app is None or not app.is_running:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            app.create_background_task(self._flush_in_terminal())

    async def _flush_in_terminal(self) -> None:
        await run_in_terminal(self.flush)

    def flush(self) -> None:
        """Print every pending line now."""
        self._scheduled = False
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        width = self.output.get_size().columns
        fragments: list[Fragment] = []
        for line in lines:
            for row in wrap(line, width):
                fragments.extend(row)
                fragments.append(("", "\n"))
        print_formatted_text(FormattedText(fragments), end="", style=STYLE,
                             output=self.output, color_depth=color_depth(),
                             include_default_pygments_style=False)

    def write_raw(self, data: str) -> None:
        """Bytes for the terminal itself (an OSC 9 notification)."""
        self.output.write_raw(data)
        self.output.flush()
