"""`codex mcp-server`: codex as an MCP server on stdio (tools `codex` and `codex-reply`), or
with `--http [HOST:]PORT` on Streamable HTTP at a loopback address (codex.mcp.server_http).

Each `codex` call starts a session with the effective configuration plus the call's
`model`, `profile` (config profile), `sandbox` (security profile), `cwd` and
`approval-policy`; `codex-reply` resumes the recorded session by thread id. The protocol side
is `codex.mcp.server`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from codex.cli.common import global_options


def register(app: typer.Typer) -> None:
    """Add the `mcp-server` command."""
    app.command("mcp-server", help=(
        "Run codex as an MCP server over stdio, with the tools codex and codex-reply. "
        "Point an MCP client at `codex mcp-server`; approvals reach it as elicitation "
        "requests when it supports them."))(mcp_server)


def mcp_server(ctx: typer.Context, http: Annotated[str | None, typer.Option(
        "--http", metavar="[HOST:]PORT",
        help="Serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (HOST: "
             "127.0.0.1 by default, loopback only; PORT 0 picks a free port; the URL is "
             "printed on stderr).")] = None) -> None:
    import asyncio
    import sys

    options = global_options(ctx)

    async def run_codex(arguments: dict[str, Any], thread_id: str | None, approver: Any,
                        emit: Any) -> Any:
        return await _run_codex(options, arguments, thread_id, approver, emit)

    if http is None:
        from codex.mcp.server import McpServer

        asyncio.run(McpServer(run_codex).serve())
        return
    from codex.mcp.server_http import LOOPBACK_NAMES, serve_http

    host, _, port = http.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host not in LOOPBACK_NAMES or not port.isdigit() or int(port) > 65535:
        raise typer.BadParameter(
            f"{http!r}: expected [HOST:]PORT with a loopback HOST (127.0.0.1, localhost or "
            "::1) and PORT 0-65535", param_hint="--http")

    def announce(url: str) -> None:
        print(f"codex mcp-server: listening on {url}", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve_http(run_codex, host, int(port), announce))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"codex mcp-server: cannot listen on {http}: {exc.strerror or exc}; pick another "
              "port", file=sys.stderr)
        raise typer.Exit(1) from None


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
