"""Global options shared by every command, kept on the typer context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GlobalOptions:
    """What the user passed before the command name (`codex -c k=v --profile P CMD`)."""

    overrides: tuple[str, ...] = ()
    config_profile: str | None = None
    security_profile: str | None = None
    sandbox_mode: str | None = None
    cd: Path | None = None
    images: tuple[Path, ...] = ()  # -i FILE: attached to the interactive UI's first prompt
