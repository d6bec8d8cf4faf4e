"""`update_plan`: the model's checklist for the task, validated and handed to front ends.

The tool has no side effect; its value is the structured data (`todo_list`, as `codex exec
--json` reports it) and a plan the model must keep coherent: known statuses, non-empty steps,
at most one step in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codex.tools.base import ToolArgumentError, ToolContext, ToolOutput
from codex.tools.specs import PLAN_STATUSES


@dataclass(frozen=True)
class PlanStep:
    step: str
    status: str


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    explanation: str | None

    def to_json(self) -> dict[str, Any]:
        """The `todo_list` item shape front ends render."""
        return {
            "type": "todo_list",
            "explanation": self.explanation,
            "items": [
                {"text": s.step, "status": s.status, "completed": s.status == "completed"}
                for s in self.steps
            ],
        }


def parse_plan(arguments: dict[str, Any]) -> Plan:
    """Validate `update_plan` arguments; ToolArgumentError says what is wrong."""
    unknown = set(arguments) - {"plan", "explanation"}
    if unknown:
        raise ToolArgumentError(f"unknown argument(s): {', '.join(sorted(unknown))}")
    explanation = arguments.get("explanation")
    if explanation is not None and not isinstance(explanation, str):
        raise ToolArgumentError("'explanation' must be a string")
    raw_steps = arguments.get("plan")
    if not isinstance(raw_steps, list):
        raise ToolArgumentError("'plan' must be a list of {step, status} objects")
    steps: list[PlanStep] = []
    for i, item in enumerate(raw_steps, 1):
        if not isinstance(item, dict):
            raise ToolArgumentError(f"plan item {i} must be an object with 'step' and 'status'")
        step, status = item.get("step"), item.get("status")
        if not isinstance(step, str) or not step.strip():
            raise ToolArgumentError(f"plan item {i}: 'step' must be a non-empty string")
        if status not in PLAN_STATUSES:
            raise ToolArgumentError(
                f"plan item {i}: 'status' must be one of {', '.join(PLAN_STATUSES)}, "
                f"got {status!r}"
            )
        extra = set(item) - {"step", "status"}
        if extra:
            raise ToolArgumentError(f"plan item {i}: unknown field(s) {', '.join(sorted(extra))}")
        steps.append(PlanStep(step=step.strip(), status=str(status)))
    in_progress = [s.step for s in steps if s.status == "in_progress"]
    if len(in_progress) > 1:
        raise ToolArgumentError(
            f"at most one step can be in_progress, got {len(in_progress)}: "
            + "; ".join(in_progress)
        )
    return Plan(steps=tuple(steps), explanation=explanation)


def handle_update_plan(arguments: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    """Validate and acknowledge a plan update; the plan itself travels in `data`."""
    del ctx  # the plan has no side effect
    try:
        plan = parse_plan(arguments)
    except ToolArgumentError as exc:
        return ToolOutput(text=f"update_plan rejected: {exc}", success=False)
    return ToolOutput(text="Plan updated", success=True, data=plan.to_json())
