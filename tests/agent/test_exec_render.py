"""The human renderer: what reaches stdout and stderr for a stream of agent events."""

from __future__ import annotations

import io

from codex.cli.exec_render import OUTPUT_LINES, HumanRenderer, JsonRenderer
from codex.protocol import (
    AgentMessageItem,
    CommandExecutionItem,
    FileChangeItem,
    FileUpdateChange,
    ItemCompleted,
    ItemStarted,
    LiveCommandOutput,
    LiveRetry,
    LiveTextDelta,
    TokenUsage,
    TurnCompleted,
    TurnStarted,
)


def _renderer(stream: bool) -> tuple[HumanRenderer, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return HumanRenderer(out, err, stream_text=stream), out, err


def test_terminal_streams_text_once_and_marks_a_discarded_attempt() -> None:
    render, out, err = _renderer(stream=True)
    render(LiveTextDelta(text="Hel"))
    render(LiveRetry(message="retrying", discard_partial=True))
    render(LiveTextDelta(text="Hello"))
    render(ItemCompleted(item=AgentMessageItem(id="item_0", text="Hello")))
    assert out.getvalue() == "Hel\nHello\n"
    assert "partial answer above is discarded" in err.getvalue()


def test_pipe_gets_each_message_whole() -> None:
    render, out, _err = _renderer(stream=False)
    for piece in ("Hel", "lo"):
        render(LiveTextDelta(text=piece))
    render(ItemCompleted(item=AgentMessageItem(id="item_0", text="Hello")))
    render(ItemCompleted(item=AgentMessageItem(id="item_1", text="World")))
    render(TurnCompleted(usage=TokenUsage(input_tokens=3, output_tokens=2)))
    assert out.getvalue() == "Hello\nWorld\n"


def test_command_output_whole_lines_and_capped() -> None:
    render, _out, err = _renderer(stream=False)
    item = CommandExecutionItem(id="item_0", command="seq 1 100")
    render(ItemStarted(item=item))
    text = "".join(f"{n}\n" for n in range(1, 101))
    for start in range(0, len(text), 7):  # chunks that split lines anywhere
        render(LiveCommandOutput(item_id="item_0", stream="stdout", text=text[start:start + 7]))
    render(ItemCompleted(item=item.model_copy(update={"exit_code": 0, "status": "completed"})))
    lines = err.getvalue().splitlines()
    assert lines[0] == "$ seq 1 100"
    assert lines[1:1 + OUTPUT_LINES] == [str(n) for n in range(1, OUTPUT_LINES + 1)]
    assert lines[1 + OUTPUT_LINES] == f"... {100 - OUTPUT_LINES} more line(s) of output not shown"
    assert lines[-1] == "exit 0 (completed)"


def test_json_renderer_prints_thread_events_only() -> None:
    out = io.StringIO()
    render = JsonRenderer(out)
    render(TurnStarted())
    render(LiveTextDelta(text="not in the JSON stream"))
    assert out.getvalue() == '{"type":"turn.started"}\n'


def test_a_patch_is_reported_once_when_it_completes() -> None:
    render, _out, err = _renderer(stream=False)
    changes = (FileUpdateChange(path="/ws/a.txt", kind="add"),)
    render(ItemStarted(item=FileChangeItem(id="item_0", changes=changes, status="in_progress")))
    assert err.getvalue() == ""  # in progress is neither applied nor failed yet
    render(ItemCompleted(item=FileChangeItem(id="item_0", changes=changes)))
    assert err.getvalue().strip() == "patch applied: add /ws/a.txt"
