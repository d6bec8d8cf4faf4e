"""Approval flows typed into a real pseudo-terminal: the prompt is read from /dev/tty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex.execpolicy import Decision, evaluate, load_rules

PROGRAM = str(Path(__file__).with_name("approval_program.py"))
PROMPT = r"\[n\] no  \[q\] abort > "

pytestmark = pytest.mark.timeout(120)


def start(spawn_pty: Callable[..., Any], home: Path, *commands: list[str],
          policy: str = "untrusted") -> Any:
    env = dict(os.environ, CODEX_HOME=str(home), PYTHONUNBUFFERED="1")
    return spawn_pty([PROGRAM, str(home), policy, str(home), *map(json.dumps, commands)], env)


def result(child: Any) -> dict[str, Any]:
    found = child.expect(r"RESULT (\{.*?\})\r?\n")
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize(("typed", "run", "review"), [
    (b"y\r", True, "approved"),
    (b"n\r", False, "denied"),
    (b"no\r", False, "denied"),
    (b"\x04", False, "denied"),  # Ctrl-D: end of input
])
def test_single_answers(spawn_pty: Callable[..., Any], tmp_path: Path, typed: bytes, run: bool,
                        review: str) -> None:
    child = start(spawn_pty, tmp_path, ["make", "deploy"])
    child.expect(r"command: make deploy")
    child.expect(r"reason:  `make` is not a known-safe command")
    child.expect(PROMPT)
    child.send(typed)
    got = result(child)
    assert (got["run"], got["review"], got["asked"]) == (run, review, True)
    assert child.wait() == 0


def test_ctrl_c_aborts(spawn_pty: Callable[..., Any], tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["make", "deploy"], ["make", "other"])
    child.expect(PROMPT)
    child.send(b"\x03")
    got = result(child)
    assert got == {"run": False, "asked": True, "abort": True, "review": "abort",
                   "reason": "the user aborted"}
    assert child.wait() == 3, "abort stops the whole task: the second command is never asked"


def test_q_aborts(spawn_pty: Callable[..., Any], tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["make"])
    child.expect(PROMPT)
    child.send(b"q\r")
    assert result(child)["review"] == "abort"
    assert child.wait() == 3


def test_invalid_answer_is_asked_again(spawn_pty: Callable[..., Any], tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["make"])
    child.expect(PROMPT)
    child.send(b"perhaps\r")
    child.expect(r"please answer y, a, A, n or q")
    child.expect(PROMPT)
    child.send(b"y\r")
    assert result(child)["run"] is True
    assert child.wait() == 0


def test_session_approval_covers_the_same_command_only(spawn_pty: Callable[..., Any],
                                                       tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["make", "test"], ["make", "test"], ["make", "lint"])
    child.expect(r"command: make test")
    child.expect(PROMPT)
    child.send(b"a\r")
    assert result(child)["review"] == "approved_for_session"
    second = result(child)  # no prompt in between
    assert (second["run"], second["asked"]) == (True, False)
    child.expect(r"command: make lint")
    child.expect(PROMPT)
    child.send(b"n\r")
    assert result(child)["run"] is False
    assert child.wait() == 0


def test_always_writes_a_rule_used_by_later_processes(spawn_pty: Callable[..., Any],
                                                      tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["cargo", "test", "--all"])
    child.expect(r"\[A\] always \(save a rule\)")
    child.expect(PROMPT)
    child.send(b"A\r")
    got = result(child)
    assert got["review"] == "approved_always" and "default.toml" in got["reason"]
    assert child.wait() == 0
    saved = tomllib.loads((tmp_path / "rules" / "default.toml").read_text())
    assert saved["rule"] == [{"pattern": ["cargo", "test", "--all"], "decision": "allow",
                              "justification": "approved always by the user",
                              "match": [["cargo", "test", "--all"]]}]
    decision = evaluate(["cargo", "test", "--all"], workspace=tmp_path,
                        rules=load_rules(tmp_path))
    assert decision.decision is Decision.ALLOW
    # A new process does not ask again.
    again = start(spawn_pty, tmp_path, ["cargo", "test", "--all"])
    later = result(again)
    assert (later["run"], later["asked"], later["review"]) == (True, False, None)
    assert later["reason"] == "approved always by the user"
    assert b"wants to run" not in again.transcript
    assert again.wait() == 0


def test_typed_word_always(spawn_pty: Callable[..., Any], tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["tox", "-e", "py311"])
    child.expect(PROMPT)
    child.send(b"always\r")
    assert result(child)["review"] == "approved_always"
    assert child.wait() == 0
    assert load_rules(tmp_path).rules[0].pattern == ("tox", "-e", "py311")


def test_forbidden_and_safe_commands_never_prompt(spawn_pty: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["sudo", "ls"], ["git", "status"])
    first = result(child)
    assert first["run"] is False and first["asked"] is False
    assert first["reason"].startswith("forbidden by policy: ")
    second = result(child)
    assert second["run"] is True and second["asked"] is False
    assert child.wait() == 0
    assert b"wants to run" not in child.transcript


def test_escape_sequences_are_shown_escaped(spawn_pty: Callable[..., Any],
                                            tmp_path: Path) -> None:
    child = start(spawn_pty, tmp_path, ["make", "\x1b]0;pwned\x07\x1b[2Jok"])
    found = child.expect(r"command: (.*)\r\n")
    assert b"\x1b" not in found.group(1) and b"\x07" not in found.group(1)
    assert rb"\x1b]0;pwned\x07" in found.group(1)
    child.expect(PROMPT)
    child.send(b"n\r")
    assert result(child)["run"] is False
    assert child.wait() == 0


def test_without_a_terminal_nobody_is_asked(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, PROGRAM, str(tmp_path), "untrusted", str(tmp_path),
         json.dumps(["make", "deploy"]), json.dumps(["ls"])],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        start_new_session=True)  # a new session has no controlling terminal
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line.removeprefix("RESULT ")) for line in
                     done.stdout.splitlines())
    assert (first["run"], first["asked"], first["review"]) == (False, False, "denied")
    assert "nobody can be asked" in first["reason"]
    assert second["run"] is True
