"""What the commands that run agents (`exec`, `fanout`) share: their exit codes, the one-line
usage error, and reading the prompt, the workspace check and per-command options.

Options given after the command name (`codex exec -c k=v -C DIR`) extend or override the
global ones given before it, so `merge_command_options` rewrites the stored `GlobalOptions`
before the effective config is loaded.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer

from codex.cli.common import global_options

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A usage error: one line, exit 2."""


def merge_command_options(ctx: typer.Context, overrides: list[str] | None,
                          config_profile: str | None, profile: str | None, sandbox: str | None,
                          cd: Path | None) -> None:
    """Options given after the command extend/override the global ones given before it."""
    base = global_options(ctx)
    merged = dataclasses.replace(
        base,
        overrides=(*base.overrides, *(overrides or ())),
        config_profile=config_profile or base.config_profile,
        security_profile=profile or base.security_profile,
        sandbox_mode=sandbox or base.sandbox_mode,
        cd=cd or base.cd,
    )
    ctx.find_root().obj = merged


def require_git_repo(cwd: Path) -> None:
    from codex.agent.instructions import git_root

    if git_root(cwd) is None:
        raise UsageError(f"{cwd} is not inside a git repository; run codex in a repository, "
                         "or pass --skip-git-repo-check to run here anyway")


def read_prompt(word: str | None) -> str:
    """The prompt from the argument, or from stdin for `-` (or no argument and a pipe)."""
    if word == "-" or (word is None and not sys.stdin.isatty()):
        text = sys.stdin.read()
        if not text.strip():
            raise UsageError("the prompt read from stdin is empty")
        return text
    if word is None:
        raise UsageError("no prompt: pass PROMPT, or `-` to read it from stdin")
    if not word.strip():
        raise UsageError("the prompt is empty")
    return word
