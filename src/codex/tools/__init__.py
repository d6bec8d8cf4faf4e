"""Tools the model can call: their specs and handlers.

Public interface (for the agent's turn loop):

- `codex.tools.registry.default_registry(apply_patch="freeform"|"function") -> ToolRegistry`;
  `registry.specs()` (Responses API tool list; `codex.tools.specs.to_chat_tools` for Chat);
  `registry.dispatch(name, payload, ctx, kind="function"|"custom") -> ToolOutput` where
  `payload` is the call's JSON argument string (function) or raw input text (custom). Never
  raises for anything the model did. Synchronous: run it in a thread from asyncio.
- `codex.tools.base.ToolContext(workspace, sandbox_policy, approval_policy, session_id,
  guard=Guard, audit=AuditLog, approve_patch=None, on_output=None, actor="agent")`.
- `codex.tools.base.ToolOutput(text, success, data)`: `text` goes back to the model; `data` is
  for front ends: `{"type": "command_execution", ...}`, `{"type": "file_change", ...}`,
  `{"type": "todo_list", ...}`.
- `codex.tools.output`: output capping (`cap_output`, `OutputCollector`) and the shell layout.
- `codex.tools.guarded_exec` (AUDIT's room): the guard chain the shell tool runs through.
"""
