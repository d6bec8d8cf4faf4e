"""Fixtures for the MCP suite (the real test servers are in mcp_tools.py): a private
CODEX_HOME with a config.toml, the loopback model server, and `codex exec` run as a subprocess
against it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.agent_helpers import ExecRun, exec_command, exec_env
from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)
from support.workspaces import codex_home, workspace  # noqa: F401  (re-exported fixtures)


@pytest.fixture
def run_exec(model_server: ModelServer, workspace: Path,  # noqa: F811
             codex_home: Path) -> Callable[..., ExecRun]:  # noqa: F811
    """`codex exec --json PROMPT` against the loopback model, with CODEX_HOME's config."""

    def run(prompt: str, *extra: str, timeout: float = 120) -> ExecRun:
        argv = exec_command(model_server, workspace, [*extra, "--json", prompt])
        done = subprocess.run(argv, capture_output=True, text=True, env=exec_env(codex_home),
                              timeout=timeout, stdin=subprocess.DEVNULL)
        return ExecRun(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def write_config(codex_home: Path) -> Iterator[Callable[[str], Path]]:  # noqa: F811
    def write(text: str) -> Path:
        path = codex_home / "config.toml"
        path.write_text(text)
        return path

    yield write
