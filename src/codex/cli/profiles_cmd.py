"""`codex profiles [--json]`: what each security profile lets a command do."""

from __future__ import annotations

import json
from typing import Annotated, Any

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
    """List the security profiles, config.toml's permission profiles, and which one is in
    effect here.

    Choose one with `codex --profile NAME`, `-s MODE`, `security_profile` or
    `default_permissions` in config.toml. A `[permissions.NAME]` table defines a custom
    profile (extends a built-in, adds path and domain rules); see docs/security-profiles.md.
    """
    config = load_effective_config(ctx)
    custom_current = config.permission_profile
    current = None if custom_current is not None else config.security_profile
    rows: list[dict[str, Any]] = []
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
            "defined_at": "built-in",
        })
    for custom in config.permission_profiles.values():
        summary = custom.summary()
        policy_base = custom.base_profile
        rows.append({
            "name": custom.name,
            "aliases": [],
            "extends": custom.extends,
            "filesystem": summary["filesystem"],
            "network": summary["network"],
            "allowed_domains": list(custom.allowed_domains),
            "denied_domains": list(custom.denied_domains),
            "writes_workspace": policy_base.writes_workspace or any(
                access == "write" for _, access in custom.filesystem),
            "confined": policy_base is not SecurityProfile.TRUSTED,
            "typical_use": custom.description,
            "default": False,
            "current": custom_current is not None and custom.name == custom_current.name,
            "defined_at": custom.defined_at,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    in_effect = config.profile_name
    table = Table(title=f"Security profiles (in effect: {in_effect}, from "
                        f"{config.sources.get('security_profile', 'default')})")
    table.add_column("profile", no_wrap=True)
    table.add_column("aliases / defined")
    table.add_column("filesystem")
    table.add_column("network")
    table.add_column("typical use")
    for row in rows:
        marker = "* " if row["current"] else "  "
        network = row["network"]
        if isinstance(network, bool):
            network = DESCRIPTIONS[SecurityProfile(row["name"])].network
        where = ", ".join(row["aliases"]) or "-"
        if row["defined_at"] != "built-in":
            where = f"{row['defined_at']} (extends {row['extends']})"
        table.add_row(marker + str(row["name"]), where, str(row["filesystem"]), str(network),
                      str(row["typical_use"]))
    Console(soft_wrap=False).print(table)
