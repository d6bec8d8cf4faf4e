"""The one error type a research run stops with (stdlib only)."""

from __future__ import annotations


class ResearchError(Exception):
    """A run cannot go on: the message names what failed and the fix. `usage` marks a
    configuration or usage problem (exit 2) rather than a failed run (exit 1)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage
