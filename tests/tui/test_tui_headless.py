"""The TUI driven headless (prompt_toolkit pipe input, VT100 output rendered by pyte) on a
real session against the scripted loopback model server: composer, history, paste, the
slash popup, `@` search, approvals and the Ctrl-C / Esc state machine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from harness import Harness, loop_settings, start, stop

from codex.audit import AuditLog
from codex.audit.query import read_entries
from codex.policies import ApprovalPolicy
from codex.tui.approval import ApprovalBroker
from codex.tui.lines import PROMPT_MARK, plain
from support.model_server import (
    Call,
    ModelServer,
    Text,
    error_reply,
    responses_reply,
    responses_text,
)
from support.procs import pids_with

pytestmark = pytest.mark.timeout(120)
ESC = "\x1b"
CTRL_C = "\x03"
CTRL_J = "\n"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    return workspace, home


Body = Callable[[Harness, ApprovalBroker], Awaitable[None]]


def drive(server: ModelServer, dirs: tuple[Path, Path], body: Body, *,
          approval: ApprovalPolicy = ApprovalPolicy.ON_REQUEST, audit: bool = False,
          persist_history: bool = True, notifications: bool = False) -> int:
    """Start the app, run `body`, quit; the exit code."""
    workspace, home = dirs

    async def main() -> int:
        broker = ApprovalBroker()
        log = AuditLog(home) if audit else None
        settings = loop_settings(server, workspace, home, broker, approval=approval, audit=log)
        h, ctx = await start(settings, broker, persist_history=persist_history,
                             notifications=notifications)
        try:
            await body(h, broker)
        finally:
            code = await stop(h, ctx)
        return code

    return asyncio.run(main())


def sent_texts(server: ModelServer) -> list[str]:
    """The user messages of each request, in order."""
    texts = []
    for request in server.requests:
        body = json.loads(request.body)
        users = [item for item in body["input"] if item.get("role") == "user"]
        texts.append(users[-1]["content"][0]["text"] if users else "")
    return texts


def test_answer_streams_into_scrollback_once(model_server: ModelServer,
                                             dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_text("# Plan\n\nFirst **bold** line\n- item one\n- item two"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("hello codex\r")
        await h.turn_done()
        text = h.terminal.text()
        for line in ("# Plan", "First bold line", "- item one", "- item two",
                     PROMPT_MARK + "hello codex"):
            assert text.count(line) == 1, (line, text)

    drive(model_server, dirs, body)
    assert sent_texts(model_server) == ["hello codex"]


def test_multiline_composer_and_history(model_server: ModelServer,
                                        dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_text("one"), responses_text("two"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("first" + CTRL_J + "line\r")  # Ctrl-J: a newline, Enter: send
        await h.turn_done()
        h.keys("second" + ESC + "\rline\r")  # Alt-Enter: a newline too
        await h.turn_done()
        h.keys("\x1b[A")  # Up: the last prompt
        await h.wait_for(lambda: h.app.buffer.text == "second\nline", what="history up")
        h.keys("\x1b[A\x1b[A")
        await h.wait_for(lambda: h.app.buffer.text == "first\nline", what="history up twice")

    drive(model_server, dirs, body)
    assert sent_texts(model_server) == ["first\nline", "second\nline"]
    saved = [json.loads(x)["text"] for x in
             (dirs[1] / "history.jsonl").read_text().splitlines()]
    assert saved == ["first\nline", "second\nline"]


def test_history_persists_across_sessions_and_honours_none(model_server: ModelServer,
                                                          dirs: tuple[Path, Path]) -> None:
    (dirs[1] / "history.jsonl").write_text(
        json.dumps({"session_id": "x", "ts": 1, "text": "from last time"}) + "\n")

    async def recall(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("\x1b[A")
        await h.wait_for(lambda: h.app.buffer.text == "from last time", what="old prompt")

    drive(model_server, dirs, recall)

    async def nothing(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("\x1b[A")
        await h.settle(0.3)
        assert h.app.buffer.text == ""

    drive(model_server, dirs, nothing, persist_history=False)


def test_paste_is_one_event_and_long_pastes_are_sent_whole(model_server: ModelServer,
                                                           dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_text("got it"))
    big = "\n".join(f"line {i:04} " + "x" * 40 for i in range(100))[:5000]

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.paste("small\rpaste\r")  # newlines inside a paste never send
        await h.wait_for(lambda: h.app.buffer.text == "small\npaste\n", what="small paste")
        assert not model_server.requests
        h.keys(CTRL_C)  # clears the composer
        await h.wait_for(lambda: h.app.buffer.text == "", what="cleared")
        h.keys("look: ")
        h.paste(big)
        await h.wait_for(lambda: "[Pasted Content 5000 chars]" in h.terminal.text(),
                         what="placeholder")
        assert h.app.buffer.text == "look: [Pasted Content 5000 chars]"
        assert not model_server.requests
        h.keys("\r")
        await h.turn_done()

    drive(model_server, dirs, body)
    assert sent_texts(model_server) == ["look: " + big]


def test_slash_popup_filters_and_runs_commands(model_server: ModelServer,
                                               dirs: tuple[Path, Path]) -> None:
    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("/")
        await h.wait_text("/approvals")
        assert "/model" in h.terminal.text() and "/status" not in h.terminal.text()
        h.keys("\x1b[B" * 8)  # Down past the eighth row: the popup scrolls
        await h.wait_text("/status")
        assert "/model" not in "\n".join(h.terminal.screen_lines())
        h.keys("\x1b[A" * 8)
        await h.wait_for(lambda: "/model" in "\n".join(h.terminal.screen_lines()),
                         what="scrolled back")
        h.keys("ap")
        await h.wait_for(lambda: "/model" not in "\n".join(h.terminal.screen_lines()),
                         what="filtered popup")
        h.keys("\r")  # completes the selected command
        await h.wait_for(lambda: h.app.buffer.text == "/approvals ", what="completion")
        h.keys("never\r")
        await h.wait_text("approval policy set to never")
        assert h.controller.session is not None
        assert h.controller.session.settings.approval_policy is ApprovalPolicy.NEVER
        assert h.controller.session.tool_context.guard is not None
        assert h.controller.session.tool_context.guard.approvals.policy is ApprovalPolicy.NEVER
        await h.wait_text("approvals never")  # the status line follows
        h.keys("/status\r")
        await h.wait_text("tokens: 0 input")
        h.keys("/quit\r")
        await asyncio.wait_for(h.task, 10)

    assert drive(model_server, dirs, body) == 0
    assert not model_server.requests  # slash commands never reach the model


def test_at_opens_file_search_and_inserts_the_path(model_server: ModelServer,
                                                   dirs: tuple[Path, Path]) -> None:
    workspace = dirs[0]
    (workspace / "src").mkdir()
    (workspace / "src" / "hello_world.py").write_text("")
    (workspace / "other.txt").write_text("")

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("open @hewo")
        await h.wait_text("src/hello_world.py")
        h.keys(ESC)  # closes the popup
        await h.wait_for(lambda: "src/hello_world.py" not in h.terminal.text(), what="closed")
        h.keys("r")  # typing opens it again
        await h.wait_text("src/hello_world.py")
        h.keys("\t")
        await h.wait_for(lambda: h.app.buffer.text == "open src/hello_world.py ",
                         what="inserted path")

    drive(model_server, dirs, body)


def shell(call_id: str, *argv: str) -> Call:
    return Call("shell", json.dumps({"command": list(argv)}), call_id)


@pytest.mark.parametrize(("key", "runs", "line"), [
    ("y", True, "✔ You approved touch made.txt (this time)"),
    ("a", True, "✔ You approved touch made.txt for this session"),
    (ESC, False, "✗ You denied touch made.txt"),
    ("n", False, "✗ You denied touch made.txt"),
])
def test_approval_answers_reach_the_guard_chain(model_server: ModelServer,
                                                dirs: tuple[Path, Path], key: str, runs: bool,
                                                line: str) -> None:
    model_server.enqueue(responses_reply(shell("c1", "touch", "made.txt")),
                         responses_text("finished"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("make it\r")
        await h.wait_text("Allow codex to run this command?")
        screen = "\n".join(h.terminal.screen_lines())
        assert "$ touch made.txt" in screen and "profile workspace-write" in screen
        assert "reason:" in screen
        h.keys(key)
        await h.turn_done()
        assert h.terminal.text().count(line) == 1

    drive(model_server, dirs, body, approval=ApprovalPolicy.UNTRUSTED, audit=True)
    assert (dirs[0] / "made.txt").exists() is runs
    approvals = [e for e in read_entries(AuditLog(dirs[1]).directory)
                 if e.operation == "approval"]
    assert [e.decision for e in approvals] == (["allowed"] if runs else ["denied"])


def test_ctrl_c_on_an_approval_aborts_the_turn(model_server: ModelServer,
                                               dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_reply(shell("c1", "touch", "made.txt")))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("make it\r")
        await h.wait_text("Allow codex to run this command?")
        h.keys(CTRL_C)
        await h.turn_done()
        assert "✗ You aborted the turn at touch made.txt" in h.terminal.text()

    drive(model_server, dirs, body, approval=ApprovalPolicy.UNTRUSTED)
    assert not (dirs[0] / "made.txt").exists()


def test_queued_approvals_show_one_at_a_time(model_server: ModelServer,
                                             dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_reply(shell("c1", "touch", "a.txt"),
                                         shell("c2", "touch", "b.txt")),
                         responses_text("done"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("two files\r")
        await h.wait_for(lambda: len(broker.queue) == 2, what="two requests")
        await h.wait_text("(+1 queued)")
        h.keys("y")
        await h.wait_for(lambda: len(broker.queue) == 1, what="one left")
        h.keys("n")
        await h.turn_done()

    drive(model_server, dirs, body, approval=ApprovalPolicy.UNTRUSTED)
    assert [(dirs[0] / n).exists() for n in ("a.txt", "b.txt")].count(True) == 1


def test_esc_interrupts_a_stream_and_ctrl_c_twice_quits(model_server: ModelServer,
                                                        dirs: tuple[Path, Path]) -> None:
    stalled = responses_reply(Text("starting the long answer")).stall_after(4, 60)
    model_server.enqueue(stalled, responses_text("next turn fine"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("go\r")
        await h.wait_text("Working (")
        await h.wait_text("esc to interrupt")
        h.keys(ESC)
        await h.wait_text("interrupted")
        await h.wait_for(lambda: not h.controller.running, timeout=5, what="stopped")
        h.keys("again\r")
        await h.turn_done()
        assert "next turn fine" in h.terminal.text()
        h.keys("typed")
        h.keys(CTRL_C)  # 1: clears the composer
        await h.wait_for(lambda: h.app.buffer.text == "", what="cleared")
        h.keys(CTRL_C)  # 2: arms
        await h.wait_text("press Ctrl-C again to quit")
        assert not h.task.done()
        h.keys(CTRL_C)  # 3: quits
        await asyncio.wait_for(h.task, 10)

    assert drive(model_server, dirs, body) == 0


def test_ctrl_c_interrupts_a_running_command(model_server: ModelServer,
                                             dirs: tuple[Path, Path]) -> None:
    marker = "sleep 60.5"  # a unique command line to find in /proc (the outside oracle)
    model_server.enqueue(responses_reply(Call("shell", json.dumps(
        {"command": ["sleep", "60.5"], "timeout_ms": 600_000}), "c1")))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("sleep\r")
        await h.wait_text("Running " + marker)
        await h.wait_for(lambda: pids_with("60.5"), what="the command to run")
        h.keys(CTRL_C)
        await h.wait_for(lambda: not h.controller.running, timeout=10, what="killed")
        assert "interrupted" in h.terminal.text()
        await h.wait_for(lambda: not pids_with("60.5"), timeout=5, what="the process gone")

    drive(model_server, dirs, body)


def test_messages_typed_during_a_turn_are_queued(model_server: ModelServer,
                                                 dirs: tuple[Path, Path]) -> None:
    slow = responses_reply(Text("first answer")).stall_after(4, 1.5)
    model_server.enqueue(slow, responses_text("second answer"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("one\r")
        await h.wait_for(lambda: h.controller.running, what="running")
        h.keys("two\r")
        await h.wait_text("↳ queued: two")
        await h.wait_text("second answer")
        await h.wait_for(lambda: not h.controller.running, what="idle")

    drive(model_server, dirs, body)
    assert sent_texts(model_server) == ["one", "two"]


def test_ctrl_d_on_an_empty_composer_quits(model_server: ModelServer,
                                           dirs: tuple[Path, Path]) -> None:
    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("x\x04")  # Ctrl-D with text: deletes forward, does not quit
        await h.settle(0.2)
        assert not h.task.done()
        h.keys("\x01\x0b\x04")  # Ctrl-A, Ctrl-K (emacs keys) empty it; Ctrl-D quits
        await asyncio.wait_for(h.task, 10)

    assert drive(model_server, dirs, body) == 0


def test_model_output_cannot_drive_the_terminal(model_server: ModelServer,
                                                dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_text("title \x1b]0;pwned\x07 and \x1b[2J clear"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("hi\r")
        await h.turn_done()
        raw = "".join(h.terminal.raw)
        assert "\x1b]0;pwned" not in raw and "\x1b[2J" not in raw
        assert "\\x1b]0;pwned\\x07" in h.terminal.text()

    drive(model_server, dirs, body)


@pytest.mark.parametrize("enabled", [True, False])
def test_osc9_notifications_when_enabled(model_server: ModelServer, dirs: tuple[Path, Path],
                                         enabled: bool) -> None:
    model_server.enqueue(responses_reply(shell("c1", "touch", "n.txt")),
                         responses_text("finished"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("go\r")
        await h.wait_text("Allow codex to run this command?")
        h.keys("n")
        await h.turn_done()
        raw = "".join(h.terminal.raw)
        expected = ["\x1b]9;codex: approval needed\x07", "\x1b]9;codex: turn finished\x07"]
        assert [n in raw for n in expected] == [enabled, enabled]

    drive(model_server, dirs, body, approval=ApprovalPolicy.UNTRUSTED, notifications=enabled)


def test_finished_lines_are_committed_while_the_answer_streams(
        model_server: ModelServer, dirs: tuple[Path, Path]) -> None:
    text = Text("line one\nline two\npartial rest", chunks=("line one\n", "line two\n",
                                                          "partial", " rest"))
    model_server.enqueue(responses_reply(text).stall_after(7, 3))  # pause after "partial"

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("stream\r")
        await h.wait_text("partial")
        await h.wait_text("line two")  # committed (the flush runs just behind the redraw)
        assert h.controller.running  # still streaming: the pause is on
        assert [plain(line) for line in h.controller.transcript.live()] == ["partial"]
        assert h.terminal.text().count("line one") == 1
        await h.turn_done()
        final = h.terminal.text()
        assert final.count("line one") == final.count("partial rest") == 1

    drive(model_server, dirs, body)


def test_compact_replaces_the_history_with_a_summary_and_resume_follows(
        model_server: ModelServer, dirs: tuple[Path, Path]) -> None:
    from codex.agent import find_rollout, load_rollout
    from codex.agent.compact import COMPACT_INSTRUCTION, SUMMARY_PREFIX

    model_server.enqueue(responses_text("the long first answer"),
                         responses_text("Goal: fix the parser. Done: nothing yet."),
                         responses_text("continuing"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("fix the parser\r")
        await h.turn_done()
        h.keys("/compact\r")
        await h.wait_text("conversation compacted: 2 items replaced by 2")
        h.keys("go on\r")
        await h.turn_done()

    drive(model_server, dirs, body)
    bodies = [json.loads(r.body) for r in model_server.requests]
    assert len(bodies) == 3
    compaction = bodies[1]
    assert compaction["input"][-1]["content"][0]["text"] == COMPACT_INSTRUCTION
    assert "the long first answer" in json.dumps(compaction["input"])
    after = json.dumps(bodies[2]["input"])
    assert "the long first answer" not in after  # the assistant's turn is gone ...
    assert "fix the parser" in after  # ... the user's own prompt stays verbatim
    assert json.dumps(SUMMARY_PREFIX + "Goal: fix the parser. Done: nothing yet.")[1:-1] in after
    resumed = load_rollout(find_rollout(dirs[1]))
    texts = [getattr(item, "text", "") for item in resumed.items]
    assert texts[-1] == "continuing" and "the long first answer" not in texts
    assert any(t.startswith(SUMMARY_PREFIX) for t in texts)


def test_compact_that_fails_leaves_the_conversation_unchanged(
        model_server: ModelServer, dirs: tuple[Path, Path]) -> None:
    model_server.enqueue(responses_text("first answer"),
                         error_reply(400, "context too long", "context_length_exceeded"),
                         responses_text("still here"))

    async def body(h: Harness, broker: ApprovalBroker) -> None:
        h.keys("/compact\r")  # nothing to compact before the first prompt
        await h.wait_text("nothing to compact yet")
        h.keys("hello\r")
        await h.turn_done()
        h.keys("/compact\r")
        await h.wait_text("/compact: ")
        h.keys("again\r")
        await h.turn_done()

    drive(model_server, dirs, body)
    last = json.dumps(json.loads(model_server.requests[-1].body)["input"])
    assert "first answer" in last and "hello" in last
