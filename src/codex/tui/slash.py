"""The slash commands the composer offers, and the popup's filtering.

Only names are here; what each does lives in `codex.tui.controller` (it talks to the
session). Matching is by prefix first, then by subsequence, so `/ap` finds `/approvals`.
"""

from __future__ import annotations

from codex.tui.files import fuzzy_score

COMMANDS: dict[str, str] = {
    "model": "choose the model for the next turns (/model NAME)",
    "approvals": "when to ask before running commands (/approvals POLICY)",
    "profile": "switch the security profile (widening asks first)",
    "new": "start a new session",
    "init": "ask codex to write an AGENTS.md for this project",
    "compact": "summarise the conversation to free context (the summary replaces it)",
    "diff": "show the git diff of the workspace",
    "mention": "mention a file (opens the @ file search)",
    "status": "show the session, model, policies and token usage",
    "resume": "resume a previous session",
    "quit": "exit codex",
    "exit": "exit codex",
}


def matching(typed: str) -> list[str]:
    """Command names for what follows the `/` (prefix matches first)."""
    prefix = [name for name in COMMANDS if name.startswith(typed)]
    rest = [name for name in COMMANDS if name not in prefix
            and fuzzy_score(typed, name) is not None]
    return prefix + rest


def parse(text: str) -> tuple[str, str] | None:
    """(command, argument) when `text` is a known slash command, else None."""
    if not text.startswith("/"):
        return None
    name, _, argument = text[1:].strip().partition(" ")
    return (name, argument.strip()) if name in COMMANDS else None
