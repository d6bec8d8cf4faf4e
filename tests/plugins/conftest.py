"""Fixtures for the plugin suite: defined in plugin_kit.py (and the loopback model server),
re-exported for pytest."""

from plugin_kit import codex, codex_argv, home, workspace

from support.model_server import model_server

__all__ = ["codex", "codex_argv", "home", "model_server", "workspace"]
