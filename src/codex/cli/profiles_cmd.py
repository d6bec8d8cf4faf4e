"""`codex profiles [--json]`: what each security profile lets a command do."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from codex.cli.common import load_effective_config
from codex.security.profiles import ALIASES, DESCRIPTIONS, SecurityProfile


def register(app: typer.Typer) -> None:
    """Add the `profiles` command."""
    app.command("profiles")(profiles)


def _aliases(profile: SecurityProfile) -> list[str]:
    return sorted(alias for alias, target in ALIASES.items() if target is profile)


def profiles(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array for machines.")
    ] = False,
) -> None:
    """List the security profiles, their aliases, and which one is in effect here.

    Choose one with `codex --profile NAME`, `-s MODE`, or `security_profile` in config.toml.
    """
    config = load_effective_config(ctx)
    current = config.security_profile
    rows = []
    for profile in SecurityProfile:
        description = DESCRIPTIONS[profile]
        rows.append({
            "name": profile.value,
            "aliases": _aliases(profile),
            "filesystem": description.filesystem,
            "network": profile.network,
            "writes_workspace": profile.writes_workspace,
            "confined": profile is not SecurityProfile.TRUSTED,
            "typical_use": description.typical_use,
            "default": profile is SecurityProfile.OFFLINE,
            "current": profile is current,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Security profiles (in effect: {current.value}, from "
                        f"{config.sources.get('security_profile', 'default')})")
    table.add_column("profile", no_wrap=True)
    table.add_column("aliases")
    table.add_column("filesystem")
    table.add_column("network")
    table.add_column("typical use")
    for profile, row in zip(SecurityProfile, rows, strict=True):
        marker = "* " if row["current"] else "  "
        table.add_row(
            marker + profile.value,
            ", ".join(_aliases(profile)) or "-",
            DESCRIPTIONS[profile].filesystem,
            DESCRIPTIONS[profile].network,
            DESCRIPTIONS[profile].typical_use,
        )
    Console(soft_wrap=False).print(table)
