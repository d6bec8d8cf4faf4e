"""Fixtures for the research suite: the scripted model server, a private CODEX_HOME, a web of
loopback hosts (127.0.0.2 ... as distinct sites) and search-provider servers speaking the
Brave, Tavily and SearXNG JSON formats, and `codex research` run as a subprocess."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from research_helpers import RunResearch, research_argv, research_env
from web_world import WebWorld

from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)


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
def run_research(model_server: ModelServer, codex_home: Path,  # noqa: F811
                 tmp_path: Path) -> RunResearch:
    """`codex -c <loopback model> [-c ...] research ARGS`, to completion."""

    def run(*args: str, config: tuple[str, ...] = (), timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(research_argv(model_server, args, config), capture_output=True,
                              text=True, env=research_env(codex_home), cwd=tmp_path,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    return run
