"""Fixtures for config tests: an isolated CODEX_HOME and a loader bound to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codex.cli.state import GlobalOptions
from codex.config import EffectiveConfig, load_config

Loader = Callable[..., EffectiveConfig]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty CODEX_HOME (and HOME) for one test."""
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return codex_home


@pytest.fixture
def write_config(home: Path) -> Callable[[str], Path]:
    """Write config.toml in the test's CODEX_HOME."""

    def write(text: str) -> Path:
        path = home / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(home: Path, tmp_path: Path) -> Loader:
    """load_config with GlobalOptions built from keyword arguments."""

    def run(*overrides: str, **flags: object) -> EffectiveConfig:
        options = GlobalOptions(overrides=tuple(overrides), **flags)  # type: ignore[arg-type]
        return load_config(options, cwd=tmp_path)

    return run
