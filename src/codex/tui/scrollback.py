"""Printing finished cells into the terminal's own scrollback, above the live region.

While the application runs, lines are batched and written in one step: the live region is
erased, the lines are printed where it was, and the live region is drawn again below them,
so each committed line lands in the scrollback exactly once and the terminal's own
scrolling, search and copy keep working. Before the application starts and after it ends,
lines are printed directly. Lines are folded to the terminal's width here, with continuation
rows indented under their text.

The step is prompt_toolkit's `run_in_terminal` without its switch to cooked mode (which its
`print_formatted_text` also makes while an application runs; the renderer's function is used
instead). Printing needs no cooked mode, and in it the terminal itself turns a key pressed
meanwhile into something else: Enter arrives as Ctrl-J (a newline in the composer instead
of a send).
"""

from __future__ import annotations

from prompt_toolkit.application import Application
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.output import Output
from prompt_toolkit.renderer import print_formatted_text
from prompt_toolkit.styles import default_ui_style, merge_styles

from codex.tui.lines import Fragment, Line, wrap
from codex.tui.style import STYLE, color_depth

_PRINT_STYLE = merge_styles([default_ui_style(), STYLE])  # what the application draws with


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
        app = self.app
        if app is not None and app.output.responds_to_cpr:
            # a cursor-position answer still on its way describes the screen before these lines
            await app.renderer.wait_for_cpr_responses()
        if app is None or not app.is_running:
            self.flush()
            return
        app.renderer.erase()
        self.flush()
        app.renderer.reset()
        app.renderer.request_absolute_cursor_position()
        app.invalidate()

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
        print_formatted_text(self.output, FormattedText(fragments), _PRINT_STYLE,
                             color_depth=color_depth())
        self.output.flush()

    def write_raw(self, data: str) -> None:
        """Bytes for the terminal itself (an OSC 9 notification)."""
        self.output.write_raw(data)
        self.output.flush()
