"""The interactive front end: `codex` and `codex "PROMPT"` (prompt_toolkit, inline).

Public interface (used by `codex.cli.tui_cmd`, which imports it only when the UI starts):

    from codex.tui.launch import launch
    code = launch(effective_config, prompt="..." | None, resume=LoadedRollout | None,
                  audit=AuditLog | None)

The UI is one more front end on the core: prompts go to `codex.agent.run_task`, events come
back as `codex.protocol` types and are drawn as history cells, approvals reach the
session's own guard chain (and its audit log) through `ApprovalBroker`. Finished cells are
printed into the terminal's scrollback above a small live region (no alternate screen
except for the resume picker, no mouse capture). Modules: lines, style, markdown, cells,
diffs, transcript (events -> cells), scrollback (printing above the live region), history,
files (`@` search), slash, approval, controller (session and turns), app (layout and keys),
picker (resume), replay (a resumed transcript), launch.
"""
