"""Run the real `codex` entry point in a subprocess with an isolated CODEX_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunCodex = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    return home


@pytest.fixture
def codex_env(tmp_path: Path, codex_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CODEX_", "_CODEX")) and k != "OPENAI_BASE_URL"}
    env.update(CODEX_HOME=str(codex_home), HOME=str(tmp_path), COLUMNS="120")
    return env


@pytest.fixture
def run_codex(codex_env: dict[str, str], tmp_path: Path) -> RunCodex:
    """`python -m codex ARGS` -> CompletedProcess (text), never raising on exit status."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "codex", *args],
            env={**codex_env, **(env or {})}, cwd=cwd or tmp_path,
            capture_output=True, text=True, timeout=120, check=False,
        )

    return run
