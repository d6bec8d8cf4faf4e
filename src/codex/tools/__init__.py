"""Tools the model can call: their specs and handlers.

- `codex.tools.specs`: the tool definitions (Responses API shape; `to_chat_tools` for Chat).
- `codex.tools.base`: `ToolContext` (workspace, SandboxPolicy, ApprovalPolicy, approver,
  audit, session id, output sink) and `ToolOutput` (text for the model, success, data).
- `codex.tools.apply_patch.handle_apply_patch`, `codex.tools.plan.handle_update_plan`.
- `codex.tools.output`: output capping and the shell output layout.
"""
