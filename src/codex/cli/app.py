"""The typer application: global options and the registry of command modules.

Each command lives in its own module under `codex.cli` with a `register(app)` function. The
COMMANDS table below is the only shared edit point: it names each command's module and one-line
help, so `codex --help` and shell completion list every command without importing any, and
running a command imports only its own module (`codex sandbox` never pays for pydantic models
of `codex exec`, filelock of `codex execpolicy`, ...).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Annotated

# Typer's rich integration drags rich + pygments into every start; our own output imports
# rich lazily where it is used.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer
from typer import _click
from typer._click.shell_completion import CompletionItem
from typer._click.utils import make_default_short_help
from typer.core import TyperArgument, TyperGroup

from codex import __version__
from codex.cli.completion import (
    COMPLETE_VAR,
    complete_config_profile,
    complete_sandbox_mode,
    complete_security_profile,
    enable_completion_classes,
)
from codex.cli.help_format import RichHelpFormatter
from codex.cli.state import GlobalOptions

# Typer builds every command's click object itself; the context's formatter class is the one
# hook that reaches them all, so `--help` on a terminal is drawn with rich everywhere.
_click.Context.formatter_class = RichHelpFormatter


def _argument_type(self: TyperArgument, ctx: _click.Context) -> str | None:
    """An argument with a metavar is described by it: typer 0.29 would still append its
    Python type (`[PROMPT | -] <list[str]>`), which means nothing to a user."""
    return None if self.metavar else self.display_type(ctx)


# Like the formatter class above, the one hook that reaches every command's arguments.
TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign,assignment]

# name -> (module under codex.cli whose register(app) adds the command, one-line help for
# `codex --help`). tests/cli/test_cli_lazy_commands.py checks each line against its module.
COMMANDS: dict[str, tuple[str, str]] = {
    "profiles": ("profiles_cmd",
                 "List the security profiles, config.toml's permission profiles, and which one "
                 "is in effect here."),
    "doctor": ("doctor", "Check the installation, the config and which security profiles this "
                         "kernel can enforce."),
    "completion": ("completion", "Print the completion script for SHELL to stdout."),
    "apply-patch": ("apply_patch_cmd", "Apply a patch in the apply_patch format "
                                       "(*** Begin Patch ... *** End Patch)."),
    "sandbox": ("sandbox_cmd", "Run CMD confined by a security profile (Linux: namespaces, "
                               "Landlock, seccomp)."),
    "exec": ("exec_cmd", "Run codex non-interactively on one prompt (or continue a session "
                         "with `resume`)."),
    "config": ("config_cmd", "Inspect the configuration (config.toml, config profiles, "
                             "-c overrides, flags)."),
    "audit": ("audit_cmd", "Read, check and locate the audit log."),
    "execpolicy": ("execpolicy_cmd", "Inspect the exec policy (which commands may run)."),
    "plugin": ("plugin_cmd", "Install, grant, inspect and run WebAssembly plugins."),
    "fanout": ("fanout_cmd", "Run several agents at once (one prompt or a tasks.toml) and "
                             "merge their results."),
    "mcp": ("mcp_cmd", "Manage MCP servers whose tools join every session (list, get, add, "
                       "remove)."),
    "mcp-server": ("mcp_server_cmd", "Run codex as an MCP server over stdio, with the tools "
                                     "codex and codex-reply."),
    "resume": ("tui_cmd", "Continue a previous interactive session (a picker when no session "
                          "is named)."),
    "research": ("research_cmd", "Research a question (web search or --corpus DIR) into a "
                                 "report with checked citations."),
}

EPILOG = (
    "Examples: codex --profile workspace doctor | codex -c model=o3 config show --json | "
    "codex profiles. Config lives in $CODEX_HOME/config.toml (default ~/.codex)."
)



def load_command(name: str) -> _click.Command:
    """Import the module that provides command `name` and build its click command."""
    module = importlib.import_module(f"codex.cli.{COMMANDS[name][0]}")
    holder = typer.Typer()
    module.register(holder)
    command = typer.main.get_group(holder).commands.get(name)
    if command is None:
        raise LookupError(f"codex.cli.{COMMANDS[name][0]}.register() added no {name!r} command")
    return command


class LazyCommandGroup(TyperGroup):
    """The root group: lists commands from COMMANDS, imports one only when it is resolved."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        with formatter.section("Commands"):
            formatter.write_dl([(name, make_default_short_help(short_help, limit))
                                for name, (_, short_help) in COMMANDS.items()])

    def shell_complete(self, ctx: _click.Context, incomplete: str) -> list[CompletionItem]:
        names = [CompletionItem(name, help=make_default_short_help(short_help))
                 for name, (_, short_help) in COMMANDS.items() if name.startswith(incomplete)]
        # Skip TyperGroup's version, which would import every command for its help text.
        return names + _click.Command.shell_complete(self, ctx, incomplete)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except _click.exceptions.UsageError as exc:
            from difflib import get_close_matches

            # TyperGroup suggests only among loaded commands, i.e. none.
            matches = get_close_matches(args[0], COMMANDS) if args else []
            if args and not matches and not args[0].startswith("-"):
                # `codex "PROMPT"`: a first word that names no command starts the UI.
                from codex.cli.tui_cmd import prompt_command

                return "prompt", prompt_command(), args
            if matches and "Did you mean" not in exc.message:
                suggestions = ", ".join(repr(match) for match in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    cls=LazyCommandGroup,
    name="codex",
    help="codex: a secure, terminal-native AI coding agent. `codex` or `codex \"PROMPT\"` "
         "opens the interactive UI; the commands below do one job each.",
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
                          "full-access), or a [permissions.NAME] profile of config.toml.",
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
    model: Annotated[
        str | None,
        typer.Option("-m", "--model", metavar="MODEL", help="The model to use."),
    ] = None,
    ask_for_approval: Annotated[
        str | None,
        typer.Option("-a", "--ask-for-approval", metavar="POLICY",
                     help="When to ask before running a command: untrusted, on-failure, "
                          "on-request, never."),
    ] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option("-i", "--image", metavar="FILE",
                     help="Attach an image to the interactive UI's first prompt "
                          "(repeatable; for scripts: codex exec -i FILE)."),
    ] = None,
    full_auto: Annotated[
        bool,
        typer.Option("--full-auto", help="Shortcut for -s workspace-write -a on-request."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version_callback, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
) -> None:
    """codex: a secure, terminal-native AI coding agent."""
    if full_auto:
        ask_for_approval = ask_for_approval or "on-request"
        sandbox = sandbox or ("workspace-write" if not profile else None)
    # -m and -a are config values given as flags (the TOML string form keeps them strings).
    flags = tuple(f"{key}={json.dumps(value)}" for key, value in
                  (("model", model), ("approval_policy", ask_for_approval)) if value)
    ctx.obj = GlobalOptions(
        overrides=(*(config or ()), *flags),
        config_profile=config_profile,
        security_profile=profile,
        sandbox_mode=sandbox,
        cd=cd,
        images=tuple(image or ()),
    )
    if image and ctx.invoked_subcommand not in (None, "prompt", "resume"):
        typer.echo(f"codex: -i/--image before `{ctx.invoked_subcommand}` is for the "
                   "interactive UI; give it to the command instead "
                   f"(codex {ctx.invoked_subcommand} -i FILE)", err=True)
        raise typer.Exit(2)
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        # No command: the interactive UI (its modules load only now).
        from codex.cli.tui_cmd import start

        raise typer.Exit(start(ctx, prompt=None))


def run(args: list[str]) -> int:
    """Run the app with `args` and return the process exit code."""
    if os.environ.get(COMPLETE_VAR):
        enable_completion_classes()
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
