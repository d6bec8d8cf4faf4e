"""Model-facing sub-agents: `spawn_agent`, `send_input`, `wait_agents`, `close_agent`.

    subagents = SubAgents(Limits(max_threads=..., max_depth=..., job_max_runtime_s=...))
    settings = dataclasses.replace(settings, tool_hooks=(subagents.hook,))
    ... run the session ...
    await subagents.shutdown()         # children still open are cancelled

Argument shapes follow the Codex CLI's collab tools: `spawn_agent {message, agent_type?}` ->
`{"agent_id"}`; `send_input {id, message, interrupt?}`; `wait_agents {ids, timeout_ms?}` ->
`{"status": {id: {status, message}}, "timed_out"}` once every listed agent has finished its
task (or the timeout, default 30 s, at most 300 s, passed); `close_agent {id}` -> `{status}`.
Ours too: `spawn_agent` takes an optional `profile`, which may only narrow the parent's.
Statuses use the Codex names (pending_init, running, completed, errored, interrupted,
shutdown). A child is a real session built from the root session's settings (same provider,
guard chain, audit log, approval policy) run by one `Supervisor` per session tree, which
enforces `max_threads` (open children of one parent), `max_depth` (the depth recorded in a
session's identity, so a resumed child keeps it) and a total agent count. Cancelling a turn
cancels the children of that session. Each call's result is also a `collab_tool_call` item
for front ends (`codex exec --json`). Every spawn, refused spawn and close is an
`agent_spawn` entry in the audit log (the child's id and profile, or the reason), so an auditor
can tell which agent started which.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from codex.audit.entry import Decision, Operation
from codex.supervisor.engine import AgentRecord, SpawnRefused, Supervisor
from codex.supervisor.mailbox import MailboxClosed, MailboxFull
from codex.supervisor.spec import AgentSpec, Limits, SpecError, narrower_profile
from codex.tools.base import ToolContext, ToolOutput
from codex.tools.specs import function_tool

if TYPE_CHECKING:
    from codex.agent import Session

T = TypeVar("T")
DEFAULT_WAIT_MS = 30_000
MAX_WAIT_MS = 300_000
ROLES = {
    "default": None,
    "worker": "You are a worker sub-agent: carry out the task, change only what it needs, "
              "and report what you did.",
    "explorer": "You are an explorer sub-agent: read and search to answer the question; "
                "do not change files.",
}
_STATUS = {"queued": "pending_init", "running": "running", "succeeded": "completed",
           "failed": "errored", "timed_out": "errored", "cancelled": "interrupted"}


def collab_status(record: AgentRecord) -> dict[str, str | None]:
    """An agent's state in the Codex CLI's words, with its last message or error."""
    status = "shutdown" if record.closed and record.final else _STATUS[record.state]
    message = record.error if record.state != "succeeded" else record.last_message
    return {"status": status, "message": message}


def tool_specs() -> list[dict[str, Any]]:
    return [
        function_tool("spawn_agent", "Start a sub-agent on a task; it works in parallel and "
                      "returns its agent_id. Use wait_agents to collect its answer.", {
                          "message": {"type": "string", "description": "The task."},
                          "agent_type": {"type": "string", "enum": list(ROLES)},
                          "profile": {"type": "string", "description":
                                      "A security profile no wider than yours."}},
                      required=["message"]),
        function_tool("send_input", "Send a message to a sub-agent; it is queued while the "
                      "agent works (interrupt: true stops its current turn first).", {
                          "id": {"type": "string"}, "message": {"type": "string"},
                          "interrupt": {"type": "boolean"}}, required=["id", "message"]),
        function_tool("wait_agents", "Wait until the listed sub-agents have finished their "
                      "tasks (or timeout_ms passed); returns each one's status and answer.", {
                          "ids": {"type": "array", "items": {"type": "string"}},
                          "timeout_ms": {"type": "number"}}, required=["ids"]),
        function_tool("close_agent", "Stop a sub-agent (and its own sub-agents).",
                      {"id": {"type": "string"}}, required=["id"]),
    ]


class SubAgents:
    """The sub-agent tools of one session tree (see the module docstring)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.supervisor: Supervisor | None = None
        self._waits: dict[str, set[concurrent.futures.Future[Any]]] = {}

    def hook(self, session: Session) -> None:
        """A `SessionSettings.tool_hooks` entry: give `session` the four tools."""
        loop = asyncio.get_running_loop()
        if self.supervisor is None:  # the root session: its settings are every child's base
            self.supervisor = Supervisor(session.settings, self.limits, id_prefix="agent-")
        tools = _Tools(self, self.supervisor, session, loop)
        for spec in tool_specs():
            session.registry.register(spec["name"], getattr(tools, spec["name"]), spec=spec)
        session.cancel_hooks.append(tools.cancel_children)

    async def shutdown(self) -> None:
        if self.supervisor is not None:
            await self.supervisor.shutdown()


