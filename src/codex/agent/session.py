"""A session: one conversation with the model, its tools, and its rollout.

    settings = SessionSettings.from_config(config, provider=provider, approver=approver,
                                           audit=audit_log, max_turns=50)
    async with Session.open(settings, resume=load_rollout(path) or None) as session:
        result = await run_task(session, UserInput(text="..."), emit)   # codex.agent.turn

The session owns the conversation history (what the next request sends), the tool registry
and the guard chain every command goes through, one `ModelClient` (one keep-alive connection
for all requests) and the rollout writer. Everything added to the history passes the secrets
scrubber first and is written to the rollout at once (fsynced right behind; the session waits
for the disk before a tool with side effects runs), so a resumed session sends exactly what
was recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codex import __version__
from codex.agent.instructions import (
    EnvironmentContext,
    build_instructions,
    discover_project_docs,
    instructions_hash,
    read_user_doc,
    user_shell,
)
from codex.agent.rollout import LoadedRollout, RolloutWriter, new_session_id
from codex.approvals import Approver
from codex.audit import AuditLog, Scrubber
from codex.config import EffectiveConfig
from codex.config.schema import McpServerConfig
from codex.model import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    InputItem,
    Message,
    ModelClient,
    Reasoning,
    ResolvedProvider,
    ToolSpec,
    item_to_dict,
    tool_from_dict,
)
from codex.plugins.tools import register_plugin_tools
from codex.policies import ApprovalPolicy, SandboxPolicy
from codex.protocol import TokenUsage
from codex.tools.base import ToolContext
from codex.tools.guarded_exec import Guard
from codex.tools.registry import ToolRegistry, default_registry
from codex.tools.warm_shell import WarmHelper

DEFAULT_MAX_TURNS = 100
ABORTED_OUTPUT = "aborted: the turn ended (interrupted or the session stopped) before this " \
                 "call finished"
_TOOL_WORKERS = 8


@dataclass(frozen=True)
class SessionSettings:
    """Everything a session needs from the configuration and the front end."""

    cwd: Path
    codex_home: Path
    model: str
    provider: ResolvedProvider
    provider_id: str
    sandbox_policy: SandboxPolicy
    approval_policy: ApprovalPolicy
    approver: Approver
    audit: AuditLog | None
    project_doc_max_bytes: int = 32 * 1024
    project_doc_fallback_filenames: tuple[str, ...] = ()
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    env_passthrough: tuple[str, ...] = ()
    max_turns: int = DEFAULT_MAX_TURNS
    apply_patch_tool: Literal["freeform", "function"] = "freeform"
    originator: str = "codex_exec"
    thread_source: str | None = None  # who started the thread (`codex exec --thread-source`)
    reasoning_effort: str | None = None  # `model_reasoning_effort`, sent with each request
    # Set for a session the supervisor runs as an agent: `agent_id`, `parent_session_id`,
    # `depth`; recorded in the rollout meta, and the agent id names the actor in the audit log.
    agent_meta: Mapping[str, str | int] | None = None
    # Called with the new session before its tool list is built: how other rooms (sub-agents,
    # MCP, plugins) add tools through `session.registry.register`.
    tool_hooks: tuple[Callable[[Session], None], ...] = ()
    # The instructions, when a caller opening many sessions with the same inputs built them
    # once (`build_session_instructions`); None: built when the session opens.
    instructions: str | None = None
    mcp_servers: dict[str, McpServerConfig] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_config(cls, config: EffectiveConfig, *, provider: ResolvedProvider,
                    provider_id: str, approver: Approver, audit: AuditLog | None,
                    model: str | None = None, max_turns: int = DEFAULT_MAX_TURNS,
                    apply_patch_tool: Literal["freeform", "function"] = "freeform",
                    ) -> SessionSettings:
        shell_env = config.shell_environment_policy
        return cls(
            cwd=config.cwd, codex_home=config.codex_home, model=model or config.model,
            provider=provider, provider_id=provider_id, sandbox_policy=config.sandbox_policy(),
            approval_policy=config.approval_policy, approver=approver, audit=audit,
            project_doc_max_bytes=config.project_doc_max_bytes,
            project_doc_fallback_filenames=tuple(config.project_doc_fallback_filenames),
            env=dict(shell_env.set), env_passthrough=tuple(shell_env.include_only),
            max_turns=max_turns, apply_patch_tool=apply_patch_tool,
            reasoning_effort=config.model_reasoning_effort,
            mcp_servers=dict(config.mcp_servers))


class SessionStartError(Exception):
    """Something the session must have could not start (a `required` MCP server)."""


class Session:
    """See the module docstring; build with `Session.open`."""

    def __init__(self, settings: SessionSettings, session_id: str, instructions: str,
                 history: list[InputItem], rollout: RolloutWriter, client: ModelClient,
                 scrubber: Scrubber, guard: Guard,
                 agent_meta: Mapping[str, str | int] | None = None) -> None:
        self.settings = settings
        # The agent identity of this session (its settings', or the resumed rollout's), so
        # depth limits hold for a resumed child too.
        self.agent_meta: dict[str, str | int] = dict(agent_meta or {})
        # Run when a turn is cancelled, before its commands are killed (sub-agents stop here).
        self.cancel_hooks: list[Callable[[], None]] = []
        self.id = session_id
        self.instructions = instructions
        self.history = history
        self.rollout = rollout
        self.client = client
        self.scrubber = scrubber
        self.registry: ToolRegistry = default_registry(settings.apply_patch_tool)
        register_plugin_tools(self.registry, settings.codex_home, settings.cwd,
                              audit=settings.audit, session_id=session_id)
        self.tool_context = ToolContext(
            workspace=settings.cwd, sandbox_policy=settings.sandbox_policy,
            approval_policy=settings.approval_policy, session_id=session_id, guard=guard,
            audit=settings.audit, actor=guard.actor)
        for hook in settings.tool_hooks:
            hook(self)
        self.tools: list[ToolSpec] = [tool_from_dict(s) for s in self.registry.specs()]
        self.executor = ThreadPoolExecutor(max_workers=_TOOL_WORKERS,
                                           thread_name_prefix="codex-tool")
        self._item_counter = 0
        # Tokens of the turns before this process (a resumed thread): `turn.completed`
        # reports thread totals, as the Codex CLI does.
        self.prior_usage = TokenUsage()
        # Problems to show once, at the start of the first turn (an optional MCP server down).
        self.startup_warnings: list[str] = []
        # (server, tool) of each MCP tool by the name the model calls it; for thread items.
        self.mcp_tools: dict[str, tuple[str, str]] = {}
        # Called when a turn is interrupted, to cancel what killing commands cannot reach.
        self.interrupt_hooks: list[Callable[[], None]] = []

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: SessionSettings,
                   resume: LoadedRollout | None = None) -> AsyncIterator[Session]:
        """Start a new session (new rollout) or continue `resume` (same id, same file).

        Raises RuleLoadError (bad exec-policy rules) and RolloutError before any request.
        """
        scrubber = Scrubber.secrets_only()
        instructions = settings.instructions or build_session_instructions(settings, scrubber)
        session_id = new_session_id() if resume is None else resume.session_id
        guard = Guard.create(  # bad rules fail here, before a session file exists
            codex_home=settings.codex_home, approval_policy=settings.approval_policy,
            approver=settings.approver, audit=settings.audit, session_id=session_id,
            actor=_identity(settings, resume)[0], env=settings.env,
            env_passthrough=settings.env_passthrough)
        guard.warm = WarmHelper()  # a confined helper ready for each next shell command
        if resume is None:
            history: list[InputItem] = []
            rollout = await _create_off_loop(settings.codex_home, session_id,
                                             _meta(settings, instructions))
        else:
            history = list(resume.items)
            rollout = RolloutWriter.resume(resume.path)
        try:
            async with ModelClient(settings.provider) as client:
                session = cls(settings, session_id, instructions, history, rollout, client,
                              scrubber, guard, _identity(settings, resume)[1])
                try:
                    if resume is not None:
                        session.prior_usage = TokenUsage.model_validate(
                            {k: v for k, v in resume.usage.items()
                             if k in TokenUsage.model_fields})
                        session.answer_unanswered_calls()
                    async with _mcp_tools(session):
                        yield session
                finally:
                    session.executor.shutdown(wait=True, cancel_futures=True)
                    if settings.audit is not None:
                        settings.audit.checkpoint_newest()  # anchors the session's entries
        finally:
            guard.warm.close()
            await _close_off_loop(rollout)

    def next_item_id(self) -> str:
        """`item_0`, `item_1`, ...: ids of the thread items this process reports."""
        item_id = f"item_{self._item_counter}"
        self._item_counter += 1
        return item_id

    def reconfigure(self, *, model: str | None = None,
                    sandbox_policy: SandboxPolicy | None = None,
                    approval_policy: ApprovalPolicy | None = None) -> None:
        """Switch the model or the policies between turns (the interactive UI's /model,
        /profile, /approvals); the next task's `turn_context` line records the new values."""
        settings = self.settings
        self.settings = dataclasses.replace(
            settings, model=model or settings.model,
            sandbox_policy=sandbox_policy or settings.sandbox_policy,
            approval_policy=approval_policy or settings.approval_policy)
        self.tool_context = dataclasses.replace(
            self.tool_context, sandbox_policy=self.settings.sandbox_policy,
            approval_policy=self.settings.approval_policy)
        if self.tool_context.guard is not None:
            self.tool_context.guard.approvals.policy = self.settings.approval_policy

    def record(self, item: InputItem) -> None:
        """Scrub `item`, add it to the history and write it to the rollout."""
        clean = scrub_item(item, self.scrubber)
        self.history.append(clean)
        self.rollout.append_items((clean,))

    def replace_history(self, items: Sequence[InputItem], summary: str) -> None:
        """Make `items` the conversation (compaction) and record it as a `compacted` line,
        which `load_rollout` replays on resume."""
        clean = [scrub_item(item, self.scrubber) for item in items]
        self.history = clean
        self.rollout.append("compacted", {
            "message": self.scrubber.scrub(summary),
            "replacement_history": [item_to_dict(item) for item in clean]})

    def record_event(self, kind: str, payload: dict[str, Any]) -> None:
        """A non-conversation line in the rollout (turn context, turn end)."""
        self.rollout.append(kind, payload)

    def answer_unanswered_calls(self) -> None:
        """Record an 'aborted' output for every call that has none (the process that made it
        died or was interrupted first), so the next request is a valid conversation."""
        missing = set(calls_without_output(self.history))
        for item in list(self.history):
            if isinstance(item, FunctionCall) and item.call_id in missing:
                self.record(FunctionCallOutput(item.call_id, ABORTED_OUTPUT))
            elif isinstance(item, CustomToolCall) and item.call_id in missing:
                self.record(CustomToolCallOutput(item.call_id, ABORTED_OUTPUT))


