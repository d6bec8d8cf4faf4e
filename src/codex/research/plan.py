"""Asking the model: the plan (sub-questions), follow-up questions for deeper rounds, and the
report itself. `Ask` is any async (instructions, input) -> text callable; the command passes
one backed by `codex.model.ModelClient`, so every provider codex supports works here."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence

from codex.research.errors import ResearchError

Ask = Callable[[str, str], Awaitable[str]]

PLAN_INSTRUCTIONS = (
    "You plan web research. Split the user's question into at most {breadth} short, "
    "self-contained search questions that together cover it. Answer with JSON only: "
    '{{"sub_questions": ["...", "..."]}}')
FOLLOW_UP_INSTRUCTIONS = (
    "You plan the next round of research. Given the question, the searches already made "
    "and what they found, give at most {breadth} new search questions that fill the gaps "
    '(none if nothing is missing). Answer with JSON only: {{"sub_questions": [...]}}')
REPORT_INSTRUCTIONS = (
    "Write a research report in Markdown that answers the question using ONLY the numbered "
    "passages given. After every factual sentence put the number of each passage that "
    "supports it in square brackets, e.g. [3] or [2][5]. Never cite a number that is not "
    "listed; if the passages do not support a point, leave the point out. Do not add a "
    "list of sources: it is appended for you.")


def parse_questions(text: str, limit: int) -> list[str]:
    """Sub-questions from the model's answer: the JSON object asked for, else a list of
    lines (`- ...`, `1. ...`); at most `limit`, duplicates dropped."""
    found: list[str] = []
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
            items = data.get("sub_questions") if isinstance(data, dict) else None
            if isinstance(items, list):
                found = [item.strip() for item in items if isinstance(item, str)]
        except ValueError:
            found = []
    if not found:
        found = [re.sub(r"^\s*(?:[-*]|\d+[.)])\s*", "", line).strip()
                 for line in text.splitlines() if re.match(r"^\s*(?:[-*]|\d+[.)])\s+", line)]
    unique = list(dict.fromkeys(q for q in found if q))
    return unique[:limit]


async def make_plan(ask: Ask, question: str, breadth: int) -> list[str]:
    """The first round of sub-questions (a ResearchError when the model gives none)."""
    answer = await ask(PLAN_INSTRUCTIONS.format(breadth=breadth), question)
    questions = parse_questions(answer, breadth)
    if not questions:
        raise ResearchError("the model returned no sub-questions for the plan; try again or "
                            "use another model (-m)")
    return questions


async def follow_up(ask: Ask, question: str, asked: Sequence[str],
                    findings: Sequence[str], breadth: int) -> list[str]:
    """New sub-questions for the next round (may be empty)."""
    text = (f"Question: {question}\n\nSearches made:\n" + "\n".join(f"- {q}" for q in asked)
            + "\n\nFound:\n" + "\n".join(f"- {f}" for f in findings))
    answer = await ask(FOLLOW_UP_INSTRUCTIONS.format(breadth=breadth), text)
    return [q for q in parse_questions(answer, breadth) if q not in asked]
