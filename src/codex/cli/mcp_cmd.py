"""`codex mcp list | get | add | remove | login | logout`: manage `[mcp_servers.<name>]`.

Edits keep config.toml as the user wrote it (tomlkit): comments, order and layout outside the
edited table stay byte for byte; the new file is checked by the config loader before it
replaces the old one (atomically). Output never shows secret values: `env` values and header
values are masked; only the names of the variables that hold tokens are printed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from codex.cli.common import global_options, load_effective_config
from codex.config.schema import McpServerConfig

MASK = "*****"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(app: typer.Typer) -> None:
    """Add the `mcp` command group."""
    mcp_app = typer.Typer(
        name="mcp", no_args_is_help=True,
        help="Manage MCP servers whose tools join every session (list, get, add, remove). "
             "They live in config.toml as [mcp_servers.NAME]. Examples: "
             "codex mcp add time -- uvx mcp-server-time | "
             "codex mcp add docs --url https://example.com/mcp --bearer-token-env-var DOCS_TOKEN"
             " | codex mcp list --json")
    mcp_app.command("list")(list_servers)
    mcp_app.command("get")(get_server)
    mcp_app.command("add")(add_server)
    mcp_app.command("remove")(remove_server)
    mcp_app.command("login")(login)
    mcp_app.command("logout")(logout)
    app.add_typer(mcp_app)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def list_servers(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the configured MCP servers (secrets masked)."""
    servers = load_effective_config(ctx).mcp_servers
    if as_json:
        typer.echo(json.dumps([describe(n, c) for n, c in sorted(servers.items())], indent=2))
        return
    if not servers:
        typer.echo("No MCP servers configured. Add one with `codex mcp add NAME -- COMMAND` or "
                   "`codex mcp add NAME --url URL`.")
        return
    rows = [(name, "yes" if c.enabled else "no", _target(c), _auth(c))
            for name, c in sorted(servers.items())]
    header = ("Name", "Enabled", "Command / URL", "Environment / auth")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
                   + "  " + row[3])


def get_server(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Server name.")],
               as_json: JsonOption = False) -> None:
    """Show one MCP server's settings (secrets masked)."""
    config = load_effective_config(ctx).mcp_servers.get(name)
    if config is None:
        _fail(f"no MCP server named {name!r}; see `codex mcp list`", EXIT_FAILED)
    described = describe(name, config)
    if as_json:
        typer.echo(json.dumps(described, indent=2))
        return
    typer.echo(name)
    for key, value in described.items():
        if key != "name" and value not in (None, [], {}):
            typer.echo(f"  {key}: {value if isinstance(value, str) else json.dumps(value)}")


def add_server(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Server name (letters, digits, - and _).")],
    command: Annotated[list[str] | None, typer.Argument(
        help="After `--`: the command that starts a stdio server, and its arguments.")] = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="The endpoint of a Streamable HTTP server.")] = None,
    env: Annotated[list[str] | None, typer.Option(
        "--env", help="KEY=VALUE for a stdio server's environment (repeatable).")] = None,
    bearer_token_env_var: Annotated[str | None, typer.Option(
        "--bearer-token-env-var", help="Environment variable holding an HTTP bearer token.")]
        = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a server of that name.")]
        = False,
) -> None:
    """Add a server: `add NAME [--env K=V]... -- CMD ARGS...` or `add NAME --url URL`."""
    if not _NAME.match(name):
        _fail(f"invalid server name {name!r}: use letters, digits, '-' and '_'", EXIT_USAGE)
    if bool(command) == bool(url):
        _fail("give either a command after `--` (stdio) or --url URL (streamable HTTP)",
              EXIT_USAGE)
    table: dict[str, Any]
    if command:
        if bearer_token_env_var:
            _fail("--bearer-token-env-var is for --url servers", EXIT_USAGE)
        table = {"command": command[0], "args": command[1:]}
        pairs = dict(_pair(item) for item in env or ())
        if pairs:
            table["env"] = pairs
    else:
        if env:
            _fail("--env is for stdio servers (give the command after `--`)", EXIT_USAGE)
        table = {"url": url}
        if bearer_token_env_var:
            table["bearer_token_env_var"] = bearer_token_env_var
    McpServerConfig.model_validate(table)
    path = _config_path(ctx)
    doc = _read(path)
    servers = doc.get("mcp_servers")
    if servers is not None and name in servers and not force:
        _fail(f"an MCP server named {name!r} exists in {path}; use --force to replace it",
              EXIT_FAILED)
    import tomlkit

    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        doc["mcp_servers"] = servers
    new = tomlkit.table()
    for key, value in table.items():
        if isinstance(value, dict):
            sub = tomlkit.table()
            sub.update(value)
            new[key] = sub
        else:
            new[key] = value
    new.add(tomlkit.nl())
    servers[name] = new
    _write(ctx, path, doc)
    typer.echo(f"Added MCP server {name!r} to {path}.")


