"""The MCP tools of one session: start the configured servers, offer their tools to the model,
and run every call through the guards.

    tools = McpTools.start(servers, cwd=..., policy=..., codex_home=..., allow_degraded=...,
                           taken=registry.names())     # McpStartupError: a required server
    tools.register(registry)     # each tool under its Codex name (codex.mcp.naming)
    tools.warnings               # one line per optional server that is not available
    tools.cancel_all()           # interrupted turn: cancel in-flight calls on their servers
    tools.close()

Servers start concurrently, each within its `startup_timeout_sec`. A stdio server runs inside
the sandbox: its `sandbox` setting (`inherit` = the session's profile, a profile name, or
`none`), its own directory, and the environment allow-list plus what `env` sets and
`env_vars` names; nothing else of ours reaches it.

A call's guard chain (`_approve`), in order: pinned definition (a changed one always asks),
per-tool `approval_mode` (`approve` runs, `prompt` asks), an "always" saved for this
definition, this session's answers, then the tool's annotations (`readOnlyHint` runs;
destructive or unannotated asks). Asking needs an interactive approver and an approval
policy other than `never`; otherwise the call is refused (fail closed). Audit entries: `mcp_call
requires_approval` (when asking), `approval allowed|denied` (who answered what),
`policy_change` (an "always" pinned), then `mcp_call allowed|denied`, each naming server, tool
and the digest of the arguments. If an entry cannot be written the call is not made.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex.approvals import ApprovalRequest
from codex.audit import AuditError, Decision, Operation
from codex.config.schema import McpServerConfig
from codex.mcp.client import McpClient
from codex.mcp.jsonrpc import JsonObject, McpError, Transport
from codex.mcp.naming import namespaced, qualify
from codex.mcp.pins import PinStore, definition_digest
from codex.mcp.results import capped, images, item_result, result_text
from codex.policies import ApprovalPolicy, ReviewDecision, SandboxPolicy
from codex.tools.base import ToolContext, ToolOutput
from codex.tools.registry import ToolRegistry

_MAX_DESCRIPTION = 2000
UNCONFINED = SandboxPolicy(profile="trusted", confined=False, network=True)


class McpStartupError(Exception):
    """A server marked `required = true` could not be started; the session cannot go on."""


@dataclass
class _Server:
    name: str
    config: McpServerConfig
    client: McpClient
    profile: str
    changed: threading.Event = field(default_factory=threading.Event)
    definitions: dict[str, JsonObject] = field(default_factory=dict)


@dataclass(frozen=True)
class _Verdict:
    run: bool
    reason: str
    abort: bool = False


class McpTools:
    """See the module docstring."""

    def __init__(self, servers: dict[str, _Server], codex_home: Path,
                 warnings: list[str], taken: set[str]) -> None:
        self.servers = servers
        self.warnings = warnings
        self.pins = PinStore(codex_home)
        self.outputs = codex_home / "mcp" / "outputs"
        self.names = qualify(((s.name, tool) for s in servers.values()
                              for tool in s.definitions), taken)
        self._session_approved: set[tuple[str, str, str]] = set()
        self._in_flight: set[threading.Event] = set()
        self._lock = threading.Lock()

    # --- starting -------------------------------------------------------------------------

    @classmethod
    def start(cls, servers: Mapping[str, McpServerConfig], *, cwd: Path, policy: SandboxPolicy,
              codex_home: Path, allow_degraded: bool = False,
              taken: set[str] | None = None) -> McpTools:
        enabled = {name: config for name, config in servers.items() if config.enabled}
        started: dict[str, _Server] = {}
        warnings: list[str] = []
        failures: list[str] = []
        with ThreadPoolExecutor(max_workers=max(1, len(enabled)),
                                thread_name_prefix="codex-mcp-start") as pool:
            futures = {name: pool.submit(_start_server, name, config, cwd, policy,
                                         allow_degraded)
                       for name, config in sorted(enabled.items())}
            for name, future in futures.items():
                try:
                    started[name] = future.result()
                except (McpError, OSError, ValueError) as exc:
                    if enabled[name].required:
                        failures.append(f"MCP server {name!r} did not start: {exc} (it is "
                                        "marked required = true)")
                    else:
                        warnings.append(f"MCP server {name!r} did not start: {exc}; its "
                                        "tools are left out")
        if failures:
            for server in started.values():
                server.client.close()
            raise McpStartupError("; ".join(failures))
        return cls(started, codex_home, warnings, set(taken or ()))

    def register(self, registry: ToolRegistry) -> None:
        """Each tool under its flat name, with its namespace and member name for the wires
        that group tools (codex.mcp.naming)."""
        spaces = namespaced(self.names)
        for name, (server, tool) in self.names.items():
            definition = self.servers[server].definitions[tool]
            space, member = spaces[name]
            registry.register(name, self._handler(server, tool), spec={
                "type": "function", "name": name,
                "description": str(definition.get("description") or definition.get("title")
                                   or tool),
                "strict": False,
                "parameters": _parameters(definition.get("inputSchema")),
                "namespace": {"name": space, "member": member,
                              "description": self._describe(server)}})

    def _describe(self, server: str) -> str:
        """A namespace's description: the server's own instructions (capped), else its name."""
        instructions = (self.servers[server].client.server.instructions or "").strip()
        return instructions[:_MAX_DESCRIPTION] or f"Tools of the MCP server {server!r}"

    def cancel_all(self) -> None:
        with self._lock:
            for event in self._in_flight:
                event.set()

    def close(self) -> None:
        self.cancel_all()
        with ThreadPoolExecutor(max_workers=max(1, len(self.servers))) as pool:
            for server in self.servers.values():
                pool.submit(server.client.close)

    # --- calling --------------------------------------------------------------------------

    def _handler(self, server: str, tool: str) -> Callable[[dict[str, Any] | str, ToolContext],
                                                           ToolOutput]:
        def handle(arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
            if isinstance(arguments, str):
                return ToolOutput(text="MCP tools take JSON arguments", success=False)
            return self.call(server, tool, arguments, ctx)

        return handle

    def call(self, server_name: str, tool: str, arguments: dict[str, Any],
             ctx: ToolContext) -> ToolOutput:
        """Guard, call and map one MCP tool call (never raises for the server's failures)."""
        server = self.servers[server_name]
        item: dict[str, Any] = {"type": "mcp_tool_call", "server": server_name, "tool": tool,
                                "arguments": arguments, "result": None, "error": None,
                                "status": "failed"}
        try:
            definition = self._current_definition(server, tool)
        except McpError as exc:
            return _failed(item, f"MCP server {server_name!r}: {exc}")
        if definition is None:
            return _failed(item, f"the MCP server {server_name!r} no longer offers {tool!r}")
        try:
            verdict = self._approve(server, tool, definition, arguments, ctx)
        except AuditError as exc:
            return _failed(item, f"not called: {exc} (every decision must be recorded)")
        if not verdict.run:
            return _failed(item, f"the MCP call was not made: {verdict.reason}")
        cancel = threading.Event()
        with self._lock:
            self._in_flight.add(cancel)
        try:
            result = server.client.call_tool(
                tool, arguments, timeout_s=server.config.tool_timeout_sec,
                on_progress=_progress_printer(ctx), cancel=cancel)
        except McpError as exc:
            return _failed(item, str(exc))
        finally:
            with self._lock:
                self._in_flight.discard(cancel)
        limit, save_dir = server.config.output_token_limit, self.outputs / ctx.session_id
        call_name = f"{server_name}-{tool}-{os.urandom(4).hex()}"
        text = capped(result_text(result), limit, save_dir, call_name)
        urls, text = images(result, text, limit, save_dir, call_name)
        failed = bool(result.get("isError"))
        item.update(result=item_result(result), status="failed" if failed else "completed")
        if failed:
            item["error"] = {"message": text}
        return ToolOutput(text=text, success=not failed, data=item, images=tuple(urls))

    def _current_definition(self, server: _Server, tool: str) -> JsonObject | None:
        """The tool's definition now: listed again when the server said its list changed."""
        if server.changed.is_set():
            server.changed.clear()
            server.definitions = _select(server.config,
                                         server.client.list_tools(server.config.startup_timeout_s))
        return server.definitions.get(tool)

    def _approve(self, server: _Server, tool: str, definition: JsonObject,
                 arguments: dict[str, Any], ctx: ToolContext) -> _Verdict:
        digest = definition_digest(definition)
        args_digest = hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()
        target = f"{server.name}/{tool} args_sha256={args_digest[:16]} def={digest[:12]}"
        record = _recorder(ctx, target, server.profile)
        matches, always = self.pins.check(server.name, tool, digest)
        key = (server.name, tool, digest)
        mode = _approval_mode(server.config, tool)
        ask: str | None = None
        if not matches:
            ask = "the tool's definition changed since it was pinned (approve the new one)"
        elif mode == "approve":
            reason = 'approved by config (approval_mode = "approve")'
        elif always:
            reason = "approved always earlier (definition unchanged)"
        elif key in self._session_approved:
            reason = "approved earlier in this session"
        elif mode == "prompt":
            ask = 'approval_mode = "prompt"'
        elif _read_only(definition):
            reason = "read-only tool (readOnlyHint), runs without asking"
        else:
            ask = "the tool may change things (destructiveHint, or no annotations)"
        if ask is None:
            record(Operation.MCP_CALL, Decision.ALLOWED, reason)
            return _Verdict(True, reason)
        record(Operation.MCP_CALL, Decision.REQUIRES_APPROVAL, ask)
        verdict = self._ask(server, tool, arguments, ask, digest, ctx, record)
        record(Operation.MCP_CALL, Decision.ALLOWED if verdict.run else Decision.DENIED,
               verdict.reason)
        if verdict.run:
            self._session_approved.add(key)
        return verdict

    def _ask(self, server: _Server, tool: str, arguments: dict[str, Any], why: str,
             digest: str, ctx: ToolContext, record: _Record) -> _Verdict:
        guard = ctx.guard
        if guard is None:
            return _Verdict(False, f"needs approval ({why}) but the session has no guard")
        if guard.approvals.policy is ApprovalPolicy.NEVER:
            return _Verdict(False, f"needs approval ({why}) but approval_policy is never")
        approver = guard.approvals.approver
        if not approver.interactive:
            return _Verdict(False, f"needs approval ({why}) but nobody can be asked "
                                   "(non-interactive)")
        shown = json.dumps(arguments, ensure_ascii=False)
        answer = approver.request_approval(ApprovalRequest(
            ("mcp", server.name, tool, shown[:2000]), ctx.workspace,
            f"MCP tool {server.name}/{tool}: {why}"))
        run = answer in (ReviewDecision.APPROVED, ReviewDecision.APPROVED_FOR_SESSION,
                         ReviewDecision.APPROVED_ALWAYS)
        reason = {ReviewDecision.APPROVED: "approved by the user",
                  ReviewDecision.APPROVED_FOR_SESSION: "approved by the user for this session",
                  ReviewDecision.APPROVED_ALWAYS: "approved by the user always (pinned)",
                  ReviewDecision.ABORT: "the user aborted"}.get(answer, "denied by the user")
        record(Operation.APPROVAL, Decision.ALLOWED if run else Decision.DENIED,
               f"{answer.value}: {reason}")
        if run:
            always = answer is ReviewDecision.APPROVED_ALWAYS
            self.pins.approve(server.name, tool, digest, always=always)
            if always:
                record(Operation.POLICY_CHANGE, Decision.ALLOWED,
                       f"{server.name}/{tool} approved always at definition {digest[:12]} "
                       f"({self.pins.path})")
        return _Verdict(run, reason, abort=answer is ReviewDecision.ABORT)


_Record = Callable[[Operation, Decision, str], None]


def _recorder(ctx: ToolContext, target: str, profile: str) -> _Record:
    log = ctx.guard.audit if ctx.guard is not None else ctx.audit

    def record(operation: Operation, decision: Decision, reason: str) -> None:
        if log is not None:
            log.record(operation, target, decision, reason, profile, ctx.session_id, ctx.actor)

    return record


def _failed(item: dict[str, Any], message: str) -> ToolOutput:
    item.update(status="failed", error={"message": message})
    return ToolOutput(text=message, success=False, data=item)


def _approval_mode(config: McpServerConfig, tool: str) -> str:
    per_tool = config.tools.get(tool)
    if per_tool is not None and per_tool.approval_mode is not None:
        return per_tool.approval_mode
    return config.default_tools_approval_mode or "auto"


def _read_only(definition: JsonObject) -> bool:
    annotations = definition.get("annotations")
    if not isinstance(annotations, dict):
        return False
    return annotations.get("readOnlyHint") is True and annotations.get("destructiveHint") \
        is not True


def _parameters(schema: object) -> JsonObject:
    if isinstance(schema, dict) and schema.get("type") == "object":
        return {"properties": {}, **schema}
    return {"type": "object", "properties": {}}


def _progress_printer(ctx: ToolContext) -> Callable[[float, float | None, str | None], None]:
    def show(progress: float, total: float | None, message: str | None) -> None:
        if ctx.on_output is not None:
            of = f"/{total:g}" if total is not None else ""
            ctx.on_output("stdout", f"progress {progress:g}{of}{': ' + message if message else ''}"
                                    "\n".encode())

    return show


# --- one server -------------------------------------------------------------------------------

def _start_server(name: str, config: McpServerConfig, cwd: Path, policy: SandboxPolicy,
                  allow_degraded: bool) -> _Server:
    transport, profile = _transport(config, cwd, policy, allow_degraded)
    server: _Server | None = None

    def changed() -> None:
        if server is not None:
            server.changed.set()

    client = McpClient(transport, name, on_tools_changed=changed)
    try:
        client.start(config.startup_timeout_s)
        definitions = _select(config, client.list_tools(config.startup_timeout_s))
    except BaseException:
        client.close()
        raise
    server = _Server(name, config, client, profile, definitions=definitions)
    return server


def _select(config: McpServerConfig, tools: list[JsonObject]) -> dict[str, JsonObject]:
    """`enabled_tools` first (when set), then `disabled_tools` removed."""
    chosen = {str(t["name"]): t for t in tools}
    if config.enabled_tools is not None:
        chosen = {k: v for k, v in chosen.items() if k in config.enabled_tools}
    for name in config.disabled_tools or ():
        chosen.pop(name, None)
    return chosen


def _transport(config: McpServerConfig, cwd: Path, policy: SandboxPolicy,
               allow_degraded: bool) -> tuple[Transport, str]:
    if config.url is not None:
        from codex.mcp.http import HttpTransport

        return HttpTransport(config.url, http_headers(config),
                             connect_timeout_s=config.startup_timeout_s), "http"
    from codex.mcp.stdio import StdioTransport
    from codex.sandbox.runner import SandboxRequest, start_piped

    server_policy = server_sandbox(config.sandbox, policy, cwd)
    env = dict(config.env)
    env.update({var: os.environ[var] for var in config.env_vars if var in os.environ})
    assert config.command is not None
    request = SandboxRequest(policy=server_policy, argv=[config.command, *config.args],
                             cwd=config.cwd or cwd, env=env, allow_degraded=allow_degraded,
                             workspace=cwd)
    return StdioTransport(lambda: start_piped(request, config.startup_timeout_s)), \
        server_policy.profile


def server_sandbox(setting: str, session: SandboxPolicy, cwd: Path) -> SandboxPolicy:
    """The policy a stdio server runs under (`inherit`, `none` or a profile name)."""
    if setting == "inherit":
        return session
    if setting == "none":
        return UNCONFINED
    from codex.security import parse_profile, resolve_policy

    return resolve_policy(parse_profile(setting), cwd)


def http_headers(config: McpServerConfig) -> dict[str, str]:
    """Static headers, then headers from environment variables, then the bearer token."""
    headers = dict(config.http_headers)
    for header, variable in config.env_http_headers.items():
        value = os.environ.get(variable, "").strip()
        if value:
            headers[header] = value
    if config.bearer_token_env_var:
        token = os.environ.get(config.bearer_token_env_var, "").strip()
        if not token:
            raise McpError(f"bearer_token_env_var names {config.bearer_token_env_var}, which "
                           "is not set")
        headers["authorization"] = f"Bearer {token}"
    return headers
