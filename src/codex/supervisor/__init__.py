"""Orchestration: many real agent sessions at once, bounded, cancellable, isolated, merged.

Public interface (the `codex fanout` command and the sub-agent tools use only these):

    from codex.supervisor import AgentSpec, Limits, Supervisor, merge_changes, merge_results
    supervisor = Supervisor(base_settings, Limits(max_parallel=4, deadline_s=600),
                            emit=lambda agent_id, event: ...)
    records = await supervisor.run_all(specs, stop_on_success=strategy == "first-success")
    result = merge_results("voting", records, min_ratio=0.6)  # chosen, tally, failures
    outcome = merge_changes(repo_root, [(r.id, r.changes) for r in chosen])  # all or nothing
    await supervisor.shutdown()                          # cancels what runs, removes worktrees

Every agent is a `codex.agent.Session` (same guard chain, sandbox, rollout and audit log as
`codex exec`; the agent id is in the rollout meta and in each audit entry's actor). States
queued -> running -> succeeded | failed | timed_out | cancelled are emitted as
`codex.protocol.AgentStateChanged`. Modules: spec (task specs, limits, profile narrowing),
taskfile (tasks.toml), mailbox, engine (scheduling, states, limits, cancellation), runner (one
agent's session), scoring, merge (strategies), worktree (isolation and atomic merging),
subagents (the model-facing spawn_agent / send_input / wait_agents / close_agent tools).
"""

from codex.lazy_exports import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codex.supervisor.engine import AgentRecord, SpawnRefused, Supervisor
    from codex.supervisor.mailbox import MailboxClosed, MailboxFull
    from codex.supervisor.merge import STRATEGIES, MergeResult, Strategy, merge_results
    from codex.supervisor.spec import AgentSpec, Limits, SpecError
    from codex.supervisor.worktree import MergeOutcome, Worktree, WorktreeError, merge_changes

_EXPORTS = {
    "AgentRecord": "codex.supervisor.engine",
    "SpawnRefused": "codex.supervisor.engine",
    "Supervisor": "codex.supervisor.engine",
    "MailboxClosed": "codex.supervisor.mailbox",
    "MailboxFull": "codex.supervisor.mailbox",
    "STRATEGIES": "codex.supervisor.merge",
    "MergeResult": "codex.supervisor.merge",
    "Strategy": "codex.supervisor.merge",
    "merge_results": "codex.supervisor.merge",
    "AgentSpec": "codex.supervisor.spec",
    "Limits": "codex.supervisor.spec",
    "SpecError": "codex.supervisor.spec",
    "MergeOutcome": "codex.supervisor.worktree",
    "Worktree": "codex.supervisor.worktree",
    "WorktreeError": "codex.supervisor.worktree",
    "merge_changes": "codex.supervisor.worktree",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "STRATEGIES",
    "AgentRecord",
    "AgentSpec",
    "Limits",
    "MailboxClosed",
    "MailboxFull",
    "MergeOutcome",
    "MergeResult",
    "SpawnRefused",
    "SpecError",
    "Strategy",
    "Supervisor",
    "Worktree",
    "WorktreeError",
    "merge_changes",
    "merge_results",
]
