"""The tool definitions sent to the model, in the shapes the Codex CLI sends them.

Responses API tools are `{"type": "function", "name", "description", "strict", "parameters"}`
or, for freeform tools, `{"type": "custom", "name", "description", "format": {"type":
"grammar", "syntax": "lark", "definition": ...}}`. Chat Completions only knows function
tools nested under `"function"`, so `to_chat_tools` converts, and a custom tool becomes a
function taking its raw text as `input`.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

ToolSpec = dict[str, Any]

# The grammar the model's sampler is constrained to for the freeform apply_patch tool.
APPLY_PATCH_LARK_GRAMMAR = """start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
"""

APPLY_PATCH_FREEFORM_DESCRIPTION = (
    "Use the `apply_patch` tool to edit files. This is a FREEFORM tool, so do not wrap the "
    "patch in JSON."
)

APPLY_PATCH_FUNCTION_DESCRIPTION = """Use the `apply_patch` tool to edit files.
The patch language is a file-oriented diff envelope:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Each file section starts with one of:
*** Add File: <path>      create a file; every following line starts with +
*** Delete File: <path>   remove a file; nothing follows
*** Update File: <path>   change a file in place, optionally followed by
*** Move to: <new path>   to rename it

An update has one or more hunks, each introduced by @@ (optionally followed by a line that
occurs just before the change, such as a class or function definition, to say where it
applies). Inside a hunk each line starts with ' ' (unchanged context), '-' (removed) or '+'
(added). Show about 3 lines of context before and after each change. End a hunk that reaches
the end of the file with *** End of File.

Example:
*** Begin Patch
*** Add File: hello.txt
+Hello world
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
-print("Hi")
+print("Hello, world!")
*** Delete File: obsolete.txt
*** End Patch

Paths are relative to the working directory. The patch is applied atomically: if any part
fails, no file changes. Paths outside the writable roots or in protected locations (.git/hooks,
.git/config, .envrc, .vscode, .idea, .codex) are refused."""

SHELL_DESCRIPTION = "Runs a shell command and returns its output."

UPDATE_PLAN_DESCRIPTION = """Updates the task plan.
Provide an optional explanation and a list of plan items, each with a step and status.
At most one step can be in_progress at a time.
"""

PLAN_STATUSES: tuple[str, ...] = ("pending", "in_progress", "completed")


def shell_tool() -> ToolSpec:
    """The `shell` function tool: argv, workdir, timeout and an escalation request."""
    return _function(
        "shell",
        SHELL_DESCRIPTION,
        {
            "command": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The command to execute",
            },
            "workdir": {
                "type": "string",
                "description": "The working directory to execute the command in",
            },
            "timeout_ms": {
                "type": "number",
                "description": "The timeout for the command in milliseconds",
            },
            "sandbox_permissions": {
                "type": "string",
                "enum": ["use_default", "require_escalated"],
                "description": "Sandbox permissions for the command. Set to "
                               "\"require_escalated\" to request running without sandbox "
                               "restrictions; defaults to \"use_default\".",
            },
            "justification": {
                "type": "string",
                "description": "Only set if sandbox_permissions is \"require_escalated\". "
                               "1-sentence explanation of why we want to run this command.",
            },
        },
        required=["command"],
    )


def apply_patch_freeform_tool() -> ToolSpec:
    """`apply_patch` as a custom tool whose raw input is grammar-constrained patch text."""
    return {
        "type": "custom",
        "name": "apply_patch",
        "description": APPLY_PATCH_FREEFORM_DESCRIPTION,
        "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_LARK_GRAMMAR},
    }


def apply_patch_function_tool() -> ToolSpec:
    """`apply_patch` as a JSON function tool taking the patch text as `input`."""
    return _function(
        "apply_patch",
        APPLY_PATCH_FUNCTION_DESCRIPTION,
        {
            "input": {
                "type": "string",
                "description": "The entire contents of the apply_patch command",
            },
        },
        required=["input"],
    )


def update_plan_tool() -> ToolSpec:
    """The `update_plan` function tool (a checklist the front end shows)."""
    return _function(
        "update_plan",
        UPDATE_PLAN_DESCRIPTION,
        {
            "explanation": {"type": "string"},
            "plan": {
                "type": "array",
                "description": "The list of steps",
                "items": {
                    "type": "object",
                    "properties": {
                        "step": {"type": "string"},
                        "status": {
                            "type": "string",
                            "description": "One of: pending, in_progress, completed",
                        },
                    },
                    "required": ["step", "status"],
                    "additionalProperties": False,
                },
            },
        },
        required=["plan"],
    )


def default_tool_specs(
    apply_patch: Literal["freeform", "function"] = "freeform",
) -> list[ToolSpec]:
    """The built-in tools in Responses API shape; `apply_patch` picks the patch tool's form
    (freeform needs a model and endpoint that support custom tools)."""
    patch_tool = (apply_patch_freeform_tool() if apply_patch == "freeform"
                  else apply_patch_function_tool())
    return [shell_tool(), patch_tool, update_plan_tool()]


def to_chat_tools(specs: list[ToolSpec]) -> list[ToolSpec]:
    """Convert Responses API tool specs to Chat Completions `tools` entries."""
    converted: list[ToolSpec] = []
    for spec in specs:
        if spec["type"] == "custom":
            fallback = apply_patch_function_tool() if spec["name"] == "apply_patch" else _function(
                spec["name"], spec.get("description", ""),
                {"input": {"type": "string", "description": "The raw tool input"}},
                required=["input"],
            )
            spec = fallback
        converted.append({
            "type": "function",
            "function": {
                "name": spec["name"],
                "description": spec["description"],
                "parameters": copy.deepcopy(spec["parameters"]),
            },
        })
    return converted


def _function(name: str, description: str, properties: dict[str, Any], *,
              required: list[str]) -> ToolSpec:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


def function_tool(name: str, description: str, properties: dict[str, Any], *,
                  required: list[str]) -> ToolSpec:
    """A function tool spec in the same shape, for tools other rooms register
    (`ToolRegistry.register(name, handler, spec=function_tool(...))`)."""
    return _function(name, description, properties, required=required)
