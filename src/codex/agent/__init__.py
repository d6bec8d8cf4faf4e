"""The agent core: a session (instructions, history, tools, rollout) and its turn loop.

Public interface (front ends: `codex exec`, later the interactive UI and the MCP server):

    from codex.agent import Session, SessionSettings, run_task, find_rollout, load_rollout
    settings = SessionSettings.from_config(config, provider=resolve_provider(...),
                                           provider_id=..., approver=NonInteractiveApprover(),
                                           audit=open_audit_log(config), max_turns=N)
    async with Session.open(settings, resume=None | load_rollout(find_rollout(home, id))) as s:
        result = await run_task(s, UserInput(text=prompt, output_schema=schema), emit)
        # emit receives codex.protocol events: ThreadEvent (the `codex exec --json` stream)
        # and LiveEvent (deltas for human output); result: TaskResult(status completed |
        # failed | interrupted, usage, last_message, error).

Cancel a running task by cancelling the asyncio task that awaits `run_task` (Ctrl-C): the
model stream closes, running commands are killed, and the rollout stays resumable.
Modules: instructions (base text, AGENTS.md discovery, environment context), session, turn,
items (tool output -> thread items), rollout (JSONL recording and resume), cancel.
"""

from codex.agent.rollout import LoadedRollout, RolloutError, find_rollout, load_rollout
from codex.agent.session import DEFAULT_MAX_TURNS, Session, SessionSettings, SessionStartError
from codex.agent.turn import TaskResult, run_task

__all__ = [
    "DEFAULT_MAX_TURNS",
    "LoadedRollout",
    "RolloutError",
    "Session",
    "SessionSettings",
    "SessionStartError",
    "TaskResult",
    "find_rollout",
    "load_rollout",
    "run_task",
]
