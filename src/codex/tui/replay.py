"""A resumed session's conversation drawn again as history cells before it continues."""

from __future__ import annotations

import json
import shlex

from codex.agent import LoadedRollout
from codex.model import CustomToolCall, FunctionCall, Message
from codex.tui.cells import note, user_cell
from codex.tui.lines import Line
from codex.tui.markdown import render_markdown


def replay_lines(loaded: LoadedRollout) -> list[Line]:
    """User prompts, answers (Markdown) and the commands and patches of `loaded`."""
    lines: list[Line] = []
    for item in loaded.items:
        if isinstance(item, Message) and item.role == "user":
            lines += [[], *user_cell(item.text)]
        elif isinstance(item, Message) and item.role == "assistant":
            lines += [[], *render_markdown(item.text)]
        elif isinstance(item, FunctionCall) and item.name == "shell":
            lines += note("Ran " + _command(item.arguments))
        elif isinstance(item, CustomToolCall | FunctionCall) and item.name == "apply_patch":
            lines += note("Applied a patch")
    return lines


def _command(arguments: str) -> str:
    try:
        argv = json.loads(arguments).get("command")
    except (ValueError, AttributeError):
        return "a command"
    if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
        return shlex.join(argv)
    return "a command"
