"""`codex completion bash|zsh|fish`: print a shell completion script.

The script calls back into codex with `_CODEX_COMPLETE=complete_<shell>`; typer's completion
machinery answers from the live command tree, so new commands complete without regenerating.
Typer only registers its completion classes when it adds its own `--install-completion`
options, which we leave out, so `codex.cli.app.run` calls `enable_completion_classes` when a
completion request arrives.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

PROG_NAME = "codex"
COMPLETE_VAR = "_CODEX_COMPLETE"

INSTALL_HINTS = (
    'bash: eval "$(codex completion bash)" in ~/.bashrc',
    'zsh: eval "$(codex completion zsh)" in ~/.zshrc',
    "fish: codex completion fish > ~/.config/fish/completions/codex.fish",
)


class Shell(StrEnum):
    """Shells with a completion script."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def enable_completion_classes() -> None:
    """Register typer's bash/zsh/fish completion classes with click."""
    from typer._completion_classes import completion_init

    completion_init()


def register(app: typer.Typer) -> None:
    """Add the `completion` command."""
    app.command("completion", epilog="Install: " + "; ".join(INSTALL_HINTS) + ".")(completion)


def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to generate the script for.")],
) -> None:
    """Print the completion script for SHELL to stdout."""
    from typer._completion_shared import get_completion_script

    enable_completion_classes()
    script = get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR,
                                   shell=shell.value)
    typer.echo(script)


def complete_security_profile(incomplete: str) -> list[str]:
    """`--profile` values: profile names first, then aliases."""
    from codex.security.profiles import ALIASES, PROFILE_NAMES

    return [name for name in (*PROFILE_NAMES, *sorted(ALIASES)) if name.startswith(incomplete)]


def complete_sandbox_mode(incomplete: str) -> list[str]:
    """`-s` values: the Codex CLI's sandbox modes."""
    modes = ("read-only", "workspace-write", "danger-full-access")
    return [mode for mode in modes if mode.startswith(incomplete)]


def complete_config_profile(incomplete: str) -> list[str]:
    """`--config-profile` values: the `[profiles.NAME]` tables of config.toml, if readable."""
    import tomllib

    from codex.config.home import codex_home

    try:
        doc = tomllib.loads((codex_home() / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    profiles = doc.get("profiles")
    if not isinstance(profiles, dict):
        return []
    return sorted(name for name in profiles if name.startswith(incomplete))
