"""The inline application: live region, approval overlay, composer, popup and status line.

Layout, top to bottom (nothing else is on screen; finished cells are in the scrollback):
the live region (running commands, the answer's unfinished line, queued prompts), the
approval overlay *or* the composer, the slash/`@` popup, and two status rows. Everything
disappears when the app exits, leaving the scrollback and a clean prompt.

Keys: Enter sends; Ctrl-J or Alt-Enter inserts a newline (prompt_toolkit cannot tell
Shift-Enter apart); Up/Down walk the history; Esc interrupts a turn (or closes the popup,
or denies an approval); Ctrl-C clears the composer, else interrupts, else arms "press
Ctrl-C again to quit"; Ctrl-D on an empty composer quits; Ctrl-Z suspends. SIGTERM and
SIGHUP end the app the normal way (exit status 128+N), so the terminal is restored; so does
an internal error (a bug), whose traceback is printed after the terminal is back (status 1).
A bracketed paste is one event that never sends; pastes over PASTE_LIMIT characters show as
`[Pasted Content N chars]` and are sent whole.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition, is_done
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import (
    ConditionalContainer,
    Dimension,
    FormattedTextControl,
    HSplit,
    Layout,
    Window,
)
from prompt_toolkit.layout.controls import BufferControl

from codex import __version__
from codex.agent import LoadedRollout
from codex.policies import ReviewDecision
from codex.tui import slash
from codex.tui.approval import KEYS
from codex.tui.cells import title_cell
from codex.tui.controller import Controller
from codex.tui.diffs import diff_lines
from codex.tui.files import search, workspace_files
from codex.tui.history import PromptHistory
from codex.tui.lines import PROMPT_MARK, Line, safe, wrap
from codex.tui.style import STYLE, color_depth

PASTE_LIMIT = 1000
POPUP_ROWS = 8
ARM_SECONDS = 3.0
HINTS = ["⏎ send", "ctrl+j newline", "/ commands", "@ files", "ctrl+c quit"]


class TuiApp:
    """See the module docstring; `run()` returns the exit code."""

    def __init__(self, controller: Controller, history: PromptHistory) -> None:
        self.controller = controller
        self.pastes: dict[str, str] = {}
        self.quit_armed_until = 0.0
        self.popup_index = 0
        self.failure: str | None = None
        self.crash: BaseException | None = None  # an internal error that ended the app
        self.dismissed: str | None = None  # the text the popup was closed at (Esc)
        self._files: list[str] | None = None
        self.buffer = Buffer(multiline=True, history=history, on_text_changed=self._changed)
        self.app: Application[int] = Application(
            layout=Layout(self._layout(), focused_element=self.buffer),
            key_bindings=self._bindings(), style=STYLE, full_screen=False,
            mouse_support=False, color_depth=color_depth(),
            include_default_pygments_style=False, erase_when_done=False)
        self.app.ttimeoutlen = 0.05
        self.app.timeoutlen = 0.2
        controller.invalidate = self.app.invalidate
        controller.exit = lambda: self.app.exit(result=0)
        controller.insert_text = self.buffer.insert_text
        controller.broker.on_change = controller.approval_requested
        controller.scrollback.app = self.app

    # -- layout --------------------------------------------------------------------------

    def _layout(self) -> HSplit:
        approving = Condition(lambda: self.controller.broker.current is not None)
        popup = Condition(lambda: bool(self._popup_items()))
        composer = Window(
            BufferControl(self.buffer), wrap_lines=True, dont_extend_height=True,
            height=Dimension(min=1, max=12),
            get_line_prefix=lambda line, wrap: [("class:user.mark", PROMPT_MARK if line == 0
                                                 and not wrap else "  ")])
        return HSplit([ConditionalContainer(HSplit([
            Window(FormattedTextControl(self._live), wrap_lines=True, dont_extend_height=True),
            ConditionalContainer(Window(FormattedTextControl(self._overlay), wrap_lines=True,
                                        dont_extend_height=True), filter=approving),
            ConditionalContainer(composer, filter=~approving),
            ConditionalContainer(Window(FormattedTextControl(self._popup), wrap_lines=False,
                                        dont_extend_height=True), filter=popup & ~approving),
            Window(FormattedTextControl(self._status), wrap_lines=True,
                   dont_extend_height=True),
        ]), filter=~is_done)])

    def _live(self) -> StyleAndTextTuples:
        lines = self.controller.transcript.live()
        lines += [[("class:dim", "↳ queued: "), ("", safe(text.split("\n")[0]))]
                  for text in self.controller.queued]
        return _join([*lines, []] if lines else [])

    def _overlay(self) -> StyleAndTextTuples:
        pending = self.controller.broker.current
        if pending is None:
            return []
        request = pending.request
        cwd = self.controller.settings.cwd
        profile = self.controller.status_fields()[1]
        if pending.is_patch:
            title = "Allow codex to apply these edits?"
            reason, _, diff = request.reason.partition("\n")
            body: list[Line] = [[("", "  " + safe(", ".join(request.argv[1:])))],
                                *diff_lines(diff, indent="    ")[:20]]
        elif request.argv[:2] == ("codex", "--profile"):
            title, reason, body = "Widen the security profile?", request.reason, []
        else:
            title = "Allow codex to run this command?" if request.kind == "run" \
                else "Allow codex to run this command OUTSIDE the sandbox?"
            reason = request.reason
            body = [[("class:command", "  $ " + safe(" ".join(request.argv)))]]
        where = "" if request.cwd == cwd else f" · in {safe(str(request.cwd))}"
        lines: list[Line] = [[("class:approval.title", title)], *body,
                             [("class:dim", "  reason: "), ("", safe(reason))],
                             [("class:dim", f"  {profile}{where}")]]
        keys: Line = [("class:approval.key", "  y"), ("", " yes   ")]
        if request.offer_always or pending.is_patch:
            keys += [("class:approval.key", "a"), ("", " yes for this session   ")]
        keys += [("class:approval.key", "n/esc"), ("", " no   "),
                 ("class:approval.key", "ctrl-c"), ("", " abort turn")]
        more = len(self.controller.broker.queue) - 1
        if more > 0:
            keys.append(("class:dim", f"   (+{more} queued)"))
        return self._fold([*lines, keys])

    def _status(self) -> StyleAndTextTuples:
        controller = self.controller
        width = self.app.output.get_size().columns
        if time.monotonic() < self.quit_armed_until:
            first: Line = [("class:status.alert", "press Ctrl-C again to quit")]
        elif controller.running:
            seconds = int(time.monotonic() - controller.turn_started)
            first = [("class:status.busy", f"Working ({seconds}s · esc to interrupt)")]
        else:
            first = [("class:status", " · ".join(_fit(HINTS, width)))]
        rows = [[("class:status", row)] for row in _rows(controller.status_fields(), width)]
        return self._fold([first, *rows])

    # -- popup ---------------------------------------------------------------------------

    def _popup_items(self) -> list[tuple[str, str]]:
        """(value to insert, description) for the slash or `@` popup; empty when closed."""
        if self.dismissed == self.buffer.text:
            return []
        text = self.buffer.document.text_before_cursor
        if text.startswith("/") and " " not in text and "\n" not in text:
            return [("/" + name, slash.COMMANDS[name]) for name in slash.matching(text[1:])]
        word = text.split()[-1] if text and not text[-1].isspace() else ""
        if word.startswith("@"):
            if self._files is None:
                self._files = workspace_files(self.controller.settings.cwd)
            return [(path, "") for path in search(word[1:], self._files, POPUP_ROWS)]
        return []

    def _popup(self) -> StyleAndTextTuples:
        items = self._popup_items()
        index = min(self.popup_index, len(items) - 1)
        top = max(0, index - POPUP_ROWS + 1)  # the window scrolls to keep the selection shown
        lines: list[Line] = []
        for i, (value, description) in enumerate(items[top:top + POPUP_ROWS], top):
            style = "class:popup.selected" if i == index else "class:popup"
            lines.append([(style, f"  {safe(value):<14}"), ("class:dim", f" {description}")
                          if description else ("", "")])
        return self._fold(lines)

    def _fold(self, lines: list[Line]) -> StyleAndTextTuples:
        """`lines` folded to the terminal's width the way the scrollback folds them."""
        width = self.app.output.get_size().columns
        return _join([row for line in lines for row in wrap(line, width)])

    def _accept_popup(self) -> bool:
        items = self._popup_items()
        if not items:
            return False
        value = items[min(self.popup_index, len(items) - 1)][0]
        document = self.buffer.document
        before = document.text_before_cursor
        if value.startswith("/"):
            self.buffer.document = Document(value + " ", len(value) + 1)
        else:
            start = len(before) - len(before.split()[-1])
            new = before[:start] + value + " "
            self.buffer.document = Document(new + document.text_after_cursor, len(new))
        self.popup_index = 0
        return True

    def _changed(self, _buffer: Buffer) -> None:
        self.popup_index = 0
        self.quit_armed_until = 0.0

    # -- keys ----------------------------------------------------------------------------

    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()
        approving = Condition(lambda: self.controller.broker.current is not None)
        popup = Condition(lambda: bool(self._popup_items())) & ~approving

        for key, decision in KEYS.items():
            kb.add(key, filter=approving)(self._answer(decision))
        kb.add("escape", filter=approving)(self._answer(ReviewDecision.DENIED))
        kb.add("c-c", filter=approving)(self._answer(ReviewDecision.ABORT))

        @kb.add(Keys.Any, filter=approving)
        def _ignore(event: KeyPressEvent) -> None:
            """Other keys do nothing while an approval is open (no accidental typing)."""

        @kb.add("enter", filter=popup)
        def _enter_popup(event: KeyPressEvent) -> None:
            text = self.buffer.text
            chosen = self._popup_items()[min(self.popup_index, len(self._popup_items()) - 1)]
            if text.startswith("/") and chosen[0] == text.strip():
                self._send()
            else:
                self._accept_popup()

        kb.add("tab", filter=popup)(lambda event: self._accept_popup())

        @kb.add("up", filter=popup)
        def _up(event: KeyPressEvent) -> None:
            self.popup_index = max(0, self.popup_index - 1)

        @kb.add("down", filter=popup)
        def _down(event: KeyPressEvent) -> None:
            self.popup_index = min(len(self._popup_items()) - 1, self.popup_index + 1)

        @kb.add("enter", filter=~approving & ~popup)
        def _enter(event: KeyPressEvent) -> None:
            self._send()

        @kb.add("c-j", filter=~approving)
        @kb.add("escape", "enter", filter=~approving)
        def _newline(event: KeyPressEvent) -> None:
            self.buffer.insert_text("\n")

        @kb.add(Keys.BracketedPaste, filter=~approving)
        def _paste(event: KeyPressEvent) -> None:
            data = event.data.replace("\r\n", "\n").replace("\r", "\n")
            if len(data) > PASTE_LIMIT:
                label = f"[Pasted Content {len(data)} chars]"
                while label in self.pastes:
                    label = label[:-1] + " ]"
                self.pastes[label] = data
                data = label
            self.buffer.insert_text(data)

        @kb.add("escape", filter=~approving)
        def _escape(event: KeyPressEvent) -> None:
            if self._popup_items():
                self.dismissed = self.buffer.text  # hidden until the text changes
            elif self.controller.interrupt():
                self.app.invalidate()

        @kb.add("c-c", filter=~approving)
        def _ctrl_c(event: KeyPressEvent) -> None:
            if self.buffer.text:
                self.buffer.reset()
                self.pastes.clear()
            elif self.controller.interrupt():
                pass
            elif time.monotonic() < self.quit_armed_until:
                self.app.exit(result=0)
            else:
                self.quit_armed_until = time.monotonic() + ARM_SECONDS
                self.app.invalidate()
                self.app.create_background_task(self._disarm_later())

        @kb.add("c-d", filter=~approving)
        def _ctrl_d(event: KeyPressEvent) -> None:
            if not self.buffer.text:
                self.app.exit(result=0)
            else:
                self.buffer.delete()

        @kb.add("c-z", filter=~approving)
        def _suspend(event: KeyPressEvent) -> None:
            self.app.suspend_to_background()

        return kb

    def _answer(self, decision: ReviewDecision):  # type: ignore[no-untyped-def]
        def handler(event: KeyPressEvent) -> None:
            self.controller.answer(decision)
        return handler

    async def _disarm_later(self) -> None:
        await asyncio.sleep(ARM_SECONDS + 0.05)
        self.app.invalidate()

    def _send(self) -> None:
        text = self.buffer.text
        if not text.strip():
            return
        self.buffer.append_to_history()
        self.buffer.reset()
        for label, content in self.pastes.items():
            text = text.replace(label, content)
        self.pastes.clear()
        self.controller.submit(text)

    # -- running -------------------------------------------------------------------------

    async def _tick(self) -> None:
        """Redraw once a second while a turn runs (the Working timer, command times)."""
        while True:
            await asyncio.sleep(1.0 if not self.controller.running else 0.5)
            if self.controller.running:
                self.app.invalidate()

    async def run(self, initial_prompt: str | None = None,
                  resume: LoadedRollout | None = None) -> int:
        """Draw at once and open the session behind the composer: what is typed meanwhile
        is queued. A session that cannot open ends the app with its message (`failure`)."""
        def pre_run() -> None:
            self.app.create_background_task(self._tick())
            self.app.create_background_task(self._open(resume))
            if initial_prompt:
                self.controller.submit(initial_prompt)

        self.controller.scrollback.commit(title_cell(__version__))
        loop = asyncio.get_running_loop()
        for number in _ENDING_SIGNALS:
            loop.add_signal_handler(number, self._end_by_signal, number)
        previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._end_by_crash)
        try:
            return await self.app.run_async(pre_run=pre_run, set_exception_handler=False)
        finally:
            loop.set_exception_handler(previous_handler)
            for number in _ENDING_SIGNALS:
                loop.remove_signal_handler(number)
            await self.controller.close()

    def _end_by_crash(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An exception no one caught (prompt_toolkit would print it over the UI and wait for
        Enter): end the app, keep the exception for the caller to report."""
        error = context.get("exception")
        if not isinstance(error, Exception):
            loop.default_exception_handler(context)
            return
        if self.crash is None:
            self.crash = error
        self._exit(1)

    def _exit(self, code: int) -> None:
        if self.app.is_running and not self.app.future.done():  # type: ignore[union-attr]
            self.app.exit(result=code)

    def _end_by_signal(self, number: int) -> None:
        """Leave as on Ctrl-D (the terminal restored, the session closed), status 128+N."""
        self._exit(128 + number)

    async def _open(self, resume: LoadedRollout | None) -> None:
        from codex.agent import RolloutError
        from codex.execpolicy import RuleLoadError

        try:
            await self.controller.open(resume)
        except (RuleLoadError, RolloutError) as exc:
            self.failure = str(exc)
            self.app.exit(result=2 if isinstance(exc, RuleLoadError) else 1)
        self.app.invalidate()


_ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _fit(items: list[str], width: int) -> list[str]:
    """As many of `items` (most important first) as fit on one row joined by ` · `."""
    kept: list[str] = []
    for item in items:
        if len(" · ".join([*kept, item])) > width - 1:
            break
        kept.append(item)
    return kept


def _rows(items: list[str], width: int) -> list[str]:
    """`items` joined by ` · `, broken into rows between items (never inside one)."""
    rows: list[str] = []
    for item in items:
        if rows and len(rows[-1]) + 3 + len(item) <= width - 1:
            rows[-1] += " · " + item
        else:
            rows.append(item)
    return rows


def _join(lines: list[Line]) -> StyleAndTextTuples:
    out: StyleAndTextTuples = []
    for i, line in enumerate(lines):
        if i:
            out.append(("", "\n"))
        out.extend(line)
    return out
