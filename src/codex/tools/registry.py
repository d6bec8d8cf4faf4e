"""Route a model tool call to its handler.

`ToolRegistry.dispatch(name, payload, ctx)` takes the call as it came off the wire: a JSON
argument string for function tools, the raw text for custom (freeform) tools. Malformed JSON,
an unknown tool or a handler crash become a failed `ToolOutput` the model can read, so one
bad call never ends the turn. `default_registry()` holds shell, apply_patch and update_plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from codex.tools.apply_patch import handle_apply_patch
from codex.tools.base import ToolContext, ToolOutput
from codex.tools.plan import handle_update_plan
from codex.tools.shell import handle_shell
from codex.tools.specs import ToolSpec, default_tool_specs

Handler = Callable[[dict[str, Any] | str, ToolContext], ToolOutput]
CallKind = Literal["function", "custom"]


@dataclass(frozen=True)
class RegisteredTool:
    name: str
    handler: Handler
    accepts_freeform: bool


class ToolRegistry:
    """Tool name → handler; also yields the specs to send with each model request."""

    def __init__(self, specs: list[ToolSpec] | None = None) -> None:
        self._tools: dict[str, RegisteredTool] = {}
        self._specs: list[ToolSpec] = list(specs or [])

    def register(self, name: str, handler: Handler, *, accepts_freeform: bool = False,
                 spec: ToolSpec | None = None) -> None:
        self._tools[name] = RegisteredTool(name, handler, accepts_freeform)
        if spec is not None:
            self._specs = [s for s in self._specs if s.get("name") != name] + [spec]

    def names(self) -> list[str]:
        return sorted(self._tools)

    def specs(self) -> list[ToolSpec]:
        """The tool definitions (Responses API shape) for the registered tools."""
        return [s for s in self._specs if s.get("name") in self._tools]

    def dispatch(self, name: str, payload: str | dict[str, Any], ctx: ToolContext, *,
                 kind: CallKind = "function") -> ToolOutput:
        """Run one call; never raises for anything the model did."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(self.names())
            return ToolOutput(text=f"unknown tool {name!r}; available tools: {known}",
                              success=False)
        arguments: dict[str, Any] | str
        if kind == "custom":
            if not tool.accepts_freeform:
                return ToolOutput(text=f"tool {name!r} takes JSON arguments, not free text",
                                  success=False)
            arguments = payload if isinstance(payload, str) else json.dumps(payload)
        elif isinstance(payload, dict):
            arguments = payload
        else:
            try:
                parsed = json.loads(payload or "{}")
            except json.JSONDecodeError as exc:
                return ToolOutput(
                    text=f"failed to parse the arguments of {name!r} as JSON: {exc}", success=False
                )
            if not isinstance(parsed, dict):
                return ToolOutput(text=f"the arguments of {name!r} must be a JSON object",
                                  success=False)
            arguments = parsed
        try:
            return tool.handler(arguments, ctx)
        except Exception as exc:  # a handler bug must not kill the session; report it
            return ToolOutput(text=f"tool {name!r} failed internally: {type(exc).__name__}: "
                                   f"{exc}", success=False)


def default_registry(apply_patch: Literal["freeform", "function"] = "freeform") -> ToolRegistry:
    """shell, apply_patch (freeform or function form) and update_plan."""
    registry = ToolRegistry(default_tool_specs(apply_patch))
    registry.register("shell", handle_shell)
    registry.register("apply_patch", _apply_patch_handler, accepts_freeform=True)
    registry.register("update_plan", _update_plan_handler)
    return registry


def _apply_patch_handler(arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
    return handle_apply_patch(arguments, ctx)


def _update_plan_handler(arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
    if isinstance(arguments, str):
        return ToolOutput(text="update_plan takes JSON arguments", success=False)
    return handle_update_plan(arguments, ctx)
