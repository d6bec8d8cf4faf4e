"""`--help` is drawn with rich on a terminal and stays click's plain text everywhere else."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

PANEL_TOP = "╭─ Options"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def help_on_terminal(*args: str, extra_env: dict[str, str] | None = None) -> str:
    """Run `codex ARGS --help` with stdout on a real pseudo-terminal and return what it drew."""
    leader, follower = pty.openpty()
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env.update({"TERM": "xterm-256color", **(extra_env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "codex", *args, "--help"], stdout=follower,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode()


def help_through_pipe(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "codex", *args, "--help"], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


@pytest.mark.parametrize("args", [(), ("sandbox",), ("config", "show")])
def test_terminal_help_has_styled_panels(args: tuple[str, ...]) -> None:
    drawn = help_on_terminal(*args)
    assert PANEL_TOP in ANSI.sub("", drawn)
    assert "\x1b[" in drawn  # styles reached the terminal
    assert "Usage:" in drawn


@pytest.mark.parametrize("args", [(), ("sandbox",)])
def test_piped_help_is_plain_click_text(args: tuple[str, ...]) -> None:
    plain = help_through_pipe(*args)
    assert plain.startswith("Usage: codex")
    assert "\nOptions:\n" in plain
    assert PANEL_TOP not in plain and "\x1b[" not in plain


def test_no_color_keeps_terminal_help_plain() -> None:
    drawn = help_on_terminal(extra_env={"NO_COLOR": "1"})
    assert PANEL_TOP not in drawn and "\x1b[" not in drawn
    assert "Options:" in drawn


def test_terminal_help_lists_the_same_commands_and_options_as_plain_help() -> None:
    drawn = ANSI.sub("", help_on_terminal())
    plain = help_through_pipe()
    for word in ("sandbox", "exec", "doctor", "profiles", "--config-profile", "--cd"):
        assert word in plain and word in drawn
