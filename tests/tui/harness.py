"""Drive the real TUI headless: prompt_toolkit pipe input, VT100 output into a pyte terminal.

`Harness` runs `TuiApp` + `Controller` on a real `Session` against the loopback model server
(the scripted session), types keys into a pipe, and renders every byte the app writes in a
pyte `HistoryScreen`, so tests read what a user would see: the live screen and the lines
that scrolled into history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyte
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output.vt100 import Vt100_Output

from codex.agent import LoadedRollout, SessionSettings
from codex.audit import AuditLog
from codex.model import resolve_provider
from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile, resolve_policy
from codex.tui.app import TuiApp
from codex.tui.approval import ApprovalBroker
from codex.tui.controller import Controller
from codex.tui.history import PromptHistory
from codex.tui.scrollback import Scrollback
from support.model_server import ModelServer


class Terminal:
    """A pyte screen with scrollback that the app's output is written to."""

    def __init__(self, columns: int, rows: int) -> None:
        self.screen = pyte.HistoryScreen(columns, rows, history=5000, ratio=1)
        self.stream = pyte.Stream(self.screen)
        self.raw: list[str] = []
        self.encoding = "utf-8"

    # the file-like side prompt_toolkit writes to
    def write(self, data: str) -> int:
        self.raw.append(data)
        self.stream.feed(data)
        return len(data)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("not a real terminal")

    def resize(self, columns: int, rows: int) -> None:
        self.screen.resize(rows, columns)

    @property
    def size(self) -> Size:
        return Size(rows=self.screen.lines, columns=self.screen.columns)

    def history_lines(self) -> list[str]:
        """Rows that scrolled off the top, oldest first."""
        columns = self.screen.columns
        return ["".join(line[x].data for x in range(columns)).rstrip()
                for line in self.screen.history.top]

    def screen_lines(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    def text(self) -> str:
        """Scrollback and screen, trailing blank rows dropped."""
        lines = self.history_lines() + self.screen_lines()
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)


def loop_settings(server: ModelServer, workspace: Path, codex_home: Path, broker: ApprovalBroker,
                  *, profile: SecurityProfile = SecurityProfile.WORKSPACE_WRITE,
                  approval: ApprovalPolicy = ApprovalPolicy.ON_REQUEST,
                  audit: AuditLog | None = None) -> SessionSettings:
    return SessionSettings(
        cwd=workspace, codex_home=codex_home, model="test-model",
        provider=resolve_provider("loop", {"loop": server.provider_table()}, env={}),
        provider_id="loop", sandbox_policy=resolve_policy(profile, workspace),
        approval_policy=approval, approver=broker, audit=audit)


@dataclass
class Harness:
    """One running TUI; use `keys()` to type and `wait_for()` to wait on the screen."""

    terminal: Terminal
    pipe: PipeInput
    app: TuiApp
    controller: Controller
    task: asyncio.Task[int]
    seen_turn: object = None  # the last turn `turn_done` saw finish

    def keys(self, data: str) -> None:
        self.pipe.send_text(data)

    def paste(self, data: str) -> None:
        self.pipe.send_text("\x1b[200~" + data + "\x1b[201~")

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0,
                       what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}:\n"
                                     + self.terminal.text())
            await asyncio.sleep(0.02)

    async def wait_text(self, text: str, timeout: float = 60.0) -> None:
        await self.wait_for(lambda: text in self.terminal.text(), timeout, repr(text))

    async def turn_done(self) -> None:
        """Wait until a turn newer than the last one waited for has finished (a short turn
        may start and end between two polls, so `running` alone is not enough)."""
        def finished() -> bool:
            turn = self.controller.turn
            return turn is not None and turn is not self.seen_turn and turn.done()

        await self.wait_for(finished, what="a turn to finish")
        self.seen_turn = self.controller.turn
        await self.settle(0.2)

    async def settle(self, seconds: float = 0.3) -> None:
        await asyncio.sleep(seconds)


@contextmanager
def _pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe:
        yield pipe


async def start(settings: SessionSettings, broker: ApprovalBroker, *, columns: int = 80,
                rows: int = 24, prompt: str | None = None, resume: LoadedRollout | None = None,
                persist_history: bool = True, context_window: int | None = None,
                notifications: bool = False) -> tuple[Harness, Any]:
    """Start the app; returns the harness and a context to exit (call `stop`)."""
    terminal = Terminal(columns, rows)
    output = Vt100_Output(terminal, lambda: terminal.size, term="xterm-256color",  # type: ignore[arg-type]
                          enable_cpr=False)
    pipe_cm = _pipe()
    pipe = pipe_cm.__enter__()
    session_cm = create_app_session(input=pipe, output=output)
    session_cm.__enter__()
    broker.loop = asyncio.get_running_loop()
    history = PromptHistory(settings.codex_home, persist=persist_history)
    controller = Controller(settings, broker, Scrollback(output), context_window=context_window,
                            history=history, notifications=notifications)
    app = TuiApp(controller, history)
    task = asyncio.ensure_future(app.run(prompt, resume))
    harness = Harness(terminal, pipe, app, controller, task)
    await harness.wait_for(lambda: app.app.is_running and controller.session is not None,
                           what="the app to start")
    await harness.settle(0.1)
    return harness, (pipe_cm, session_cm)


async def stop(harness: Harness, contexts: Any) -> int:
    """Quit (Ctrl-D on an empty composer unless the app already ended) and clean up."""
    if not harness.task.done():
        harness.app.buffer.reset()
        harness.keys("\x04")
    code = await asyncio.wait_for(harness.task, 20)
    pipe_cm, session_cm = contexts
    session_cm.__exit__(None, None, None)
    pipe_cm.__exit__(None, None, None)
    return code
