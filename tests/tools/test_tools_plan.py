"""update_plan: validated steps, at most one in progress, a todo_list for front ends."""

from __future__ import annotations

from typing import Any

import pytest

from codex.tools.base import ToolArgumentError
from codex.tools.plan import parse_plan


def test_valid_plan_becomes_a_todo_list() -> None:
    plan = parse_plan({"explanation": "why", "plan": [
        {"step": "read code", "status": "completed"},
        {"step": "fix bug", "status": "in_progress"},
        {"step": "test", "status": "pending"},
    ]})
    assert plan.to_json() == {
        "type": "todo_list", "explanation": "why",
        "items": [
            {"text": "read code", "status": "completed", "completed": True},
            {"text": "fix bug", "status": "in_progress", "completed": False},
            {"text": "test", "status": "pending", "completed": False},
        ],
    }


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({}, "'plan' must be a list"),
        ({"plan": "do it"}, "'plan' must be a list"),
        ({"plan": [{"step": "a", "status": "done"}]}, "'status' must be one of"),
        ({"plan": [{"step": "", "status": "pending"}]}, "non-empty string"),
        ({"plan": [{"status": "pending"}]}, "non-empty string"),
        ({"plan": ["a"]}, "must be an object"),
        ({"plan": [{"step": "a", "status": "in_progress"},
                   {"step": "b", "status": "in_progress"}]}, "at most one step"),
        ({"plan": [], "extra": 1}, "unknown argument"),
        ({"plan": [{"step": "a", "status": "pending", "x": 1}]}, "unknown field"),
        ({"plan": [], "explanation": 3}, "'explanation' must be a string"),
    ],
)
def test_invalid_plans_are_rejected(arguments: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ToolArgumentError, match=fragment):
        parse_plan(arguments)