async def _create_off_loop(codex_home: Path, session_id: str,
                           meta: dict[str, Any]) -> RolloutWriter:
    """Create the rollout in a thread: it waits for the disk (fsync), and other sessions
    (the supervisor's agents) share this event loop. Cancelled meanwhile, the file is still
    closed before the cancellation goes on."""
    creating = asyncio.ensure_future(asyncio.to_thread(RolloutWriter.create, codex_home,
                                                       session_id, meta))
    try:
        return await asyncio.shield(creating)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            (await creating).close()
        raise


async def _close_off_loop(rollout: RolloutWriter) -> None:
    """Close the rollout (it waits for the last fsync) in a thread, so sessions sharing the
    event loop go on meanwhile; closed on return even when the caller is cancelled."""
    closing = asyncio.ensure_future(asyncio.to_thread(rollout.close))
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        await closing
        raise


def _identity(settings: SessionSettings, resume: LoadedRollout | None,
              ) -> tuple[str, dict[str, str | int]]:
    """(audit actor, agent meta): the settings' agent identity, else the resumed rollout's."""
    meta = dict(settings.agent_meta or {})
    if not meta and resume is not None and isinstance(resume.meta.get("agent"), dict):
        meta = {k: v for k, v in resume.meta["agent"].items() if isinstance(v, str | int)}
    return ("agent" if "agent_id" not in meta else f"agent:{meta['agent_id']}"), meta
