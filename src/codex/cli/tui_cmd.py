"""`codex`, `codex "PROMPT"` and `codex resume [--last | ID]`: the interactive UI.

    codex                          # an interactive session in this terminal
    codex "explain this repo"      # ... that starts with a prompt
    codex -m o3 -a untrusted       # root options: model, approval policy, --full-auto
    codex resume                   # pick a past session (type to search)
    codex resume --last            # continue the most recent session

The UI needs a terminal on stdin and stdout; anywhere else it refuses with one line that
points to `codex exec`. Its modules (prompt_toolkit included) load only from here.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from typer import _click

from codex.cli.common import global_options, load_effective_config

if TYPE_CHECKING:
    from codex.agent import LoadedRollout

EXIT_USAGE = 2


def register(app: typer.Typer) -> None:
    """Add the `resume` command."""
    app.command("resume", epilog="Examples: codex resume | codex resume --last | "
                                 "codex resume 0199a213")(resume_command)


def resume_command(
    ctx: typer.Context,
    session_id: Annotated[str | None, typer.Argument(metavar="[ID]",
                                                     help="The session (id or prefix).")] = None,
    last: Annotated[bool, typer.Option("--last", help="The most recent session.")] = False,
) -> None:
    """Continue a previous interactive session (a picker when no session is named)."""
    if last and session_id:
        typer.echo("codex resume: give either --last or ID, not both", err=True)
        raise typer.Exit(EXIT_USAGE)
    refuse_without_terminal()
    cfg = load_effective_config(ctx)
    from codex.agent import RolloutError, find_rollout, load_rollout

    try:
        if last or session_id:
            path = find_rollout(cfg.codex_home, session_id)
        else:
            import asyncio

            from codex.tui.picker import pick_session

            picked = asyncio.run(pick_session(cfg.codex_home))
            if picked is None:
                typer.echo("codex resume: no session chosen (start one with `codex`)", err=True)
                raise typer.Exit(0)
            path = picked
        loaded = load_rollout(path)
    except RolloutError as exc:
        typer.echo(f"codex resume: {exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(start(ctx, prompt=None, resume=loaded))


def refuse_without_terminal() -> None:
    """Exit 2 with one line unless stdin and stdout are terminals that can be drawn on."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        typer.echo("codex: the interactive UI needs a terminal on stdin and stdout; for "
                   "scripts and pipes use `codex exec \"PROMPT\"`", err=True)
        raise typer.Exit(EXIT_USAGE)
    if os.environ.get("TERM") == "dumb":
        typer.echo("codex: TERM=dumb cannot draw the interactive UI; use `codex exec "
                   "\"PROMPT\"` (plain output) or a capable terminal", err=True)
        raise typer.Exit(EXIT_USAGE)


def start(ctx: typer.Context, *, prompt: str | None, resume: LoadedRollout | None = None) -> int:
    """Run the UI with the invocation's config; the exit code."""
    refuse_without_terminal()
    cfg = load_effective_config(ctx)
    from codex.cli.audit_cmd import open_audit_log
    from codex.cli.exec_sdk import SdkFlagError, read_images
    from codex.tui.launch import launch

    try:
        images = read_images(global_options(ctx).images, cfg.cwd)
    except SdkFlagError as exc:
        typer.echo(f"codex: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    return launch(cfg, prompt=prompt, resume=resume, audit=open_audit_log(cfg), images=images)


def prompt_command() -> _click.Command:
    """The command that runs `codex "PROMPT"` (a first word that names no command)."""
    holder = typer.Typer()

    @holder.command("prompt")
    def prompt_entry(ctx: typer.Context, prompt: Annotated[str, typer.Argument()]) -> None:
        raise typer.Exit(start(ctx, prompt=prompt))

    @holder.command("unused", hidden=True)
    def _unused() -> None:  # a second command keeps typer from collapsing the group
        pass

    return typer.main.get_group(holder).commands["prompt"]