class _Tools:
    """The handlers for one session; they run in its tool threads and hand each operation
    to the engine's event loop."""

    def __init__(self, owner: SubAgents, supervisor: Supervisor, session: Session,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.owner, self.supervisor, self.session, self.loop = owner, supervisor, session, loop

    @property
    def parent(self) -> AgentRecord | None:
        agent_id = self.session.agent_meta.get("agent_id")
        record = self.supervisor.records.get(str(agent_id)) if agent_id is not None else None
        return record if record is not None and record.session_id == self.session.id else None

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        waits = self.owner._waits.setdefault(self.session.id, set())
        waits.add(future)
        try:
            return future.result()
        finally:
            waits.discard(future)

    def _output(self, tool: str, receivers: list[str], ok: bool, text: dict[str, Any],
                prompt: str | None = None) -> ToolOutput:
        states = {i: collab_status(self.supervisor.records[i]) for i in receivers
                  if i in self.supervisor.records}
        data = {"type": "collab_tool_call", "tool": tool, "sender_thread_id": self.session.id,
                "receiver_thread_ids": receivers, "prompt": prompt, "agents_states": states,
                "status": "completed" if ok else "failed"}
        return ToolOutput(text=json.dumps(text), success=ok, data=data)

    def _refuse(self, tool: str, message: str, receivers: list[str] | None = None,
                prompt: str | None = None) -> ToolOutput:
        return self._output(tool, receivers or [], False, {"error": message}, prompt)

    def _audit(self, ctx: ToolContext, target: str, decision: Decision, reason: str,
               profile: str) -> None:
        if ctx.audit is not None:
            ctx.audit.record(Operation.AGENT_SPAWN, target, decision, reason, profile,
                             ctx.session_id, ctx.actor)

    def spawn_agent(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
        args = arguments if isinstance(arguments, dict) else {}
        message = args.get("message")
        if not isinstance(message, str) or not message.strip():
            return self._refuse("spawn_agent", "spawn_agent needs a non-empty message")
        role = args.get("agent_type", "default")
        if role not in ROLES:
            return self._refuse("spawn_agent", f"agent_type must be one of {', '.join(ROLES)}")
        profile = args.get("profile")
        own_profile = self.session.settings.sandbox_policy.profile
        child_profile = profile if isinstance(profile, str) else own_profile
        try:
            narrower_profile(profile if isinstance(profile, str) else None, own_profile)
        except (SpecError, ValueError) as exc:
            self._audit(ctx, f"spawn_agent {role}", Decision.DENIED, str(exc), child_profile)
            return self._refuse("spawn_agent", str(exc), prompt=message)
        spec = AgentSpec(prompt=message, instructions=ROLES[role], profile=child_profile)

        async def spawn() -> AgentRecord:
            parent = self.parent
            depth = int(self.session.agent_meta.get("depth", 0))
            return self.supervisor.spawn(
                spec, parent=parent, parent_depth=None if parent else depth,
                parent_session_id=self.session.id, keep_open=True)

        try:
            record = self._call(spawn())
        except SpawnRefused as exc:
            self._audit(ctx, f"spawn_agent {role}", Decision.DENIED, str(exc), child_profile)
            return self._refuse("spawn_agent", str(exc), prompt=message)
        self._audit(ctx, f"spawn_agent {record.id}", Decision.ALLOWED,
                    f"{role} sub-agent of {self.session.id}", child_profile)
        return self._output("spawn_agent", [record.id], True, {"agent_id": record.id}, message)

    def send_input(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
        args = arguments if isinstance(arguments, dict) else {}
        agent_id, message = args.get("id"), args.get("message")
        if not isinstance(agent_id, str) or not isinstance(message, str) or not message.strip():
            return self._refuse("send_input", "send_input needs an id and a non-empty message")
        try:
            self._call(self.supervisor.send(agent_id, message,
                                            interrupt=bool(args.get("interrupt"))))
        except (KeyError, MailboxFull, MailboxClosed) as exc:
            return self._refuse("send_input", str(exc).strip("'\""), [agent_id], message)
        return self._output("send_input", [agent_id], True,
                            {"agent_id": agent_id, "queued": True}, message)

    def wait_agents(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
        args = arguments if isinstance(arguments, dict) else {}
        ids = args.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            return self._refuse("wait_agents", "wait_agents needs ids: a list of agent ids")
        unknown = [i for i in ids if i not in self.supervisor.records]
        if unknown:
            return self._refuse("wait_agents", f"no agent with id {unknown[0]!r}", ids)
        timeout = args.get("timeout_ms", DEFAULT_WAIT_MS)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            return self._refuse("wait_agents", "timeout_ms must be a positive number", ids)
        try:
            finished = self._call(self.supervisor.wait(ids, min(timeout, MAX_WAIT_MS) / 1000))
        except concurrent.futures.CancelledError:
            finished = False
        states = {i: collab_status(self.supervisor.records[i]) for i in ids}
        return self._output("wait_agents", ids, finished,
                            {"status": states, "timed_out": not finished})

    def close_agent(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
        args = arguments if isinstance(arguments, dict) else {}
        agent_id = args.get("id")
        if not isinstance(agent_id, str) or agent_id not in self.supervisor.records:
            return self._refuse("close_agent", f"no agent with id {agent_id!r}")

        async def close() -> None:
            self.supervisor.cancel(agent_id, "closed by its parent", close=True)
            await self.supervisor.join([agent_id])

        self._call(close())
        record = self.supervisor.records[agent_id]
        self._audit(ctx, f"close_agent {agent_id}", Decision.ALLOWED, "closed by its parent",
                    record.spec.profile or self.session.settings.sandbox_policy.profile)
        return self._output("close_agent", [agent_id], True,
                            {"status": collab_status(record)["status"]})

    def cancel_children(self) -> None:
        """The session's turn was cancelled: stop its children and its pending waits."""
        for future in list(self.owner._waits.get(self.session.id, ())):
            future.cancel()
        for record in list(self.supervisor.records.values()):
            if record.parent_session_id == self.session.id:
                self.supervisor.cancel(record.id, "its parent's turn was cancelled")
