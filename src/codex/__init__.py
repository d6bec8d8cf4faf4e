"""codex: a secure, terminal-native AI coding agent."""

__version__ = "0.1.0"
