"""`codex config show [--json]`: the effective configuration and where each value came from."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from codex.cli.common import load_effective_config


def register(app: typer.Typer) -> None:
    """Add the `config` command group."""
    config_app = typer.Typer(
        name="config",
        help="Inspect the configuration (config.toml, config profiles, -c overrides, flags).",
        no_args_is_help=True,
    )
    config_app.command("show")(show)
    app.add_typer(config_app)


def show(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object for machines.")
    ] = False,
) -> None:
    """Print every effective value with its source.

    Sources: default < config.toml:LINE < profile NAME < -c < flag (--profile, -s, -C).
    """
    config = load_effective_config(ctx)
    if as_json:
        document = {
            "config_path": str(config.config_path),
            "config_loaded": config.config_loaded,
            "config_profile": config.config_profile,
            "config": config.settings_dump(),
            "sources": config.sources,
            "warnings": config.warnings,
        }
        typer.echo(json.dumps(document, indent=2))
        return
    state = "loaded" if config.config_loaded else "not found, using defaults"
    typer.echo(f"# {config.config_path} ({state})")
    if config.config_profile:
        typer.echo(f"# config profile: {config.config_profile}")
    flat = config.to_flat()
    width = max(len(key) + len(_render(value)) for key, value in flat.items()) + 3
    for key, value in flat.items():
        assignment = f"{key} = {_render(value)}"
        typer.echo(f"{assignment:<{width}}  # {config.sources.get(key, 'default')}")


def _render(value: Any) -> str:
    """A value as the user would write it in TOML (null for unset)."""
    if value is None:
        return "null"
    return json.dumps(value)
