"""End to end in tmux: the Python entry point and the native binary, against the loopback
model server, in a real terminal (scrollback, keys, bracketed paste, resize, `stty`)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux import Tmux

from codex.tui.lines import PROMPT_MARK
from e2e.e2e_helpers import REPO, host_triple
from support.model_server import (
    Call,
    ModelServer,
    Pause,
    Reply,
    Text,
    encode_sse,
    responses_events,
    responses_reply,
    responses_text,
)
from support.procs import pids_with

pytestmark = pytest.mark.timeout(180)
ENTRIES = ["python", "native"]


def entry_argv(entry: str) -> list[str]:
    if entry == "python":
        return [sys.executable, "-m", "codex"]
    binary = REPO / "vendor" / host_triple() / "codex" / "codex"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with `python3 npm/scripts/build_native.py` "
                    "(dev/test does this before the test suites)")
    return [str(binary)]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    terminal = Tmux(tmp_path / "tmux.sock")
    yield terminal
    terminal.kill()


def codex_argv(entry: str, server: ModelServer, *args: str) -> list[str]:
    provider = ["-c", "model_provider=loop", "-c", f"model_providers.loop.base_url={server.url}",
                "-c", "model_providers.loop.wire_api=responses", "-c", "model=test-model"]
    return [*entry_argv(entry), *provider, *args]


def codex_env(entry: str, home: Path, extra_env: dict[str, str] | None = None,
              ) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home.parent), "CODEX_HOME": str(home),
           "TERM": "xterm-256color", "LANG": "C.UTF-8", **(extra_env or {})}
    if entry == "python":
        env["PYTHONPATH"] = str(REPO / "src")
    return env


def start(tmux: Tmux, entry: str, server: ModelServer, workspace: Path, home: Path,
          *args: str, extra_env: dict[str, str] | None = None) -> None:
    tmux.start(codex_argv(entry, server, *args), codex_env(entry, home, extra_env), workspace)


def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "home" / ".codex"
    home.mkdir(parents=True)
    return home


def assert_sane(stty: str) -> None:
    """`stty -a` output of a terminal left in cooked mode with echo on."""
    assert re.search(r"(?<!-)icanon", stty) and re.search(r"(?<![-\w])echo\b", stty), stty


def status_rows(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("test-model · profile"))


@pytest.mark.parametrize("entry", ENTRIES)
def test_long_answer_stays_in_scrollback_and_resume_shows_it(
        model_server: ModelServer, workspace: Path, tmp_path: Path, tmux: Tmux,
        entry: str) -> None:
    home = codex_home(tmp_path)
    answer = "\n".join(f"row {i:03} of the answer" for i in range(60))
    model_server.enqueue(responses_text(answer))
    start(tmux, entry, model_server, workspace, home)
    tmux.wait_text("⏎ send")
    tmux.type("print sixty rows")
    tmux.wait_text(PROMPT_MARK + "print sixty rows")  # drawn in the composer before Enter
    tmux.keys("Enter")
    text = tmux.wait_text("row 059 of the answer")
    tmux.wait(lambda t: "Working" not in t.split("row 059")[-1], "the turn to end")
    text = tmux.capture()
    assert "row 000 of the answer" not in tmux.screen()  # scrolled off the screen ...
    for i in range(60):  # ... into tmux's history, each row exactly once
        assert text.count(f"row {i:03} of the answer") == 1, i
    # Ctrl-C twice quits; the terminal is sane afterwards (cooked mode, echo on)
    tmux.keys("C-c")
    tmux.wait_text("press Ctrl-C again to quit")
    tmux.keys("C-c")
    text = tmux.wait_text("EXITED=0")
    assert_sane(tmux.wait_exit())
    assert "codex resume " in text

    tmux.kill()
    again = Tmux(tmp_path / "tmux2.sock")
    try:
        start(again, entry, model_server, workspace, home, "resume", "--last")
        again.wait_text("(resumed)")
        text = again.wait_text("row 059 of the answer")
        assert "print sixty rows" in text and "⏎ send" in text
    finally:
        again.kill()


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(("key", "runs"), [("y", True), ("Escape", False)])
def test_approval_y_runs_and_esc_does_not(model_server: ModelServer, workspace: Path,
                                          tmp_path: Path, tmux: Tmux, entry: str, key: str,
                                          runs: bool) -> None:
    model_server.enqueue(
        responses_reply(Call("shell", json.dumps({"command": ["touch", "made.txt"]}), "c1")),
        responses_text("all done"))
    start(tmux, entry, model_server, workspace, codex_home(tmp_path), "-s", "workspace-write",
          "-a", "untrusted",
          "make the file")
    tmux.wait_text("Allow codex to run this command?")
    tmux.keys(key)
    tmux.wait_text("all done")
    assert (workspace / "made.txt").exists() is runs


@pytest.mark.parametrize("entry", ENTRIES)
def test_esc_interrupts_and_kills_the_command(model_server: ModelServer, workspace: Path,
                                              tmp_path: Path, tmux: Tmux, entry: str) -> None:
    model_server.enqueue(responses_reply(Text("Sleeping."), Call("shell", json.dumps(
        {"command": ["sleep", "77.5"], "timeout_ms": 600_000}), "c1")))
    start(tmux, entry, model_server, workspace, codex_home(tmp_path), "--full-auto", "sleep")
    tmux.wait_text("Running sleep 77.5")
    tmux.wait(lambda t: bool(pids_with("77.5")), "the command to run")  # control
    tmux.keys("Escape")
    tmux.wait_text("interrupted")
    deadline_text = tmux.wait(lambda t: not pids_with("77.5"), "the command to be killed", 10)
    assert "Working (" not in tmux.screen(), deadline_text


@pytest.mark.parametrize("entry", ENTRIES)
def test_resize_keeps_one_composer_and_status(model_server: ModelServer, workspace: Path,
                                              tmp_path: Path, tmux: Tmux, entry: str) -> None:
    model_server.enqueue(responses_text("short answer"))
    start(tmux, entry, model_server, workspace, codex_home(tmp_path))
    tmux.wait_text("⏎ send")
    tmux.type("hello")
    tmux.keys("Enter")
    tmux.wait_text("short answer")
    for columns, rows in ((50, 20), (100, 30), (40, 24), (80, 24)):
        tmux.resize(columns, rows)
        tmux.wait(lambda t, c=columns: status_rows(t) >= 1, f"redraw at {columns}")
    tmux.type("draft")
    text = tmux.wait_text(PROMPT_MARK + "draft")
    assert status_rows(text) == 1, text
    assert sum(1 for line in text.splitlines() if line.startswith(PROMPT_MARK + "draft")) == 1, text


def slow_lines(count: int, pause: float) -> Reply:
    """An answer of `count` lines streamed one line per `pause` (each line is committed
    to the scrollback on its own)."""
    lines = [f"line {i:03d}\n" for i in range(count)]
    frames = encode_sse(responses_events(Text("".join(lines), chunks=tuple(lines))))
    return Reply(parts=[part for frame in frames for part in (frame, Pause(pause))])


def cooked_samples(tmux: Tmux, until: str) -> tuple[int, int]:
    """The pane terminal's modes, read from outside as fast as possible until `until` is on
    the screen: (samples taken, samples in cooked mode: ICRNL or ICANON on)."""
    fd = os.open(tmux.pane_tty(), os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    taken = cooked = 0
    try:
        deadline = time.monotonic() + 60
        while taken == 0 or until not in tmux.screen():
            assert time.monotonic() < deadline, f"timed out waiting for {until!r}"
            for _ in range(2000):
                iflag, _oflag, _cflag, lflag, *_ = termios.tcgetattr(fd)
                cooked += bool(iflag & termios.ICRNL or lflag & termios.ICANON)
            taken += 2000
    finally:
        os.close(fd)
    return taken, cooked


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_terminal_stays_raw_while_lines_are_printed(
        model_server: ModelServer, workspace: Path, tmp_path: Path, tmux: Tmux,
        entry: str) -> None:
    """Printing into the scrollback must not drop the terminal to cooked mode, even for a
    moment: there the tty turns an Enter typed meanwhile into Ctrl-J (a newline in the
    composer instead of a send), which is how a prompt typed during start-up got stuck."""
    model_server.enqueue(slow_lines(120, 0.02), responses_text("second answer"))
    start(tmux, entry, model_server, workspace, codex_home(tmp_path))
    tmux.wait_text("⏎ send")
    tmux.type("go")
    tmux.keys("Enter")
    tmux.wait_text("line 000")
    taken, cooked = cooked_samples(tmux, "line 119")
    assert cooked == 0, f"{cooked} of {taken} samples in cooked mode"
    tmux.wait(lambda t: "Working" not in t, "the turn to end")
    tmux.type("again")
    tmux.keys("Enter")
    tmux.wait_text("second answer")
    tmux.keys("C-c", "C-c")
    tmux.wait_text("EXITED=0")
    taken, cooked = cooked_samples(tmux, "EXITED=0")
    assert cooked == taken, "control: the sampler sees the cooked mode the app leaves behind"


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_5000_character_paste_reaches_the_model_whole(
        model_server: ModelServer, workspace: Path, tmp_path: Path, tmux: Tmux,
        entry: str) -> None:
    model_server.enqueue(responses_text("received"))
    pasted = "".join(f"{i:04d}:" + "abcdefghij" * 2 + "\n" for i in range(200))[:5000]
    start(tmux, entry, model_server, workspace, codex_home(tmp_path))
    tmux.wait_text("⏎ send")
    tmux.paste(pasted)
    tmux.wait_text("[Pasted Content 5000 chars]")
    tmux.keys("Enter")
    tmux.wait_text("received")
    body = json.loads(model_server.requests[0].body)
    users = [item for item in body["input"] if item.get("role") == "user"]
    assert users[-1]["content"][0]["text"] == pasted


@pytest.mark.parametrize("entry", ENTRIES)
def test_no_color_means_no_colour_codes(model_server: ModelServer, workspace: Path,
                                        tmp_path: Path, tmux: Tmux, entry: str) -> None:
    def coloured(no_color: bool, socket: Path) -> list[str]:
        terminal = Tmux(socket)
        model_server.enqueue(responses_text("plain *answer* with `code`"))
        start(terminal, entry, model_server, workspace, codex_home(socket.parent / socket.stem),
              "hi", extra_env={"NO_COLOR": "1"} if no_color else {})
        try:
            terminal.wait_text("with code")
            terminal.wait(lambda t: "Working" not in t, "the turn to end")
            text = terminal.capture(escapes=True)
        finally:
            terminal.kill()
        sgr = re.findall(r"\x1b\[([0-9;]*)m", text)
        # 39 and 49 restore the default colours (tmux writes them around attribute changes)
        return [params for params in sgr
                if re.search(r"(?:^|;)(3[0-8]|4[0-8]|9\d|10\d)(?:;|$)", params)]

    assert coloured(False, tmp_path / "c1.sock")  # control: colour is there by default
    assert coloured(True, tmp_path / "c2.sock") == []


def test_term_dumb_is_refused_with_a_pointer_to_exec(model_server: ModelServer,
                                                     workspace: Path, tmp_path: Path,
                                                     tmux: Tmux) -> None:
    start(tmux, "python", model_server, workspace, codex_home(tmp_path),
          extra_env={"TERM": "dumb"})
    text = tmux.wait_text("EXITED=")
    assert "EXITED=2" in text and "TERM=dumb" in text and "codex exec" in text


@pytest.mark.parametrize("entry", ENTRIES)
def test_ctrl_z_suspends_with_a_sane_terminal_and_fg_resumes(
        model_server: ModelServer, workspace: Path, tmp_path: Path, tmux: Tmux,
        entry: str) -> None:
    home = codex_home(tmp_path)
    tmux.shell(codex_env(entry, home), workspace)
    tmux.wait(lambda t: t.strip().endswith("$"), "the shell prompt")
    tmux.type(shlex.join(codex_argv(entry, model_server)))
    tmux.keys("Enter")
    tmux.wait_text("⏎ send")
    tmux.keys("C-z")
    tmux.wait_text("Stopped")
    # The marker is split in the typed line, so only stty's finished output shows it whole.
    tmux.type("stty -a; echo STTY-\"\"DONE")
    tmux.keys("Enter")
    text = tmux.wait_text("STTY-DONE\n")
    assert_sane(text.split("Stopped")[-1])
    tmux.type("fg")
    tmux.keys("Enter")
    tmux.type("back again")
    tmux.wait_text(PROMPT_MARK + "back again")


def record_session(home: Path, workspace: Path, prompt: str, answer: str) -> str:
    """A finished session on disk, written with the core's own rollout writer."""
    from codex.agent.rollout import RolloutWriter, new_session_id
    from codex.model import Message

    session_id = new_session_id()
    writer = RolloutWriter.create(home, session_id, {
        "id": session_id, "cwd": str(workspace), "model": "test-model",
        "model_provider": "loop"})
    writer.append_items((Message("user", prompt), Message("assistant", answer)))
    writer.close()
    return session_id