@asynccontextmanager
async def _mcp_tools(session: Session) -> AsyncIterator[None]:
    """Start the configured MCP servers and add their tools (MCP loads only here, and only
    when a server is enabled); stop them when the session ends."""
    servers = {k: v for k, v in session.settings.mcp_servers.items() if v.enabled}
    if not servers:
        yield
        return
    import asyncio

    from codex.mcp.toolset import McpStartupError, McpTools

    settings = session.settings
    try:
        tools = await asyncio.to_thread(
            McpTools.start, servers, cwd=settings.cwd, policy=settings.sandbox_policy,
            codex_home=settings.codex_home, taken=set(session.registry.names()))
    except McpStartupError as exc:
        raise SessionStartError(str(exc)) from exc
    try:
        tools.register(session.registry)
        session.tools = [tool_from_dict(s) for s in session.registry.specs()]
        session.mcp_tools = dict(tools.names)
        session.startup_warnings.extend(tools.warnings)
        session.interrupt_hooks.append(tools.cancel_all)
        yield
    finally:
        await asyncio.to_thread(tools.close)


def build_session_instructions(settings: SessionSettings, scrubber: Scrubber) -> str:
    environment = EnvironmentContext(
        cwd=settings.cwd, security_profile=settings.sandbox_policy.profile,
        approval_policy=settings.approval_policy.value,
        network_access=settings.sandbox_policy.network, shell=user_shell())
    return build_instructions(
        user_doc=read_user_doc(settings.codex_home),
        project_docs=discover_project_docs(
            settings.cwd, fallback_names=settings.project_doc_fallback_filenames,
            max_bytes=settings.project_doc_max_bytes),
        environment=environment, scrubber=scrubber)


