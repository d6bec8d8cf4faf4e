"""Screen tests: the app's VT100 output rendered by pyte and compared with golden text
screens at 80 and 40 columns (cells, the approval overlay, footer states, a replayed
rollout). Regenerate after an intended change with CODEX_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from harness import Harness, Terminal, loop_settings, start, stop

from codex.agent import find_rollout, load_rollout
from codex.policies import ApprovalPolicy
from codex.tui.approval import ApprovalBroker
from codex.tui.lines import MINUS, PROMPT_MARK
from support.model_server import Call, ModelServer, Text, responses_reply, responses_text

pytestmark = pytest.mark.timeout(120)
GOLDEN = Path(__file__).with_name("golden")
COLUMNS = [80, 40]

PATCH = """*** Begin Patch
*** Update File: app.py
@@
 def main():
-    return 1
+    return 2
*** Add File: docs/notes.md
+hello
+world
*** End Patch"""


def normalized(text: str, workspace: Path) -> str:
    """Golden-stable text: ids, the workspace path (even when folded) and timers masked."""
    text = re.sub("(?:\n *)?".join(re.escape(ch) for ch in str(workspace)), "<WS>", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<SESSION>",
                  text)
    text = re.sub(r"Working \(\d+s", "Working (Ns", text)
    return re.sub(r"\((\d+)s\)", "(Ns)", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("CODEX_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    assert path.exists(), f"no golden screen {path}; create it with CODEX_UPDATE_GOLDEN=1"
    assert text + "\n" == path.read_text(encoding="utf-8")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "app.py").write_text("import os\n\n\ndef main():\n    return 1\n")
    return path


def shell(call_id: str, *argv: str) -> Call:
    return Call("shell", json.dumps({"command": list(argv)}), call_id)


def script(server: ModelServer) -> None:
    server.enqueue(
        responses_reply(Text("Looking around."), shell("c1", "cat", "app.py")),
        responses_reply(shell("c2", "ls")),
        responses_reply(shell("c3", "seq", "1", "12")),
        responses_reply(shell("c4", "ls", "no-such-file")),
        responses_reply(Call("apply_patch", PATCH, "c5", custom=True)),
        responses_reply(shell("c6", "touch", "made.txt")),
        responses_text("## Done\n\n1. changed `main` to return **2**\n2. added notes\n\n"
                       "```python\nprint(main())\n```"))


async def until_asked(h: Harness, broker: ApprovalBroker) -> str:
    await h.wait_for(lambda: broker.current is not None, what="an approval request")
    await h.settle(0.3)
    return "\n".join(h.terminal.screen_lines()).rstrip()


@pytest.mark.parametrize("columns", COLUMNS)
def test_cells_overlays_and_footer(model_server: ModelServer, workspace: Path, tmp_path: Path,
                                   columns: int) -> None:
    script(model_server)
    screens: dict[str, str] = {}

    async def main() -> Terminal:
        broker = ApprovalBroker()
        settings = loop_settings(model_server, workspace, tmp_path / "home", broker,
                                 approval=ApprovalPolicy.UNTRUSTED)
        h, ctx = await start(settings, broker, columns=columns, rows=24,
                             context_window=1000)
        screens["footer-idle"] = "\n".join(h.terminal.text().splitlines()[-3:])
        h.keys("fix main")
        h.keys("\r")
        screens["overlay-patch"] = await until_asked(h, broker)
        h.keys("y")
        screens["overlay-command"] = await until_asked(h, broker)
        h.keys("y")
        await h.wait_for(lambda: not h.controller.running, what="the turn to end")
        await h.settle(0.3)
        h.keys("\x03")
        await h.wait_text("press Ctrl-C again to quit")
        screens["footer-armed"] = "\n".join(h.terminal.screen_lines()).rstrip()
        await stop(h, ctx)
        return h.terminal

    terminal = asyncio.run(main())
    for name, screen in screens.items():
        check_golden(f"{name}-{columns}", normalized(screen, workspace))
    transcript = normalized(terminal.text(), workspace)
    check_golden(f"transcript-{columns}", transcript)
    # every committed cell is in the scrollback exactly once
    for line in (PROMPT_MARK + "fix main", "• Explored", f"• Edited 2 files (+3 {MINUS}1)",
                 "✔ You approved touch made.txt", "## Done", "print(main())"):
        assert transcript.count(line) == 1, line
    assert (workspace / "made.txt").exists()


@pytest.mark.parametrize("columns", COLUMNS)
def test_working_footer(model_server: ModelServer, workspace: Path, tmp_path: Path,
                        columns: int) -> None:
    model_server.enqueue(responses_reply(Text("slowly thinking")).stall_after(4, 3))

    async def main() -> str:
        broker = ApprovalBroker()
        h, ctx = await start(loop_settings(model_server, workspace, tmp_path / "home", broker),
                             broker, columns=columns)
        h.keys("go\r")
        await h.wait_text("Working (")
        h.keys("queued prompt\r")
        await h.wait_text("↳ queued: queued prompt")
        screen = "\n".join(h.terminal.screen_lines()).rstrip()
        h.app.controller.queued.clear()
        h.keys("\x1b")
        await h.wait_for(lambda: not h.controller.running, what="interrupted")
        await stop(h, ctx)
        return screen

    check_golden(f"footer-working-{columns}", normalized(asyncio.run(main()), workspace))


@pytest.mark.parametrize("columns", COLUMNS)
def test_replayed_rollout(model_server: ModelServer, workspace: Path, tmp_path: Path,
                          columns: int) -> None:
    home = tmp_path / "home"
    model_server.enqueue(responses_reply(Text("I will list."), shell("c1", "ls")),
                         responses_text("There is **app.py**."))

    async def first() -> None:
        broker = ApprovalBroker()
        h, ctx = await start(loop_settings(model_server, workspace, home, broker), broker,
                             columns=columns)
        h.keys("what is here?\r")
        await h.turn_done()
        await stop(h, ctx)

    async def again() -> str:
        broker = ApprovalBroker()
        loaded = load_rollout(find_rollout(home))
        h, ctx = await start(loop_settings(model_server, workspace, home, broker), broker,
                             columns=columns, resume=loaded)
        text = h.terminal.text()
        await stop(h, ctx)
        return text

    asyncio.run(first())
    check_golden(f"replay-{columns}", normalized(asyncio.run(again()), workspace))
