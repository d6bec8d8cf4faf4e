"""The engine: many agent sessions in one process, bounded, observable and cancellable.

    supervisor = Supervisor(base_settings, Limits(...), emit=on_event)
    records = await supervisor.run_all(specs, stop_on_success=False)   # fanout
    record = supervisor.spawn(spec, parent=parent_record)              # sub-agents
    await supervisor.send(record.id, "more", interrupt=False)          # MailboxFull, ...
    await supervisor.wait([ids], timeout_s)                            # False on timeout
    supervisor.cancel(record.id)                                       # children first
    await supervisor.shutdown()                                        # cancels the rest

Each agent is an asyncio task running a real `Session` (`codex.supervisor.runner`). At most
`max_parallel` run at once, the others stay `queued`. A record moves queued -> running ->
succeeded | failed | timed_out | cancelled and every move is emitted as an
`AgentStateChanged` (with times, usage and the last error); the session's own events are
emitted with the agent id. Cancelling an agent cancels its children first, then its task:
the turn loop closes the model stream and kills the commands its tool threads started.
Spawning checks `max_agents` (whole run), `max_depth` and, for sub-agents, `max_threads`
(live children of one parent) on every path, and raises `SpawnRefused` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codex.protocol import AgentEvent, AgentLifecycle, AgentStateChanged, TokenUsage
from codex.supervisor.mailbox import Mailbox
from codex.supervisor.spec import AgentSpec, Limits

if TYPE_CHECKING:
    from codex.agent import SessionSettings, TaskResult
    from codex.model import ResolvedProvider
    from codex.supervisor.worktree import TreeChanges, Worktree

FINAL_STATES: frozenset[AgentLifecycle] = frozenset(
    {"succeeded", "failed", "timed_out", "cancelled"})
Emit = Callable[[str, "AgentEvent | AgentStateChanged"], None]


class SpawnRefused(Exception):
    """A limit (count, depth, threads, deadline) forbids this agent; the message says which."""


@dataclass
class AgentRecord:
    """One agent as the engine tracks it (mutable; owned by the engine's event loop)."""

    id: str
    spec: AgentSpec
    parent_id: str | None
    depth: int
    mailbox: Mailbox
    parent_session_id: str | None = None
    keep_open: bool = False
    state: AgentLifecycle = "queued"
    queued_at: float = field(default_factory=time.time)
    started_at: float | None = None
    ended_at: float | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    error: str | None = None
    last_message: str | None = None
    last_action: str = ""
    model_requests: int = 0
    session_id: str | None = None
    rollout_path: Path | None = None
    worktree: Worktree | None = None
    changes: TreeChanges | None = None
    score: float | None = None
    score_error: str | None = None
    children: list[str] = field(default_factory=list)
    closed: bool = False
    task: asyncio.Task[None] | None = None
    turn_task: asyncio.Future[TaskResult] | None = None
    stop_state: AgentLifecycle | None = None
    stop_reason: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def elapsed_s(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.time()) - self.started_at

    def event(self) -> AgentStateChanged:
        return AgentStateChanged(
            agent_id=self.id, state=self.state, parent_id=self.parent_id, depth=self.depth,
            session_id=self.session_id, queued_at=self.queued_at, started_at=self.started_at,
            ended_at=self.ended_at, usage=self.usage, error=self.error)


class Supervisor:
    """See the module docstring."""

    def __init__(self, base: SessionSettings, limits: Limits, *, emit: Emit | None = None,
                 providers: Callable[[str], ResolvedProvider] | None = None,
                 id_prefix: str = "a") -> None:
        self.base = base
        self.limits = limits
        self.records: dict[str, AgentRecord] = {}
        self._emit = emit
        self.providers = providers
        self.instructions: dict[tuple[str, str, bool, str], str] = {}  # see runner
        self._prefix = id_prefix
        self._slots = asyncio.Semaphore(limits.max_parallel)
        self._started = time.monotonic()

    # -- spawning ------------------------------------------------------------------------

    def spawn(self, spec: AgentSpec, *, parent: AgentRecord | None = None,
              parent_depth: int | None = None, parent_session_id: str | None = None,
              keep_open: bool = False) -> AgentRecord:
        """Queue one agent (must be called on the engine's loop); SpawnRefused on a limit.

        `parent`: the supervised agent spawning it; `parent_depth` / `parent_session_id`: an
        unsupervised parent session (a `codex exec` session is depth 0)."""
        depth = (parent.depth + 1 if parent is not None
                 else parent_depth + 1 if parent_depth is not None else 0)
        self._check_limits(depth, parent, sub_agent=parent is not None or
                           parent_depth is not None)
        agent_id = spec.name if spec.name and spec.name not in self.records \
            else f"{self._prefix}{len(self.records) + 1}"
        record = AgentRecord(id=agent_id, spec=spec, depth=depth,
                             parent_id=parent.id if parent is not None else None,
                             mailbox=Mailbox(agent_id, self.limits.mailbox_size),
                             keep_open=keep_open,
                             parent_session_id=parent.session_id if parent is not None
                             else parent_session_id)
        self.records[agent_id] = record
        if parent is not None:
            parent.children.append(agent_id)
        self.publish(record)
        record.task = asyncio.ensure_future(self._run(record))
        return record

    def _check_limits(self, depth: int, parent: AgentRecord | None, *, sub_agent: bool) -> None:
        limits = self.limits
        if len(self.records) >= limits.max_agents:
            raise SpawnRefused(f"agent limit reached: this run already has {limits.max_agents} "
                               "agents (raise [agents] max_agents)")
        if sub_agent and depth > limits.max_depth:
            raise SpawnRefused(f"depth limit reached: a sub-agent at depth {depth} exceeds "
                               f"[agents] max_depth = {limits.max_depth}")
        if sub_agent:
            siblings = [r for r in self.records.values()  # open: not closed, task alive
                        if r.parent_id == (parent.id if parent else None) and not r.closed
                        and r.task is not None and not r.task.done()]
            if len(siblings) >= limits.max_threads:
                raise SpawnRefused(
                    f"thread limit reached: {len(siblings)} sub-agents are open "
                    f"([agents] max_threads = {limits.max_threads}); wait for one or close it")
        remaining = self.remaining_s()
        if remaining is not None and remaining <= 0:
            raise SpawnRefused("the run's deadline has passed; no new agent starts")

    def remaining_s(self) -> float | None:
        if self.limits.deadline_s is None:
            return None
        return self.limits.deadline_s - (time.monotonic() - self._started)

    # -- running -------------------------------------------------------------------------

    async def _run(self, record: AgentRecord) -> None:
        from codex.supervisor.runner import run_agent

        timeout_s = record.spec.timeout_s or self.limits.job_max_runtime_s
        window: asyncio.Timeout | None = None
        try:
            async with self._slots:
                record.started_at = time.time()
                self._set(record, "running")
                window = asyncio.timeout(timeout_s)
                async with window:
                    await run_agent(self, record)
        except asyncio.CancelledError:
            pass
        except TimeoutError:  # our window expired outside a turn (the turn loop absorbs it)
            pass
        except Exception as exc:  # a setup failure (worktree, rules, rollout): the agent failed
            record.error = str(exc) or type(exc).__name__
            self._finish(record, "failed")
        finally:
            record.mailbox.close()
            if window is not None and window.expired() and record.stop_state is None:
                record.stop_state = "timed_out"
                record.stop_reason = f"timed out after {timeout_s:g}s"
            if record.stop_state is not None and not record.final:  # idle: keeps its state
                record.error = record.stop_reason
                self._finish(record, record.stop_state)
            elif not record.final:
                self._finish(record, "failed")

    def publish(self, record: AgentRecord) -> None:
        """Emit the record's state and wake its waiters."""
        record.changed.set()
        record.changed = asyncio.Event()
        self.emit(record.id, record.event())

    def emit(self, agent_id: str, event: AgentEvent | AgentStateChanged) -> None:
        if self._emit is not None:
            self._emit(agent_id, event)

    def _set(self, record: AgentRecord, state: AgentLifecycle) -> None:
        record.state = state
        self.publish(record)

    def _finish(self, record: AgentRecord, state: AgentLifecycle) -> None:
        record.ended_at = time.time()
        self._set(record, state)

    def turn_ended(self, record: AgentRecord, state: AgentLifecycle) -> None:
        """A turn of a kept-open agent ended: final for waiters until the next message."""
        self._finish(record, state)

    def turn_started(self, record: AgentRecord) -> None:
        record.ended_at = None
        self._set(record, "running")

    # -- talking to agents ---------------------------------------------------------------

    def get(self, agent_id: str) -> AgentRecord:
        record = self.records.get(agent_id)
        if record is None:
            raise KeyError(f"no agent with id {agent_id!r}")
        return record

    async def send(self, agent_id: str, message: str, *, interrupt: bool = False) -> None:
        """Queue `message` for the agent (MailboxFull / MailboxClosed / KeyError); with
        `interrupt`, its running turn is cancelled so the message is read at once."""
        record = self.get(agent_id)
        await record.mailbox.send(message, self.limits.send_wait_s)
        if interrupt and record.turn_task is not None and not record.turn_task.done():
            record.turn_task.cancel()

    async def wait(self, ids: Sequence[str], timeout_s: float | None) -> bool:
        """Wait until every agent in `ids` is in a final state; False when `timeout_s` ran
        out first."""
        records = [self.get(i) for i in ids]
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    pending = [r for r in records if not r.final]
                    if not pending:
                        return True
                    await pending[0].changed.wait()
        except TimeoutError:
            return False

    async def wait_any(self, ids: Sequence[str], timeout_s: float | None) -> bool:
        """Wait until at least one agent in `ids` is final (Codex's `wait` on several ids)."""
        records = [self.get(i) for i in ids]
        try:
            async with asyncio.timeout(timeout_s):
                while not any(r.final for r in records):
                    waits = [asyncio.ensure_future(r.changed.wait()) for r in records]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waits:
                            w.cancel()
                return True
        except TimeoutError:
            return False

    # -- stopping ------------------------------------------------------------------------

    def cancel(self, agent_id: str, reason: str = "cancelled", *,
               state: AgentLifecycle = "cancelled", close: bool = False) -> None:
        """Stop an agent and, first, all its children. `close`: a kept-open agent that
        already finished keeps its final state (close_agent)."""
        record = self.get(agent_id)
        for child in record.children:
            self.cancel(child, f"its parent {agent_id} stopped", state=state, close=close)
        record.closed = record.closed or close
        if record.task is None or record.task.done():
            return
        if record.stop_state is None:
            record.stop_state, record.stop_reason = state, reason
        record.task.cancel()

    def cancel_all(self, reason: str, state: AgentLifecycle = "cancelled",
                   ids: Iterable[str] | None = None) -> None:
        for agent_id in list(ids if ids is not None else self.records):
            record = self.records[agent_id]
            if not record.final or (record.task is not None and not record.task.done()):
                self.cancel(agent_id, reason, state=state)

    async def join(self, ids: Iterable[str] | None = None) -> None:
        tasks = [r.task for i, r in self.records.items()
                 if r.task is not None and (ids is None or i in set(ids))]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_all(self, specs: Sequence[AgentSpec], *,
                      stop_on_success: bool = False) -> list[AgentRecord]:
        """Run `specs` as top-level agents until all are final (or the deadline passes, which
        times the rest out). `stop_on_success`: cancel the others when one succeeds."""
        records = [self.spawn(spec) for spec in specs]
        ids = [r.id for r in records]
        try:
            while not all(r.final for r in records):
                remaining = self.remaining_s()
                if remaining is not None and remaining <= 0:
                    self.cancel_all(f"the run's deadline ({self.limits.deadline_s:g}s) passed",
                                    "timed_out", ids)
                    break
                await self.wait_any([r.id for r in records if not r.final], remaining)
                winner = next((r for r in records if r.state == "succeeded"), None)
                if stop_on_success and winner is not None:
                    self.cancel_all(f"agent {winner.id} succeeded first", "cancelled", ids)
                    break
        finally:
            await self.join(ids)
        return records

    async def shutdown(self) -> None:
        """Cancel whatever still runs and wait for it; remove the agents' worktrees."""
        self.cancel_all("the supervisor shut down")
        await self.join()
        for record in self.records.values():
            if record.worktree is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(record.worktree.remove)