def remove_server(ctx: typer.Context,
                  name: Annotated[str, typer.Argument(help="Server name.")]) -> None:
    """Remove a server's table from config.toml."""
    path = _config_path(ctx)
    doc = _read(path)
    servers = doc.get("mcp_servers")
    if servers is None or name not in servers:
        _fail(f"no MCP server named {name!r} in {path}", EXIT_FAILED)
    del servers[name]
    if not servers:
        del doc["mcp_servers"]
    _write(ctx, path, doc)
    typer.echo(f"Removed MCP server {name!r} from {path}.")


def login(name: Annotated[str, typer.Argument(help="Server name.")]) -> None:
    """OAuth login to an HTTP server (not supported yet)."""
    _fail(f"OAuth login is not supported yet (server {name!r}): put a token in an environment "
          "variable and set bearer_token_env_var, or send headers with http_headers / "
          "env_http_headers", EXIT_FAILED)


def logout(name: Annotated[str, typer.Argument(help="Server name.")]) -> None:
    """OAuth logout (not supported yet: there are no stored OAuth tokens)."""
    _fail(f"OAuth is not supported yet, so nothing is stored for {name!r}", EXIT_FAILED)


# --- describing -----------------------------------------------------------------------------

def describe(name: str, config: McpServerConfig) -> dict[str, Any]:
    """A server as `list --json` / `get --json` print it (the Codex CLI's shape, masked)."""
    transport: dict[str, Any]
    if config.url is not None:
        transport = {"type": "streamable_http", "url": config.url,
                     "bearer_token_env_var": config.bearer_token_env_var,
                     "http_headers": {k: MASK for k in config.http_headers} or None,
                     "env_http_headers": config.env_http_headers or None}
    else:
        transport = {"type": "stdio", "command": config.command, "args": config.args,
                     "env": {k: MASK for k in config.env} or None,
                     "env_vars": config.env_vars,
                     "cwd": str(config.cwd) if config.cwd else None,
                     "sandbox": config.sandbox}
    return {"name": name, "enabled": config.enabled, "required": config.required,
            "transport": transport, "startup_timeout_sec": config.startup_timeout_s,
            "tool_timeout_sec": config.tool_timeout_sec,
            "enabled_tools": config.enabled_tools, "disabled_tools": config.disabled_tools,
            "auth_status": "bearer_token" if config.bearer_token_env_var else "unsupported"}


def _target(config: McpServerConfig) -> str:
    if config.url is not None:
        return config.url
    import shlex

    return shlex.join([config.command or "", *config.args])


def _auth(config: McpServerConfig) -> str:
    if config.url is not None:
        parts = [f"bearer token from ${config.bearer_token_env_var}"] \
            if config.bearer_token_env_var else []
        parts += [f"{k}: {MASK}" for k in config.http_headers]
        return ", ".join(parts) or "-"
    parts = [f"{k}={MASK}" for k in config.env] + [f"${v}" for v in config.env_vars]
    return ", ".join(parts) or "-"


# --- editing --------------------------------------------------------------------------------

def _config_path(ctx: typer.Context) -> Path:
    from codex.config.home import codex_home
    from codex.config.loader import CONFIG_FILENAME

    load_effective_config(ctx)  # refuse to edit a config that does not load now
    return codex_home() / CONFIG_FILENAME


def _read(path: Path) -> Any:
    import tomlkit

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return tomlkit.document()


def _write(ctx: typer.Context, path: Path, doc: Any) -> None:
    """Check the edited file with the config loader, then replace the old one atomically."""
    import tomlkit

    from codex.config.errors import ConfigError
    from codex.config.loader import load_config
    from codex.fsutil import write_atomic

    text = tomlkit.dumps(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.mcp-check")
    staged_home = staged.parent / f".{path.name}.mcp-home"
    try:
        staged_home.mkdir(exist_ok=True)
        (staged_home / path.name).write_text(text, encoding="utf-8")
        load_config(global_options(ctx), home=staged_home)
    except ConfigError as err:
        _fail(f"not saved: the result would not load: {err}", EXIT_FAILED)
    finally:
        (staged_home / path.name).unlink(missing_ok=True)
        staged_home.rmdir()
    write_atomic(path, text, mode=path.stat().st_mode & 0o777 if path.exists() else 0o600)


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        _fail(f"--env takes KEY=VALUE, got {item!r}", EXIT_USAGE)
    return key, value


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"codex mcp: {message}", err=True)
    raise typer.Exit(code)
