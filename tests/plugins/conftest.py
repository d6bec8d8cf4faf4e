"""Fixtures for the plugin suite: defined in plugin_kit.py, re-exported for pytest."""

from plugin_kit import codex, codex_argv, home, workspace

__all__ = ["codex", "codex_argv", "home", "workspace"]
