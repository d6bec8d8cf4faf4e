"""The TUI driven headless (pipe input, VT100 output in pyte) on a real session against
the loopback model server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from harness import Harness, loop_settings, start, stop

from codex.tui.approval import ApprovalBroker
from support.model_server import Call, ModelServer, Pause, responses_reply, responses_text

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    return workspace, home


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())


def test_prompt_streams_an_answer_into_scrollback_once(model_server: ModelServer,
                                                        dirs: tuple[Path, Path]) -> None:
    workspace, home = dirs
    model_server.enqueue(responses_text("# Plan\n\nFirst **bold** line\n- item one\n- item two"))

    async def body() -> None:
        broker = ApprovalBroker()
        h, ctx = await start(loop_settings(model_server, workspace, home, broker), broker)
        h.keys("hello codex\r")
        await h.wait_text("item two")
        await h.wait_for(lambda: not h.controller.running, what="turn end")
        await h.settle()
        await stop(h, ctx)
        text = h.terminal.text()
        assert text.count("item one") == 1
        assert text.count("First bold line") == 1
        assert "› hello codex" in text
        assert "# Plan" in text
        body_request = model_server.requests[0].body
        assert b"hello codex" in body_request
        print(text)

    run(body)
