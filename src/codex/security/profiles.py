"""The five security profiles, their aliases, and what each one lets a command do.

A profile is the user's intent ("offline", "workspace-write"); a `SandboxPolicy` is that
intent made concrete for one workspace. Unknown names are an error, never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from codex.policies import SandboxPolicy


class SecurityProfile(StrEnum):
    """Named profiles, from most to least restrictive; `offline` is the fail-safe default."""

    OFFLINE = "offline"
    NET_READ_ONLY = "net-read-only"
    WORKSPACE_WRITE = "workspace-write"
    WORKSPACE_NET = "workspace-net"
    TRUSTED = "trusted"

    @property
    def network(self) -> bool:
        return self in (SecurityProfile.NET_READ_ONLY, SecurityProfile.WORKSPACE_NET,
                        SecurityProfile.TRUSTED)

    @property
    def writes_workspace(self) -> bool:
        return self in (SecurityProfile.WORKSPACE_WRITE, SecurityProfile.WORKSPACE_NET,
                        SecurityProfile.TRUSTED)

    def with_network(self) -> SecurityProfile:
        """The `-net` variant (what `sandbox_workspace_write.network_access = true` asks for)."""
        return {
            SecurityProfile.OFFLINE: SecurityProfile.NET_READ_ONLY,
            SecurityProfile.WORKSPACE_WRITE: SecurityProfile.WORKSPACE_NET,
        }.get(self, self)


PROFILE_NAMES: tuple[str, ...] = tuple(p.value for p in SecurityProfile)

ALIASES: dict[str, SecurityProfile] = {
    "read-only": SecurityProfile.OFFLINE,
    "readonly": SecurityProfile.OFFLINE,
    "workspace": SecurityProfile.WORKSPACE_WRITE,
    "danger-full-access": SecurityProfile.TRUSTED,
    "full-access": SecurityProfile.TRUSTED,
}

# Paths inside a writable root that stay read-only: writing them plants code that runs later,
# outside the sandbox (git hooks, fsmonitor in .git/config, direnv, editor tasks).
PROTECTED_SUBPATHS: tuple[str, ...] = (
    ".git/hooks",
    ".git/config",
    ".gitmodules",
    ".envrc",
    ".vscode",
    ".idea",
    ".codex",
)

# Secret locations under the user's home that a confined command never sees.
MASKED_HOME_PATHS: tuple[str, ...] = (
    ".ssh",
    ".aws",
    ".config/gh",
    ".netrc",
    ".docker/config.json",
    ".config/gcloud",
    ".azure",
    ".kube",
    ".gnupg",
    ".codex/auth.json",
)

MASKED_SYSTEM_PATHS: tuple[str, ...] = (
    "/run/user",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman",
)


class UnknownProfileError(ValueError):
    """A profile name that is neither a profile nor an alias."""

    def __init__(self, name: str) -> None:
        self.name = name
        valid = ", ".join(PROFILE_NAMES)
        aliases = ", ".join(sorted(ALIASES))
        super().__init__(
            f"unknown security profile {name!r}: choose one of {valid} (aliases: {aliases})"
        )


def parse_profile(name: str) -> SecurityProfile:
    """Resolve a profile name or alias (case-insensitive, `_` accepted for `-`)."""
    key = name.strip().lower().replace("_", "-")
    if key in PROFILE_NAMES:
        return SecurityProfile(key)
    if key in ALIASES:
        return ALIASES[key]
    raise UnknownProfileError(name)


@dataclass(frozen=True)
class ProfileDescription:
    """A human summary of what a profile allows, for `codex profiles`."""

    name: str
    filesystem: str
    network: str
    typical_use: str


DESCRIPTIONS: dict[SecurityProfile, ProfileDescription] = {
    SecurityProfile.OFFLINE: ProfileDescription(
        "offline", "read everywhere except masked secrets; write nowhere", "none",
        "review, exploring, answering"),
    SecurityProfile.NET_READ_ONLY: ProfileDescription(
        "net-read-only", "as offline", "outbound allowed", "research, reading docs"),
    SecurityProfile.WORKSPACE_WRITE: ProfileDescription(
        "workspace-write",
        "as offline, plus write to the workspace, writable roots and a private temp dir; "
        "protected paths stay read-only", "none", "everyday coding"),
    SecurityProfile.WORKSPACE_NET: ProfileDescription(
        "workspace-net", "as workspace-write", "outbound allowed", "full-stack work"),
    SecurityProfile.TRUSTED: ProfileDescription(
        "trusted", "no confinement (environment still scrubbed, stdin not the terminal)",
        "allowed", "admin work, explicitly chosen"),
}


def resolve_policy(
    profile: SecurityProfile,
    workspace: Path,
    extra_writable_roots: tuple[Path, ...] = (),
    home: Path | None = None,
) -> SandboxPolicy:
    """Turn a profile into the concrete policy for one workspace."""
    home_dir = home if home is not None else Path.home()
    masked = tuple(home_dir / p for p in MASKED_HOME_PATHS) + tuple(
        Path(p) for p in MASKED_SYSTEM_PATHS
    )
    if profile is SecurityProfile.TRUSTED:
        return SandboxPolicy(profile=profile.value, confined=False, network=True)
    writable: tuple[Path, ...] = ()
    if profile.writes_workspace:
        roots = (workspace, *extra_writable_roots)
        writable = tuple(dict.fromkeys(p.resolve() for p in roots))
    return SandboxPolicy(
        profile=profile.value,
        confined=True,
        network=profile.network,
        writable_roots=writable,
        private_tmp=profile.writes_workspace,
        protected_subpaths=PROTECTED_SUBPATHS if profile.writes_workspace else (),
        masked_paths=masked,
    )
