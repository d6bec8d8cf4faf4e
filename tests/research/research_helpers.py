"""How the research tests start `codex research`: argv and environment against the scripted
model server, with a private CODEX_HOME and test keys for the loopback providers; and the
suite's fixtures (re-exported by conftest.py, imported by the native e2e suite).

`ENTRY` is the command that runs codex: the Python package here; tests/e2e/test_native_research.py
points it at the Nuitka binary so the same tests cover both."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from web_world import WebWorld

from support.model_server import ModelServer

RunResearch = Callable[..., subprocess.CompletedProcess[str]]
ENTRY: list[str] = [sys.executable, "-m", "codex"]


def research_argv(server: ModelServer, args: Sequence[str],
                  config: Sequence[str] = ()) -> list[str]:
    """`codex -c <loopback model> [-c CONFIG ...] research ARGS` (codex: `ENTRY`)."""
    overrides = ["-c", "model_provider=loop",
                 "-c", f"model_providers.loop.base_url={server.url}",
                 "-c", "model_providers.loop.wire_api=responses",
                 "-c", "model_providers.loop.request_max_retries=0"]
    for item in config:
        overrides += ["-c", item]
    return [*ENTRY, *overrides, "research", *args]


def research_env(codex_home: Path, **extra: str) -> dict[str, str]:
    """Our environment minus CODEX_*/OPENAI_*, with the test keys and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update({"CODEX_HOME": str(codex_home), "NO_COLOR": "1",
                "BRAVE_API_KEY": "brave-test-key", "TAVILY_API_KEY": "tvly-test-key", **extra})
    return env


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def web() -> Iterator[WebWorld]:
    world = WebWorld()
    try:
        yield world
    finally:
        world.close()


@pytest.fixture
def run_research(model_server: ModelServer, codex_home: Path,
                 tmp_path: Path) -> RunResearch:
    """`codex -c <loopback model> [-c ...] research ARGS`, to completion."""

    def run(*args: str, config: tuple[str, ...] = (), timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(research_argv(model_server, args, config), capture_output=True,
                              text=True, env=research_env(codex_home), cwd=tmp_path,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    return run
