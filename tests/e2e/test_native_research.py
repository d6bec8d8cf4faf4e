"""The research suites (tests/research: the local corpus, the loopback web with Brave, Tavily
and SearXNG servers, the cache, the bias report) against the Nuitka binary, so a research
module or data file left out of the build fails here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "research"))

import research_helpers
from research_helpers import codex_home, run_research, web
from test_research_corpus import *  # noqa: F403  (the same tests, collected here)
from test_research_web import *  # noqa: F403

from support.model_server import model_server

__all__ = ["codex_home", "model_server", "run_research", "web"]
# A probe of the Python package's imports: nothing native about it.
del test_version_imports_no_research_library  # noqa: F821


@pytest.fixture(autouse=True)
def native_entry(native_binary: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(research_helpers, "ENTRY", [str(native_binary)])
