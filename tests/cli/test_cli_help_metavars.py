"""An argument's help shows its metavar only: typer 0.29 appended the Python type
(`[PROMPT | -] | resume ... <list[str]>`), which says nothing to a user."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest

RunCodex = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize("command, metavar", [
    ("exec", "[PROMPT | -] | resume [--last | ID] [PROMPT | -]"),
    ("sandbox", "-- CMD [ARGS]..."),
    ("apply-patch", "[FILE|-]"),
])
def test_argument_help_has_no_python_type(run_codex: RunCodex, command: str,
                                          metavar: str) -> None:
    result = run_codex(command, "--help")
    assert result.returncode == 0, result.stderr
    arguments = result.stdout.split("Arguments:")[1].split("Options:")[0]
    assert metavar in arguments
    assert not re.search(r"<(list\[\w+\]|str|int|Path)>", result.stdout), arguments