@pytest.mark.parametrize("entry", ENTRIES)
def test_resume_picker_searches_and_continues(model_server: ModelServer, workspace: Path,
                                              tmp_path: Path, tmux: Tmux, entry: str) -> None:
    home = codex_home(tmp_path)
    record_session(home, workspace, "explain the parser", "It parses.")
    record_session(home, workspace, "fix the flaky test", "Fixed it.")
    start(tmux, entry, model_server, workspace, home, "resume")
    tmux.wait_text("Resume a previous session")
    screen = tmux.screen()
    assert "explain the parser" in screen and "fix the flaky test" in screen
    tmux.type("parser")
    tmux.wait(lambda t: "fix the flaky test" not in tmux.screen(), "the list to filter")
    tmux.keys("Enter")
    text = tmux.wait_text("It parses.")
    assert "(resumed)" in text and "fix the flaky test" not in text


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("entry", ENTRIES)
def test_image_flag_attaches_the_image_to_the_first_prompt(
        model_server: ModelServer, workspace: Path, tmp_path: Path, tmux: Tmux,
        entry: str) -> None:
    import base64

    (workspace / "dot.png").write_bytes(PNG)
    model_server.enqueue(responses_text("a single pixel"), responses_text("plain"))
    start(tmux, entry, model_server, workspace, codex_home(tmp_path), "-i", "dot.png",
          "what is in the picture")
    tmux.wait_text("a single pixel")
    assert "with 1 image" in tmux.capture()
    tmux.type("and now?")
    tmux.keys("Enter")
    tmux.wait_text("plain")
    first, second = (json.loads(r.body)["input"][-1] if i == 0 else json.loads(r.body)["input"]
                     for i, r in enumerate(model_server.requests))
    assert first["content"][0] == {"type": "input_text", "text": "what is in the picture"}
    assert first["content"][1]["image_url"] == \
        "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert json.dumps(second).count("input_image") == 1  # the next prompt carries none


