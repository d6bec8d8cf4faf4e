"""Fixtures for the research suite: the scripted model server, a private CODEX_HOME, a web of
loopback hosts (127.0.0.2 ... as distinct sites) and search-provider servers speaking the
Brave, Tavily and SearXNG JSON formats, and `codex research` run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from web_world import WebWorld

from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)

RunResearch = Callable[..., subprocess.CompletedProcess[str]]


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
        overrides = ["-c", "model_provider=loop",
                     "-c", f"model_providers.loop.base_url={model_server.url}",
                     "-c", "model_providers.loop.wire_api=responses",
                     "-c", "model_providers.loop.request_max_retries=0"]
        for item in config:
            overrides += ["-c", item]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
        env.update({"CODEX_HOME": str(codex_home), "NO_COLOR": "1",
                    "BRAVE_API_KEY": "brave-test-key", "TAVILY_API_KEY": "tvly-test-key"})
        return subprocess.run([sys.executable, "-m", "codex", *overrides, "research", *args],
                              capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    return run
