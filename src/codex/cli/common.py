"""Helpers every command shares: the effective config, loaded once per invocation.

Public interface:
- `load_effective_config(ctx) -> EffectiveConfig`: prints a config error as one line on stderr
  and exits 2; prints unknown-key warnings to stderr once.
- `global_options(ctx) -> GlobalOptions`: what was passed before the command name.
"""

from __future__ import annotations

import typer

from codex.cli.state import GlobalOptions
from codex.config import ConfigError, EffectiveConfig, load_config

_CACHE_KEY = "codex.effective_config"


def global_options(ctx: typer.Context) -> GlobalOptions:
    """The global options stored by the app callback (defaults when none were parsed)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def load_effective_config(ctx: typer.Context) -> EffectiveConfig:
    """Load (once) the config this invocation runs with, or exit 2 naming the problem."""
    root = ctx.find_root()
    cached = root.meta.get(_CACHE_KEY)
    if isinstance(cached, EffectiveConfig):
        return cached
    try:
        config = load_config(global_options(ctx))
    except ConfigError as err:
        typer.echo(f"codex: error: {err}", err=True)
        raise typer.Exit(2) from None
    for warning in config.warnings:
        typer.echo(f"codex: warning: {warning}", err=True)
    root.meta[_CACHE_KEY] = config
    return config
