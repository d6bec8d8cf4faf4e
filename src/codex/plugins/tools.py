"""The session hook: granted plugins' tools enter a `ToolRegistry` as `plugin__<id>__<tool>`.

    register_plugin_tools(registry, codex_home, workspace, audit=..., session_id=...)
        -> list of registered names

Only installed plugins whose module matches its manifest and whose grant is valid are offered
to the model (reading manifests and hashing modules; wasmtime is not loaded until a call).

Approval follows the tool's annotations, as for MCP tools: a `read_only` tool runs without a
question; otherwise `untrusted` asks for every call, `on-request`/`on-failure` ask for
`destructive` or `open_world` tools, `never` asks nothing (the grant is the boundary). The
question goes to the session's approver; nobody to ask means refused (fail closed); "for the
session" is remembered per tool. Each answer is recorded in the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codex.approvals import ApprovalRequest
from codex.audit import AuditLog, Decision, Operation
from codex.plugins.grants import GrantError, grant_problem, read_grants
from codex.plugins.host import PROFILE, PluginHost, qualified_name
from codex.plugins.manifest import Annotations, ManifestError, ToolDef
from codex.plugins.store import TamperedError, installed_ids, load_installed
from codex.policies import ApprovalPolicy, ReviewDecision
from codex.tools.base import ToolContext, ToolOutput
from codex.tools.registry import ToolRegistry

# What the model reads is capped whatever the plugin's own max_output_bytes allows.
MAX_MODEL_OUTPUT = 64 * 1024


def needs_approval(annotations: Annotations, policy: ApprovalPolicy) -> bool:
    """See the module docstring."""
    if annotations.read_only or policy is ApprovalPolicy.NEVER:
        return False
    if policy is ApprovalPolicy.UNTRUSTED:
        return True
    return annotations.destructive or annotations.open_world


def register_plugin_tools(registry: ToolRegistry, codex_home: Path, workspace: Path, *,
                          audit: AuditLog | None, session_id: str) -> list[str]:
    """See the module docstring."""
    try:
        grants = read_grants(codex_home)
    except GrantError:
        return []  # a broken [plugins] table grants nothing; `codex plugin list` names it
    host = PluginHost(codex_home, workspace, audit=audit, session_id=session_id, actor="agent")
    names = []
    for plugin_id in installed_ids(codex_home):
        try:
            plugin = load_installed(codex_home, plugin_id)
        except (ManifestError, TamperedError):
            continue
        if grant_problem(plugin.manifest, plugin.wasm_sha256, grants.get(plugin_id)):
            continue
        for tool in plugin.manifest.tools:
            name = qualified_name(plugin_id, tool.name)
            registry.register(name, _Handler(host, plugin_id, tool), spec=_spec(name, tool))
            names.append(name)
    return names


def _spec(name: str, tool: ToolDef) -> dict[str, Any]:
    return {"type": "function", "name": name, "description": tool.description,
            "strict": False, "parameters": tool.input_schema}


class _Handler:
    """One plugin tool as a registry handler (the session's approval memory included)."""

    def __init__(self, host: PluginHost, plugin_id: str, tool: ToolDef) -> None:
        self.host = host
        self.plugin_id = plugin_id
        self.tool = tool
        self.approved_for_session = False

    def __call__(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolOutput:
        if isinstance(arguments, str):
            return ToolOutput(text="plugin tools take JSON arguments", success=False)
        name = qualified_name(self.plugin_id, self.tool.name)
        if needs_approval(self.tool.annotations, ctx.approval_policy) \
                and not self.approved_for_session:
            refusal = self._ask(name, arguments, ctx)
            if refusal is not None:
                return ToolOutput(text=refusal, success=False, data=self._item(arguments))
        outcome = self.host.call(self.plugin_id, self.tool.name, arguments)
        text = outcome.text()
        if len(text.encode()) > MAX_MODEL_OUTPUT:
            text = text.encode()[:MAX_MODEL_OUTPUT].decode("utf-8", "ignore") + \
                f"\n[truncated to {MAX_MODEL_OUTPUT} bytes]"
        return ToolOutput(text=text, success=outcome.ok, data=self._item(arguments))

    def _item(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """What the front end shows (`codex.agent.items` maps it to an mcp_tool_call item)."""
        return {"type": "plugin_call", "server": f"plugin:{self.plugin_id}",
                "tool": self.tool.name, "arguments": arguments}

    def _ask(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> str | None:
        """None when approved, else the refusal the model reads."""
        notes = self.tool.annotations
        kind = "destructive" if notes.destructive else "open-world" if notes.open_world \
            else "not read-only"
        reason = f"plugin tool {name} is {kind}"
        target = f"{name} {json.dumps(arguments, sort_keys=True)[:200]}"
        self._record(ctx, target, Decision.REQUIRES_APPROVAL, reason)
        approver = ctx.guard.approvals.approver if ctx.guard is not None else None
        if approver is None or not approver.interactive:
            self._record(ctx, target, Decision.DENIED, "nobody to ask")
            return f"not run: {reason} and needs approval, but nobody can be asked"
        answer = approver.request_approval(ApprovalRequest(
            argv=(name, json.dumps(arguments, sort_keys=True)), cwd=ctx.workspace,
            reason=reason, offer_always=False))
        approved = answer in (ReviewDecision.APPROVED, ReviewDecision.APPROVED_FOR_SESSION)
        self._record(ctx, target, Decision.ALLOWED if approved else Decision.DENIED,
                     f"answer: {answer}")
        if answer is ReviewDecision.APPROVED_FOR_SESSION:
            self.approved_for_session = True
        return None if approved else f"not run: the user declined {name} ({answer})"

    def _record(self, ctx: ToolContext, target: str, decision: Decision, reason: str) -> None:
        if ctx.audit is not None:
            ctx.audit.record(Operation.APPROVAL, target, decision, reason, PROFILE,
                             ctx.session_id, ctx.actor)
