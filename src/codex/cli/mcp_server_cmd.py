"""`codex mcp-server`: codex as an MCP server on stdio (tools `codex` and `codex-reply`).

Each `codex` call starts a session with the effective configuration plus the call's
`model`, `profile` (config profile), `sandbox` (security profile), `cwd` and
`approval-policy`; `codex-reply` resumes the recorded session by thread id. The protocol side
is `codex.mcp.server`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from codex.cli.common import global_options


def register(app: typer.Typer) -> None:
    """Add the `mcp-server` command."""
    app.command("mcp-server", help=(
        "Run codex as an MCP server over stdio, with the tools codex and codex-reply. "
        "Point an MCP client at `codex mcp-server`; approvals reach it as elicitation "
        "requests when it supports them."))(mcp_server)


def mcp_server(ctx: typer.Context) -> None:
    import asyncio

    from codex.mcp.server import McpServer

    options = global_options(ctx)

    async def run_codex(arguments: dict[str, Any], thread_id: str | None, approver: Any,
                        emit: Any) -> Any:
        return await _run_codex(options, arguments, thread_id, approver, emit)

    asyncio.run(McpServer(run_codex).serve())


async def _run_codex(options: Any, arguments: dict[str, Any], thread_id: str | None,
                     approver: Any, emit: Any) -> Any:
    from codex.agent import Session, SessionSettings, find_rollout, load_rollout, run_task
    from codex.cli.audit_cmd import open_audit_log
    from codex.config.loader import load_config
    from codex.mcp.server import CodexRun
    from codex.model import resolve_provider
    from codex.policies import ApprovalPolicy
    from codex.protocol import ThreadStarted, UserInput

    call_options = dataclasses.replace(
        options,
        config_profile=arguments.get("profile") or options.config_profile,
        security_profile=arguments.get("sandbox") or options.security_profile,
        cd=Path(arguments["cwd"]) if arguments.get("cwd") else options.cd)
    config = load_config(call_options)
    if arguments.get("approval-policy"):
        config = config.model_copy(update={
            "approval_policy": ApprovalPolicy(arguments["approval-policy"])})
    provider = resolve_provider(config.model_provider, config.model_providers)
    loaded = load_rollout(find_rollout(config.codex_home, thread_id)) if thread_id else None
    settings = SessionSettings.from_config(
        config, provider=provider, provider_id=provider.id, approver=approver,
        audit=open_audit_log(config), model=arguments.get("model") or None)
    settings = dataclasses.replace(settings, originator="codex_mcp_server")
    async with Session.open(settings, resume=loaded) as session:
        emit(ThreadStarted(thread_id=session.id))
        result = await run_task(session, UserInput(text=str(arguments["prompt"])), emit)
    return CodexRun(session.id, result.status, result.last_message, result.error)
