"""Grants: what the user allowed a plugin, kept in config.toml `[plugins.<id>]`.

    [plugins.wordcount]
    wasm_sha256 = "…"        # the module the user consented to
    manifest_sha256 = "…"    # and the manifest that described it
    allowed_paths = ["ro:{workspace}"]
    allowed_hosts = []
    env = []

A grant is bound to both hashes: when the installed module or manifest differs, the grant is
void (`grant_problem` says so) until the user grants again. A grant is always a subset of the
manifest's request (`check_subset`); a requested writable path may be granted read-only, never
the reverse. Edits keep the rest of config.toml as the user wrote it (tomlkit) and are atomic.
Stdlib dataclasses: the plugin runtime and `codex plugin list` read grants without pydantic.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex.fsutil import write_atomic
from codex.plugins.manifest import Manifest, parse_path_key

CONFIG_FILE = "config.toml"
SECTION = "plugins"


class GrantError(ValueError):
    """A grant cannot be read or does not fit the manifest; the message says why and how."""


@dataclass(frozen=True)
class Grant:
    plugin_id: str
    wasm_sha256: str
    manifest_sha256: str
    allowed_paths: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    env: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        """Write paths, hosts and env names are the high-risk part of a grant."""
        return bool(self.allowed_hosts or self.env
                    or any(not parse_path_key(p)[1] for p in self.allowed_paths))

    def describe(self) -> str:
        parts = [f"paths={list(self.allowed_paths)}", f"hosts={list(self.allowed_hosts)}",
                 f"env={list(self.env)}", f"wasm_sha256={self.wasm_sha256}",
                 f"manifest_sha256={self.manifest_sha256}"]
        return " ".join(parts)


def config_path(codex_home: Path) -> Path:
    return codex_home / CONFIG_FILE


def read_grants(codex_home: Path) -> dict[str, Grant]:
    """Every `[plugins.<id>]` table of config.toml (none when the file does not exist)."""
    path = config_path(codex_home)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GrantError(f"{path}: cannot read the plugin grants: {exc}") from None
    section = data.get(SECTION, {})
    if not isinstance(section, dict):
        raise GrantError(f"{path}: key {SECTION!r}: must be a table of [plugins.<id>] tables")
    return {plugin_id: _grant(path, plugin_id, raw) for plugin_id, raw in section.items()}


def _grant(path: Path, plugin_id: str, raw: Any) -> Grant:
    where = f"{path}: key plugins.{plugin_id}"
    if not isinstance(raw, dict):
        raise GrantError(f"{where}: must be a table")
    values: dict[str, Any] = {}
    for key in ("wasm_sha256", "manifest_sha256"):
        value = raw.get(key)
        if not isinstance(value, str):
            raise GrantError(f"{where}.{key}: missing; re-grant with codex plugin grant "
                             f"{plugin_id}")
        values[key] = value
    for key in ("allowed_paths", "allowed_hosts", "env"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GrantError(f"{where}.{key}: must be an array of strings")
        values[key] = tuple(value)
    return Grant(plugin_id, **values)


def check_subset(manifest: Manifest, paths: Sequence[str], hosts: Sequence[str],
                 env: Sequence[str]) -> None:
    """Raise GrantError unless every granted item is something the manifest requests."""
    requested = {p.host: p for p in manifest.capabilities.paths}
    for key in paths:
        host, read_only = parse_path_key(key)
        request = requested.get(host)
        if request is None:
            raise GrantError(f"plugin {manifest.id!r} does not request the path {key!r} "
                             f"(it requests: {_listing(p.key for p in requested.values())})")
        if request.read_only and not read_only:
            raise GrantError(f"plugin {manifest.id!r} requests {host!r} read-only; grant it as "
                             f"'ro:{host}'")
    for host in hosts:
        if host not in manifest.capabilities.hosts:
            raise GrantError(f"plugin {manifest.id!r} does not request the host {host!r} "
                             f"(it requests: {_listing(manifest.capabilities.hosts)})")
    for name in env:
        if name not in manifest.capabilities.env:
            raise GrantError(f"plugin {manifest.id!r} does not request the env name {name!r} "
                             f"(it requests: {_listing(manifest.capabilities.env)})")


def grant_problem(manifest: Manifest, wasm_sha256: str, grant: Grant | None) -> str | None:
    """Why `grant` does not let this installed plugin run, or None when it does."""
    if grant is None:
        return (f"plugin {manifest.id!r} has no grant in config.toml; install it with "
                "codex plugin install (consent) or codex plugin grant " + manifest.id)
    if grant.wasm_sha256 != wasm_sha256 or grant.manifest_sha256 != manifest.manifest_sha256:
        return (f"the grant of plugin {manifest.id!r} is void: its module or manifest changed "
                f"since it was granted; review it and run codex plugin grant {manifest.id}")
    try:
        check_subset(manifest, grant.allowed_paths, grant.allowed_hosts, grant.env)
    except GrantError as exc:
        return f"the grant of plugin {manifest.id!r} is void: {exc}"
    return None


def save_grant(codex_home: Path, grant: Grant) -> None:
    """Write `[plugins.<id>]`, keeping the rest of config.toml byte for byte."""
    import tomlkit

    document = _load_document(codex_home)
    plugins = document.setdefault(SECTION, tomlkit.table(is_super_table=True))
    table = tomlkit.table()
    table["wasm_sha256"] = grant.wasm_sha256
    table["manifest_sha256"] = grant.manifest_sha256
    table["allowed_paths"] = list(grant.allowed_paths)
    table["allowed_hosts"] = list(grant.allowed_hosts)
    table["env"] = list(grant.env)
    plugins[grant.plugin_id] = table
    _write_document(codex_home, document)


def delete_grant(codex_home: Path, plugin_id: str) -> bool:
    """Remove `[plugins.<id>]`; False when there was none."""
    document = _load_document(codex_home)
    plugins = document.get(SECTION)
    if plugins is None or plugin_id not in plugins:
        return False
    del plugins[plugin_id]
    if not plugins:
        del document[SECTION]
    _write_document(codex_home, document)
    return True


def _load_document(codex_home: Path) -> Any:
    import tomlkit

    path = config_path(codex_home)
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return tomlkit.document()
    except Exception as exc:  # tomlkit raises its own ParseError subclasses
        raise GrantError(f"{path}: cannot edit: {exc}") from None


def _write_document(codex_home: Path, document: Any) -> None:
    import tomlkit

    codex_home.mkdir(parents=True, exist_ok=True)
    write_atomic(config_path(codex_home), tomlkit.dumps(document), mode=0o600)


def _listing(items: Any) -> str:
    names = list(items)
    return ", ".join(names) if names else "nothing"
