"""The part of the effective config `codex sandbox` reads, and a cache of it keyed by its inputs.

`load_config` (pydantic) stays the one definition of what a config means; it costs more to
import than confining a command costs. So after a full load, `codex sandbox` stores the few
values it uses in `$CODEX_HOME/cache/sandbox-settings.json`, keyed by a digest of everything
the loader reads: the codex version, config.toml's bytes and path, the command-line options
and the environment variables that change the result. The values are kept as configured (a
relative writable root stays relative), so the working directory is no input: each run
resolves them where it runs (`codex.config.workdir`), as the loader does. The fast lane
(`codex.cli.sandbox_fast`) uses an entry only when every input is identical, so it behaves
exactly as a full load would; anything else is a miss and takes the full path, which refreshes
the entry. A stale or unreadable cache is ignored, never trusted. Stdlib only.

The cache gives nothing a command could not already take: whoever can write it can write
config.toml next to it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from codex import __version__
from codex.config.env_settings import ENV_SETTINGS

if TYPE_CHECKING:
    from pathlib import Path

    from codex.cli.state import GlobalOptions
    from codex.config.effective import EffectiveConfig

CACHE_DIR = "cache"
CACHE_FILE = "sandbox-settings.json"
CACHE_FORMAT = 3
MAX_ENTRIES = 16
CONFIG_FILENAME = "config.toml"
# What the loader reads from the environment besides ENV_SETTINGS: CODEX_HOME and HOME
# (through ~ in paths and the default CODEX_HOME).
KEY_VARIABLES: tuple[str, ...] = ("CODEX_HOME", "HOME", *ENV_SETTINGS)


@dataclass(frozen=True)
class SandboxSettings:
    """What `codex sandbox` needs from the effective config.

    `writable_roots`: `sandbox_workspace_write.writable_roots` as configured (relative ones are
    taken from the workspace); `audit_dir`: absolute, None when `[audit] enabled = false`;
    `warnings`: unknown-key warnings the loader reported, repeated on every run as a full load
    would. `permission_profile`: the `[permissions.NAME]` profile in effect, resolved
    (`PermissionProfile.to_json`), or None for a built-in profile.
    """

    security_profile: str
    codex_home: str
    approval_policy: str
    writable_roots: list[str] = field(default_factory=list)
    env_set: dict[str, str] = field(default_factory=dict)
    env_include_only: list[str] = field(default_factory=list)
    audit_dir: str | None = None
    warnings: list[str] = field(default_factory=list)
    permission_profile: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, config: EffectiveConfig) -> SandboxSettings:
        from codex.audit.store import audit_dir

        shell_env = config.shell_environment_policy
        return cls(
            security_profile=config.security_profile.value,
            codex_home=str(config.codex_home),
            approval_policy=config.approval_policy.value,
            writable_roots=[str(p) for p in config.sandbox_workspace_write.writable_roots],
            env_set=dict(shell_env.set),
            env_include_only=list(shell_env.include_only),
            audit_dir=(str(audit_dir(config.codex_home, config.audit.dir))
                       if config.audit.enabled else None),
            warnings=list(config.warnings),
            permission_profile=(config.permission_profile.to_json()
                                if config.permission_profile is not None else None),
        )

    @classmethod
    def from_json(cls, data: Any) -> SandboxSettings | None:
        """The settings in `data`, or None when it is not exactly their shape."""
        try:
            settings = cls(**data)
        except TypeError:
            return None
        checks = (
            isinstance(settings.security_profile, str), isinstance(settings.codex_home, str),
            isinstance(settings.approval_policy, str),
            _strings(settings.writable_roots), _strings(settings.env_include_only),
            _strings(settings.warnings), isinstance(settings.env_set, dict),
            _strings(list(settings.env_set)), _strings(list(settings.env_set.values())),
            settings.audit_dir is None or isinstance(settings.audit_dir, str),
            settings.permission_profile is None or isinstance(settings.permission_profile, dict),
        )
        if not all(checks):
            return None
        if settings.permission_profile is not None:
            from codex.security.permissions import PermissionProfile

            try:
                PermissionProfile.from_json(settings.permission_profile)
            except (KeyError, TypeError, ValueError):
                return None
        return settings


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)


def cache_key(options: GlobalOptions, home: Path) -> str | None:
    """A digest of every input of `load_config(options)` but the working directory; None when
    one cannot be read (then there is nothing safe to look up)."""
    try:
        config_bytes = _read_config(home / CONFIG_FILENAME)
    except OSError:
        return None
    inputs = {
        "version": __version__,
        "home": str(home),
        "config": None if config_bytes is None else hashlib.sha256(config_bytes).hexdigest(),
        "env": {name: os.environ.get(name) for name in KEY_VARIABLES},
        "overrides": list(options.overrides),
        "config_profile": options.config_profile,
        "security_profile": options.security_profile,
        "sandbox_mode": options.sandbox_mode,
        "cd": None if options.cd is None else str(options.cd),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _read_config(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def lookup(home: Path, key: str) -> SandboxSettings | None:
    """The cached settings for `key`, or None (no cache, no entry, or not usable)."""
    entry = _entries(home).get(key)
    return SandboxSettings.from_json(entry) if isinstance(entry, dict) else None


def store(home: Path, key: str, settings: SandboxSettings) -> None:
    """Remember `settings` under `key` (newest last, at most MAX_ENTRIES). Best effort: a
    cache that cannot be written only means the next run takes the full path again."""
    from codex.fsutil import write_atomic

    entries = _entries(home)
    entries.pop(key, None)
    entries[key] = asdict(settings)
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    directory = home / CACHE_DIR
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(directory / CACHE_FILE,
                     json.dumps({"format": CACHE_FORMAT, "entries": kept}, indent=1))
    except OSError:
        return


def _entries(home: Path) -> dict[str, Any]:
    try:
        with open(home / CACHE_DIR / CACHE_FILE, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}
