"""The configuration a command runs with, after every layer is applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SkipValidation

from codex.config.schema import Settings
from codex.config.workdir import resolve_roots
from codex.policies import SandboxPolicy
from codex.security.permissions import PermissionProfile, apply
from codex.security.profiles import SecurityProfile, resolve_policy


class EffectiveConfig(Settings):
    """Settings resolved from defaults < config.toml < [profiles.NAME] < -c < flags.

    `security_profile` is always set here (fail-safe default `offline`). `sources` maps each
    dotted key (as in `to_flat()`) to where its value came from: `default`,
    `config.toml:LINE`, `profile NAME`, `-c`, or `flag --profile` / `flag -s` / `flag -C`.
    """

    security_profile: SecurityProfile = SecurityProfile.OFFLINE
    # The `[permissions.NAME]` profile in effect (its base is `security_profile`), and every
    # one config.toml defines, resolved.
    permission_profile: SkipValidation[PermissionProfile | None] = None
    permission_profiles: SkipValidation[dict[str, PermissionProfile]] = Field(
        default_factory=dict)
    cwd: Path
    codex_home: Path
    config_path: Path
    config_loaded: bool = False
    config_profile: str | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def sandbox_policy(self) -> SandboxPolicy:
        """The concrete sandbox policy for this config's profile, workspace and roots."""
        roots = resolve_roots(self.sandbox_workspace_write.writable_roots, self.cwd)
        policy = resolve_policy(self.security_profile, self.cwd, roots)
        if self.permission_profile is not None:
            policy = apply(self.permission_profile, policy, self.cwd)
        return policy

    @property
    def profile_name(self) -> str:
        """The profile in effect as the user named it (a custom one, or a built-in)."""
        if self.permission_profile is not None:
            return self.permission_profile.name
        return self.security_profile.value

    def settings_dump(self) -> dict[str, Any]:
        """The effective values (JSON-ready), without the bookkeeping fields."""
        return self.model_dump(
            mode="json", exclude={"sources", "warnings", "config_loaded",
                                  "permission_profiles"}
        )

    def to_flat(self) -> dict[str, Any]:
        """Every effective value keyed by its dotted path (tables flattened, lists kept)."""
        flat: dict[str, Any] = {}
        _flatten(self.settings_dump(), (), flat)
        return flat


def _flatten(value: Any, prefix: tuple[str, ...], out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, (*prefix, str(key)), out)
    else:
        out[".".join(prefix)] = value
