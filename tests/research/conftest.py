"""Fixtures for the research suite: the scripted model server, a private CODEX_HOME, a web of
loopback hosts (127.0.0.2 ... as distinct sites) and search-provider servers speaking the
Brave, Tavily and SearXNG JSON formats, and `codex research` run as a subprocess."""

from __future__ import annotations

from research_helpers import codex_home, run_research, web

from support.model_server import model_server

__all__ = ["codex_home", "model_server", "run_research", "web"]
