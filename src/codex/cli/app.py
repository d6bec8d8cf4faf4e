"""The typer application: global options and the registry of command modules.

Each command lives in its own module under `codex.cli` with a `register(app)` function, so a
command's heavy imports stay inside it and the table below is the only shared edit point.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated

# Typer's rich integration drags rich + pygments into every start; our own output imports
# rich lazily where it is used.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer

from codex import __version__
from codex.cli.completion import (
    complete_config_profile,
    complete_sandbox_mode,
    complete_security_profile,
)
from codex.cli.state import GlobalOptions

COMMAND_MODULES: tuple[str, ...] = (
    "config_cmd", "profiles_cmd", "doctor", "completion", "audit_cmd",
    "apply_patch_cmd", "execpolicy_cmd", "sandbox_cmd", "exec_cmd",
)

EPILOG = (
    "Examples: codex --profile workspace doctor | codex -c model=o3 config show --json | "
    "codex profiles. Config lives in $CODEX_HOME/config.toml (default ~/.codex)."
)

app = typer.Typer(
    name="codex",
    help="codex: a secure, terminal-native AI coding agent.",
    epilog=EPILOG,
    invoke_without_command=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"codex {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        list[str] | None,
        typer.Option("-c", "--config", metavar="KEY=VALUE",
                     help="Override a config value (dotted key; value parsed as TOML, "
                          "else taken as a string). Repeatable."),
    ] = None,
    config_profile: Annotated[
        str | None,
        typer.Option("--config-profile", metavar="NAME",
                     help="Use [profiles.NAME] from config.toml.",
                     autocompletion=complete_config_profile),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="PROFILE",
                     help="Security profile: offline, net-read-only, workspace-write, "
                          "workspace-net, trusted (aliases: read-only, workspace, "
                          "full-access).",
                     autocompletion=complete_security_profile),
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option("-s", "--sandbox", metavar="MODE",
                     help="Codex CLI sandbox mode: read-only, workspace-write, "
                          "danger-full-access (mapped onto security profiles).",
                     autocompletion=complete_sandbox_mode),
    ] = None,
    cd: Annotated[
        Path | None,
        typer.Option("-C", "--cd", metavar="DIR", help="Work in DIR instead of the current "
                     "directory."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version_callback, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
) -> None:
    """codex: a secure, terminal-native AI coding agent."""
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        # No command yet: the interactive UI comes later, so teach the commands instead.
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    ctx.obj = GlobalOptions(
        overrides=tuple(config or ()),
        config_profile=config_profile,
        security_profile=profile,
        sandbox_mode=sandbox,
        cd=cd,
    )


for _module in COMMAND_MODULES:
    importlib.import_module(f"codex.cli.{_module}").register(app)


def run(args: list[str]) -> int:
    """Run the app with `args` and return the process exit code."""
    try:
        app(args=args, prog_name="codex", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        typer.echo(str(code), err=True)
        return 1
    return 0