def _meta(settings: SessionSettings, instructions: str) -> dict[str, Any]:
    return {
        "cwd": str(settings.cwd),
        "originator": settings.originator,
        "cli_version": __version__,
        "model": settings.model,
        "model_provider": settings.provider_id,
        "security_profile": settings.sandbox_policy.profile,
        "approval_policy": settings.approval_policy.value,
        "instructions_hash": instructions_hash(instructions),
        **({"thread_source": settings.thread_source} if settings.thread_source else {}),
        **({"agent": dict(settings.agent_meta)} if settings.agent_meta else {}),
    }


def scrub_item(item: InputItem, scrubber: Scrubber) -> InputItem:
    """`item` with secrets removed from every free-text field."""
    scrub = scrubber.scrub
    match item:
        case Message(text=text):
            return dataclasses.replace(item, text=scrub(text))
        case FunctionCall(arguments=arguments):
            return dataclasses.replace(item, arguments=scrub(arguments))
        case CustomToolCall(input=text):
            return dataclasses.replace(item, input=scrub(text))
        case FunctionCallOutput(output=output) | CustomToolCallOutput(output=output):
            return dataclasses.replace(item, output=scrub(output))
        case Reasoning(summary=summary):
            return dataclasses.replace(item, summary=tuple(scrub(s) for s in summary))
    return item


def calls_without_output(history: Sequence[InputItem]) -> list[str]:
    """Call ids in `history` that have no output yet."""
    answered = {i.call_id for i in history
                if isinstance(i, FunctionCallOutput | CustomToolCallOutput)}
    return [i.call_id for i in history
            if isinstance(i, FunctionCall | CustomToolCall) and i.call_id not in answered]
