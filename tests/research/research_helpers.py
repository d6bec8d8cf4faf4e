"""How the research tests start `codex research`: argv and environment against the scripted
model server, with a private CODEX_HOME and test keys for the loopback providers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from support.model_server import ModelServer

RunResearch = Callable[..., subprocess.CompletedProcess[str]]


def research_argv(server: ModelServer, args: Sequence[str],
                  config: Sequence[str] = ()) -> list[str]:
    """`python -m codex -c <loopback model> [-c CONFIG ...] research ARGS`."""
    overrides = ["-c", "model_provider=loop",
                 "-c", f"model_providers.loop.base_url={server.url}",
                 "-c", "model_providers.loop.wire_api=responses",
                 "-c", "model_providers.loop.request_max_retries=0"]
    for item in config:
        overrides += ["-c", item]
    return [sys.executable, "-m", "codex", *overrides, "research", *args]


def research_env(codex_home: Path, **extra: str) -> dict[str, str]:
    """Our environment minus CODEX_*/OPENAI_*, with the test keys and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update({"CODEX_HOME": str(codex_home), "NO_COLOR": "1",
                "BRAVE_API_KEY": "brave-test-key", "TAVILY_API_KEY": "tvly-test-key", **extra})
    return env
