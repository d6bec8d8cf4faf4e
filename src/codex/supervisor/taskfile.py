"""`tasks.toml` for `codex fanout --tasks FILE`: one table per task, its name the agent id.

    [fix-parser]
    prompt = "make tests/test_parser.py pass"
    instructions = "You are a careful engineer; change as little as possible."
    workspace = "worktree"              # or "shared" (default)
    profile = "workspace-write"         # never wider than the run's profile
    model = "gpt-5-codex"               # optional, like provider and approval_policy
    timeout = 600                       # seconds
    max_turns = 30
    score_command = ["sh", "-c", "pytest -q | tail -1"]   # highest-score
    # score_field = "score"             # or read the score from the JSON answer

Errors name the file, the line and the key (`tasks.toml:7: fix-parser.timeout: ...`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from codex.config.errors import ConfigError
from codex.config.toml_lines import index_key_lines, line_of
from codex.policies import ApprovalPolicy
from codex.security.profiles import UnknownProfileError, parse_profile
from codex.supervisor.spec import WORKSPACE_MODES, AgentSpec

_TEXT_KEYS = ("prompt", "instructions", "model", "provider", "score_field")
_KNOWN = {*_TEXT_KEYS, "profile", "approval_policy", "workspace", "timeout", "max_turns",
          "score_command"}


def load_tasks(path: Path) -> list[AgentSpec]:
    """The tasks of `path`, in file order; ConfigError for anything wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the task file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    lines = index_key_lines(text)
    specs: list[AgentSpec] = []
    for name, table in data.items():
        def fail(key: str | None, message: str, name: str = name) -> ConfigError:
            where = (name, key) if key else (name,)
            return ConfigError(str(path), message, line=line_of(lines, where),
                               key=".".join(where))

        if not isinstance(table, dict):
            raise fail(None, "each task is a table ([name] followed by its keys)")
        specs.append(_spec(name, table, fail))
    if not specs:
        raise ConfigError(str(path), "no task: add one table per task, e.g. [fix] with "
                                     "prompt = \"...\"")
    return specs


def _spec(name: str, table: dict[str, Any], fail: Any) -> AgentSpec:
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise fail(unknown[0], f"unknown key; a task knows {', '.join(sorted(_KNOWN))}")
    for key in _TEXT_KEYS:
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise fail(key, "must be a non-empty string")
    if "prompt" not in table:
        raise fail(None, "has no prompt; add prompt = \"what this agent should do\"")
    profile = table.get("profile")
    if profile is not None:
        try:
            profile = parse_profile(str(profile)).value
        except UnknownProfileError as exc:
            raise fail("profile", str(exc)) from None
    approval = table.get("approval_policy")
    if approval is not None:
        try:
            approval = ApprovalPolicy(approval)
        except ValueError:
            choices = ", ".join(p.value for p in ApprovalPolicy)
            raise fail("approval_policy", f"must be one of {choices}") from None
    workspace = table.get("workspace", "shared")
    if workspace not in WORKSPACE_MODES:
        raise fail("workspace", "must be \"shared\" or \"worktree\"")
    timeout = table.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or timeout <= 0):
        raise fail("timeout", "must be a positive number of seconds")
    max_turns = table.get("max_turns")
    if max_turns is not None and (isinstance(max_turns, bool) or not isinstance(max_turns, int)
                                  or max_turns < 1):
        raise fail("max_turns", "must be a whole number of at least 1")
    command = table.get("score_command")
    if command is not None and (not isinstance(command, list) or not command
                                or not all(isinstance(a, str) for a in command)):
        raise fail("score_command", "must be an argv array, e.g. [\"sh\", \"-c\", \"make test\"]")
    return AgentSpec(
        prompt=table["prompt"], name=name, instructions=table.get("instructions"),
        model=table.get("model"), provider=table.get("provider"), profile=profile,
        approval_policy=approval, workspace=workspace,
        timeout_s=float(timeout) if timeout is not None else None, max_turns=max_turns,
        score_command=tuple(command) if command else None, score_field=table.get("score_field"))