def test_image_flag_with_a_non_image_is_a_usage_error(model_server: ModelServer, workspace: Path,
                                                     tmp_path: Path, tmux: Tmux) -> None:
    (workspace / "notes.txt").write_text("text")
    start(tmux, "python", model_server, workspace, codex_home(tmp_path), "-i", "notes.txt")
    text = tmux.wait_text("EXITED=")
    assert "EXITED=2" in text and "--image notes.txt: not an image file name" in text
    assert not model_server.requests


@pytest.mark.parametrize("entry", ENTRIES)
def test_sigterm_and_sighup_leave_a_sane_terminal(model_server: ModelServer, workspace: Path,
                                                  tmp_path: Path, tmux: Tmux,
                                                  entry: str) -> None:
    import signal

    home = codex_home(tmp_path)
    for number, sig in enumerate((signal.SIGTERM, signal.SIGHUP)):
        terminal = Tmux(tmp_path / f"sig{number}.sock")
        try:
            start(terminal, entry, model_server, workspace, home, "-c", f"marker.m{number}=1")
            terminal.wait_text("⏎ send")
            token = f"marker.m{number}=1"  # an argv element of codex only (not of tmux's
            pids = [pid for pid in pids_with(token)  # shell, whose script merely contains it)
                    if token in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")]
            assert len(pids) == 1, "control: the process to signal is running"
            for pid in pids:
                os.kill(pid, sig)
            text = terminal.wait_exit()
            assert text.startswith(f"EXITED={128 + sig}"), text
            assert_sane(text)
            assert "\x1b[?2004h" not in terminal.capture(escapes=True).split("EXITED=")[-1]
        finally:
            terminal.kill()


FAULT = '''
import codex.tui.controller as controller

submit = controller.Controller.submit


def failing_submit(self, text):
    if text == "boom":
        raise RuntimeError("injected fault")
    return submit(self, text)


controller.Controller.submit = failing_submit
'''


def test_a_crash_restores_the_terminal(model_server: ModelServer, workspace: Path,
                                       tmp_path: Path, tmux: Tmux) -> None:
    """A bug that escapes the app (injected through sitecustomize) still leaves the terminal
    in cooked mode with echo on, bracketed paste off, and says what happened."""
    faults = tmp_path / "faults"
    faults.mkdir()
    (faults / "sitecustomize.py").write_text(FAULT)
    home = codex_home(tmp_path)
    env = codex_env("python", home)
    env["PYTHONPATH"] = f"{faults}:{env['PYTHONPATH']}"
    tmux.start(codex_argv("python", model_server), env, workspace)
    tmux.wait_text("⏎ send")
    tmux.type("fine")  # control: the fault fires only for "boom"
    tmux.keys("C-u")
    tmux.type("boom")
    tmux.keys("Enter")
    text = tmux.wait_text("EXITED=")
    after = tmux.wait_exit()
    assert not after.startswith("EXITED=0"), text
    assert_sane(after)
    joined = text.replace("\n", "")  # tmux wraps the long line at 80 columns
    assert "internal error (RuntimeError: injected fault)" in joined, text
    assert "Traceback" in text and "codex resume " in joined
    assert "\x1b[?2004h" not in tmux.capture(escapes=True).split("EXITED=")[-1]
