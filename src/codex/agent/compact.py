"""Compaction: a long conversation replaced by a summary the model writes (the TUI's /compact).

The model gets the session's history plus one instruction to summarise it for a successor.
The next turns then send, instead of the full history, the user's own most recent prompts
(their exact wording survives, up to `USER_TEXT_BUDGET` characters) followed by the summary
behind `SUMMARY_PREFIX`. The rollout gets a `compacted` line with the summary and the
replacement history (the Codex CLI's rollout shape), so `codex resume` continues from the
compacted conversation. A failed or empty answer leaves the history as it was.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass

from codex.agent.session import Session
from codex.model import Completed, InputItem, Message, MessageItem, Prompt, Usage

COMPACT_INSTRUCTION = (
    "Pause the task. Write a hand-over note for another engineer who will continue this "
    "conversation without seeing it: the goal and the user's requirements, decisions taken "
    "and why, what was done (files changed, commands run and their outcome), what is still "
    "open, and the next concrete steps. Be specific (paths, names, numbers) and brief."
)
SUMMARY_PREFIX = (
    "Earlier conversation, summarised by the model when the user compacted the session:\n\n"
)
# ~20k tokens of the user's own words are kept verbatim, newest first.
USER_TEXT_BUDGET = 80_000


class CompactionError(Exception):
    """Compaction could not produce a summary; the conversation is unchanged."""


@dataclass(frozen=True)
class Compaction:
    """What compaction did: the summary, the history length before and after, the tokens."""

    summary: str
    items_before: int
    items_after: int
    usage: Usage


async def compact(session: Session) -> Compaction:
    """Summarise `session`'s history and make the summary its history (see the docstring).

    Raises CompactionError (nothing to compact, or no summary came back) and the model's
    ModelError; in both cases the history is untouched.
    """
    history = list(session.history)
    if not any(isinstance(item, Message) and item.role == "user" for item in history):
        raise CompactionError("nothing to compact yet: the conversation has no prompt")
    prompt = Prompt(model=session.settings.model, instructions=session.instructions,
                    input=(*history, Message("user", COMPACT_INSTRUCTION)),
                    prompt_cache_key=session.id)
    parts: list[str] = []
    usage = Usage()
    async with aclosing(session.client.stream(prompt)) as stream:
        async for event in stream:
            if isinstance(event, MessageItem):
                parts.append(event.text)
            elif isinstance(event, Completed) and event.usage is not None:
                usage = event.usage
    summary = "\n\n".join(part.strip() for part in parts if part.strip())
    if not summary:
        raise CompactionError("the model returned no summary; the conversation is unchanged")
    replacement = replacement_history(history, summary)
    session.replace_history(replacement, summary)
    return Compaction(summary, len(history), len(replacement), usage)


def replacement_history(history: list[InputItem], summary: str) -> list[InputItem]:
    """The user's newest prompts (within the budget, oldest first) and then the summary."""
    kept: list[InputItem] = []
    budget = USER_TEXT_BUDGET
    for item in reversed(history):
        if not (isinstance(item, Message) and item.role == "user"):
            continue
        if len(item.text) > budget:
            break
        kept.append(item)
        budget -= len(item.text)
    kept.reverse()
    return [*kept, Message("user", SUMMARY_PREFIX + summary)]
