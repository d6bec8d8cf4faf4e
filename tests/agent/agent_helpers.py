"""Helpers for the agent suite: run `codex exec` against the loopback server and read what it
left behind (JSON events, rollout files)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from support.model_server import ModelServer

SCHEMA_PATH = Path(__file__).with_name("exec_events.schema.json")


@dataclass
class ExecRun:
    """A finished `codex exec` process."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        """The --json lines, parsed (every stdout line must be JSON)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def items(self, kind: str, phase: str = "item.completed") -> list[dict[str, Any]]:
        return [e["item"] for e in self.events if e["type"] == phase and e["item"]["type"] == kind]


def assert_valid_events(events: list[dict[str, Any]]) -> None:
    """Every event validates against tests/agent/exec_events.schema.json."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event}: {errors[0].message}"


def exec_command(server: ModelServer, workspace: Path, args: Sequence[str], *,
                 wire_api: str = "responses", provider: Sequence[str] = (),
                 global_args: Sequence[str] = ()) -> list[str]:
    """argv for `python -m codex -C WS [global] exec -c <loopback provider> ARGS`."""
    table = [
        "-c", "model_provider=loop",
        "-c", f"model_providers.loop.base_url={server.url}",
        "-c", f"model_providers.loop.wire_api={wire_api}",
        "-c", "model_providers.loop.request_max_retries=3",
        "-c", "model_providers.loop.stream_max_retries=3",
        *provider,
    ]
    return [sys.executable, "-m", "codex", "-C", str(workspace), *global_args, "exec",
            *table, *args]


def exec_env(codex_home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment minus CODEX_*/OPENAI_* settings, with a private CODEX_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update({"CODEX_HOME": str(codex_home), "NO_COLOR": "1", **(extra or {})})
    return env


def rollout_files(codex_home: Path) -> list[Path]:
    return sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))


def rollout_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]
