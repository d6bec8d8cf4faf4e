"""One agent's life: the real session the engine runs for an `AgentRecord`.

The agent gets the base session's settings (provider, guard chain, audit log, rollouts) with
what its spec changes: model or provider, a security profile no wider than the base's, its
workspace (a git worktree when asked), a turn budget, and its identity (`agent_meta`: id,
depth, parent session), which the rollout meta and every audit entry carry. It works on its
prompt, then on each message waiting in its mailbox; a kept-open agent (a sub-agent) then
waits for more. After a successful task a worktree agent's changes are collected and, when
the spec names a scorer, the score is taken (`codex.supervisor.scoring`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from codex.agent import Session, SessionSettings, TaskResult, run_task
from codex.agent.session import build_session_instructions
from codex.audit import Scrubber
from codex.protocol import (
    AgentEvent,
    AgentLifecycle,
    AgentMessageItem,
    CommandExecutionItem,
    FileChangeItem,
    ItemCompleted,
    ItemStarted,
    ThreadStarted,
    TokenUsage,
    UserInput,
)
from codex.security.profiles import parse_profile, resolve_policy
from codex.supervisor.scoring import score_agent
from codex.supervisor.spec import narrower_profile

if TYPE_CHECKING:
    from codex.supervisor.engine import AgentRecord, Supervisor


def agent_settings(supervisor: Supervisor, record: AgentRecord, cwd: Path) -> SessionSettings:
    """The base settings narrowed and re-pointed for this agent (see the module docstring)."""
    base = supervisor.base
    spec = record.spec
    profile = narrower_profile(spec.profile, base.sandbox_policy.profile)
    policy = base.sandbox_policy
    if profile != policy.profile or cwd != base.cwd:
        base_root = base.cwd.resolve()
        extra = tuple(r for r in policy.writable_roots if r != base_root)
        policy = resolve_policy(parse_profile(profile), cwd, extra)
    provider, provider_id = base.provider, base.provider_id
    if spec.provider is not None and spec.provider != base.provider_id:
        if supervisor.providers is None:
            raise ValueError(f"provider {spec.provider!r} cannot be chosen here")
        provider, provider_id = supervisor.providers(spec.provider), spec.provider
    meta: dict[str, str | int] = {"agent_id": record.id, "depth": record.depth}
    if record.parent_session_id is not None:
        meta["parent_session_id"] = record.parent_session_id
    settings = dataclasses.replace(
        base, cwd=cwd, model=spec.model or base.model, provider=provider,
        provider_id=provider_id, sandbox_policy=policy,
        approval_policy=spec.approval_policy or base.approval_policy,
        max_turns=spec.max_turns or base.max_turns, agent_meta=meta)
    # Agents in one directory under one policy share their instructions: built once per run
    # (AGENTS.md discovery and scrubbing are the costliest part of opening a session).
    key = (str(cwd), policy.profile, policy.network, settings.approval_policy.value)
    if key not in supervisor.instructions:
        supervisor.instructions[key] = build_session_instructions(
            settings, Scrubber.secrets_only())
    return dataclasses.replace(settings, instructions=supervisor.instructions[key])


async def run_agent(supervisor: Supervisor, record: AgentRecord) -> None:
    """Run the agent until it ends; leaves the final state to the engine unless it ended on
    its own (succeeded or failed)."""
    cwd = supervisor.base.cwd
    if record.spec.workspace == "worktree":
        from codex.supervisor.worktree import Worktree

        record.worktree = await asyncio.to_thread(Worktree.create, cwd, record.id)
        cwd = record.worktree.workdir
    settings = agent_settings(supervisor, record, cwd)
    async with Session.open(settings) as session:
        record.session_id = session.id
        record.rollout_path = session.rollout.path
        supervisor.emit(record.id, ThreadStarted(thread_id=session.id))
        text = record.spec.user_text()
        while True:
            result = await _turn(supervisor, record, session, text)
            if _stopping(record):
                return
            state: AgentLifecycle = "succeeded" if result.status == "completed" else "failed"
            record.error = result.error if state == "failed" else None
            if state == "succeeded":
                await _after_success(record, session)
            waiting = record.mailbox.take()
            if waiting is None and record.keep_open:
                supervisor.turn_ended(record, state)
                waiting = await record.mailbox.receive()
                supervisor.turn_started(record)
            if waiting is None:
                supervisor.turn_ended(record, state)
                return
            text = waiting


def _stopping(record: AgentRecord) -> bool:
    """Cancelled or timed out: the turn loop absorbed the cancellation, we must not go on."""
    task = asyncio.current_task()
    return record.stop_state is not None or (task is not None and task.cancelling() > 0)


async def _turn(supervisor: Supervisor, record: AgentRecord, session: Session,
                text: str) -> TaskResult:
    def emit(event: AgentEvent) -> None:
        _note_action(record, event)
        supervisor.emit(record.id, event)

    turn: asyncio.Future[TaskResult] = asyncio.ensure_future(
        run_task(session, UserInput(text=text), emit))
    record.turn_task = turn
    try:
        result = await turn
    finally:
        record.turn_task = None
    record.model_requests += result.model_requests
    record.usage = TokenUsage(
        input_tokens=record.usage.input_tokens + result.usage.input_tokens,
        cached_input_tokens=record.usage.cached_input_tokens + result.usage.cached_input_tokens,
        output_tokens=record.usage.output_tokens + result.usage.output_tokens)
    if result.last_message is not None:
        record.last_message = result.last_message
    return result


async def _after_success(record: AgentRecord, session: Session) -> None:
    if record.worktree is not None:
        record.changes = await asyncio.to_thread(record.worktree.changes)
    if record.spec.score_command or record.spec.score_field:
        record.score, record.score_error = await score_agent(record, session)


def _note_action(record: AgentRecord, event: AgentEvent) -> None:
    """What the progress view shows as the agent's last action."""
    if isinstance(event, ItemStarted) and isinstance(event.item, CommandExecutionItem):
        record.last_action = f"$ {event.item.command}"
    elif isinstance(event, ItemCompleted):
        item = event.item
        if isinstance(item, CommandExecutionItem):
            record.last_action = f"$ {item.command} ({item.status})"
        elif isinstance(item, FileChangeItem):
            record.last_action = "edited " + ", ".join(c.path for c in item.changes)
        elif isinstance(item, AgentMessageItem):
            record.last_action = "answered"
