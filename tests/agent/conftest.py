"""Fixtures for the agent suite: the loopback model server, a git workspace, a private
CODEX_HOME, and `codex exec` run as a real subprocess against the server."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from agent_helpers import ExecRun, exec_command, exec_env

from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)
from support.workspaces import codex_home, workspace  # noqa: F401  (re-exported fixtures)


@pytest.fixture
def run_exec(model_server: ModelServer, workspace: Path,  # noqa: F811
             codex_home: Path) -> Callable[..., ExecRun]:  # noqa: F811
    """Run `codex exec ARGS` to completion against this test's server."""

    def run(*args: str, stdin: str | None = None, wire_api: str = "responses",
            provider: Sequence[str] = (), global_args: Sequence[str] = (),
            env: dict[str, str] | None = None, timeout: float = 90) -> ExecRun:
        proc = subprocess.run(
            exec_command(model_server, workspace, args, wire_api=wire_api, provider=provider,
                         global_args=global_args),
            input=stdin if stdin is not None else "", capture_output=True, text=True,
            env=exec_env(codex_home, env), cwd=workspace, timeout=timeout)
        return ExecRun(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts in the background; SIGKILLed by pid if still running."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
