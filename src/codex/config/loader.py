"""Build the effective configuration from defaults, config.toml, a config profile, `-c` and flags.

Every value keeps its origin, so an invalid one is reported at the place the user wrote it
(`config.toml:LINE`, the `[profiles.NAME]` line, or `-c key`), and `codex config show` can say
where each effective value came from.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from codex.config.effective import EffectiveConfig
from codex.config.env_settings import ENV_SETTINGS
from codex.config.errors import ConfigError
from codex.config.home import codex_home
from codex.config.overrides import Override, parse_override
from codex.config.schema import SELECTION_KEYS, Settings
from codex.config.toml_lines import KeyPath, index_key_lines, line_of
from codex.config.workdir import resolve_workdir
from codex.security.permissions import BUILTINS, PermissionProfile, compile_profiles
from codex.security.profiles import SecurityProfile, UnknownProfileError, parse_profile

CONFIG_FILENAME = "config.toml"


class LoadOptions(Protocol):
    """What the loader needs from the command line (`codex.cli.state.GlobalOptions` fits)."""

    @property
    def overrides(self) -> tuple[str, ...]: ...
    @property
    def config_profile(self) -> str | None: ...
    @property
    def security_profile(self) -> str | None: ...
    @property
    def sandbox_mode(self) -> str | None: ...
    @property
    def cd(self) -> Path | None: ...


OriginKind = Literal["default", "env", "file", "profile", "override", "flag"]
_RANK: dict[OriginKind, int] = {
    "default": 0, "env": 1, "file": 2, "profile": 3, "override": 4, "flag": 5,
}


@dataclass(frozen=True)
class Origin:
    """Where one value was written."""

    kind: OriginKind
    label: str
    line: int | None = None
    override_key: str | None = None


Origins = dict[KeyPath, Origin]


@dataclass
class _Source:
    """The config file as read: its path, parsed table and key line index."""

    path: Path
    exists: bool
    doc: dict[str, Any]
    lines: dict[KeyPath, int]

    def origin(self, path: KeyPath, kind: OriginKind = "file", label: str = "") -> Origin:
        line = line_of(self.lines, path)
        text = label or (f"{CONFIG_FILENAME}:{line}" if line else CONFIG_FILENAME)
        return Origin(kind, text, line)


def load_config(
    options: LoadOptions, cwd: Path | None = None, *, home: Path | None = None
) -> EffectiveConfig:
    """Resolve the effective config; raise ConfigError (`<where>:<line>: <key>: <problem>`)."""
    home_dir = home if home is not None else codex_home()
    source = _read_source(home_dir / CONFIG_FILENAME)
    overrides = [parse_override(raw) for raw in options.overrides]
    root, root_origins = _selection_view(source, overrides)
    profile_name = _select_profile(options, root, root_origins, source)
    settings, origins = _layered_settings(source, overrides, root, root_origins, profile_name)

    validated = _validate(settings, origins, source, prefix=())
    if validated.model_provider not in validated.model_providers:
        known = ", ".join(sorted(validated.model_providers))
        raise _error_at(("model_provider",), origins, source,
                        f"unknown provider {validated.model_provider!r}: define "
                        f"[model_providers.{validated.model_provider}] or use one of {known}")
    ignored: list[str] = []
    catalog = compile_profiles(
        validated.permissions, lambda path: _where(path, origins, source),
        lambda path, message: _error_at(path, origins, source, message), ignored)
    profile, profile_source, custom = _resolve_security_profile(
        options, validated, origins, catalog, source)
    work_dir, cwd_source = _resolve_cwd(options, cwd)

    # Built from the merged layers rather than a dump of `validated`, so each table's
    # `model_fields_set` still tells what the user (or a built-in) actually set.
    config = EffectiveConfig.model_validate(
        {
            **settings,
            "security_profile": profile,
            "permission_profile": custom,
            "permission_profiles": catalog,
            "cwd": work_dir,
            "codex_home": home_dir,
            "config_path": source.path,
            "config_loaded": source.exists,
            "config_profile": profile_name,
            "warnings": _unknown_key_warnings(root, root_origins, source) + (
                [f"{source.path}: ignoring permission-profile network keys codex does not "
                 f"use: {', '.join(ignored)}"] if ignored else []),
        }
    )
    sources = {key: _source_label(key, origins) for key in config.to_flat()}
    sources["security_profile"] = profile_source
    for key in sources:
        if key.startswith("permission_profile."):
            sources[key] = profile_source
    sources["cwd"] = cwd_source
    sources["codex_home"] = "env CODEX_HOME" if home is None and _env_home() else "default"
    sources["config_path"] = sources["codex_home"]
    sources["config_profile"] = _config_profile_source(options, root_origins, profile_name)
    return config.model_copy(update={"sources": sources})


def _selection_view(
    source: _Source, overrides: list[Override]
) -> tuple[dict[str, Any], Origins]:
    """The file with every -c applied, so `-c profile=x` and `-c profiles.x.model=y` work as
    in the Codex CLI; every `[profiles.NAME]` table in it is validated, selected or not."""
    root: dict[str, Any] = {}
    root_origins: Origins = {}
    _merge(root, root_origins, (), source.doc, source.origin)
    for item in overrides:
        _merge(root, root_origins, item.path, item.value, _override_origin(item))
    _check_profiles_shape(root, root_origins, source)
    for name, table in root.get("profiles", {}).items():
        _validate(table, root_origins, source, prefix=("profiles", name))
    return root, root_origins


def _layered_settings(
    source: _Source,
    overrides: list[Override],
    root: dict[str, Any],
    root_origins: Origins,
    profile_name: str | None,
) -> tuple[dict[str, Any], Origins]:
    """Merge the layers, lowest first: environment < file < config profile < -c."""
    settings: dict[str, Any] = {}
    origins: Origins = {}
    for variable, path in ENV_SETTINGS.items():
        value = os.environ.get(variable)
        if value:
            _merge(settings, origins, path, value, _fixed_origin(Origin("env", f"env {variable}")))
    file_settings = {k: v for k, v in source.doc.items() if k not in SELECTION_KEYS}
    _merge(settings, origins, (), file_settings, source.origin)
    if profile_name is not None:
        prefix = ("profiles", profile_name)
        label = f"profile {profile_name}"

        def profile_origin(path: KeyPath) -> Origin:
            found = root_origins.get(prefix + path)
            if found is not None and found.kind == "override":
                return found
            return source.origin(prefix + path, "profile", label)

        _merge(settings, origins, (), root["profiles"][profile_name], profile_origin)
    for item in overrides:
        if item.path[0] not in SELECTION_KEYS:
            _merge(settings, origins, item.path, item.value, _override_origin(item))
    return settings, origins


def _env_home() -> bool:
    return bool(os.environ.get("CODEX_HOME"))


# --- reading ---------------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _read_source(path: Path) -> _Source:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _Source(path, False, {}, {})
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        if match:
            message = message[: match.start()]
        raise ConfigError(str(path), f"invalid TOML: {message}", line=line) from exc
    return _Source(path, True, doc, index_key_lines(text))


def _fixed_origin(origin: Origin) -> Callable[[KeyPath], Origin]:
    """An origin function for a layer whose every value comes from one place."""

    def origin_of(_path: KeyPath) -> Origin:
        return origin

    return origin_of


def _override_origin(item: Override) -> Callable[[KeyPath], Origin]:
    return _fixed_origin(Origin("override", "-c", override_key=item.key))


# --- layering --------------------------------------------------------------------------------


def _merge(
    tree: dict[str, Any],
    origins: Origins,
    path: KeyPath,
    value: Any,
    origin_of: Callable[[KeyPath], Origin],
) -> None:
    """Write `value` at `path` in `tree`, merging tables key by key and recording origins."""
    if not path:
        for key, item in value.items():
            _merge(tree, origins, (key,), item, origin_of)
        return
    parent = tree
    for depth, part in enumerate(path[:-1]):
        child = parent.get(part)
        if not isinstance(child, dict):
            child = {}
            parent[part] = child
            _forget(origins, path[: depth + 1])
        parent = child
    last = path[-1]
    if isinstance(value, dict) and value and isinstance(parent.get(last), dict):
        for key, item in value.items():
            _merge(tree, origins, (*path, key), item, origin_of)
        return
    _forget(origins, path)
    parent[last] = copy.deepcopy(value)
    _record(origins, path, value, origin_of)


def _record(
    origins: Origins, path: KeyPath, value: Any, origin_of: Callable[[KeyPath], Origin]
) -> None:
    """Record the origin of every leaf (a non-table value or an empty table) under `path`."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _record(origins, (*path, key), item, origin_of)
    else:
        origins[path] = origin_of(path)


def _forget(origins: Origins, path: KeyPath) -> None:
    for known in [p for p in origins if p[: len(path)] == path]:
        del origins[known]


def _nearest(origins: Origins, path: KeyPath) -> Origin | None:
    """The origin of `path`, of its closest ancestor, or else of its first descendant."""
    for depth in range(len(path), 0, -1):
        found = origins.get(path[:depth])
        if found is not None:
            return found
    below = [o for p, o in origins.items() if p[: len(path)] == path]
    if not below:
        return None
    return min(below, key=lambda o: (o.line or 0))


# --- validation ------------------------------------------------------------------------------


def _error_at(path: KeyPath, origins: Origins, source: _Source, message: str) -> ConfigError:
    key = ".".join(path)
    origin = _nearest(origins, path)
    if origin is None or origin.kind in ("default", "env", "flag"):
        return ConfigError(str(source.path), message, key=key)
    if origin.kind == "override":
        return ConfigError(f"-c {origin.override_key}", message,
                           key=key if key != origin.override_key else None)
    line = line_of(source.lines, path) if origin.kind == "file" else origin.line
    return ConfigError(str(source.path), message, line=line or origin.line, key=key)


def _validate(
    tree: dict[str, Any], origins: Origins, source: _Source, *, prefix: KeyPath
) -> Settings:
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = prefix + tuple(str(part) for part in first["loc"])
        raise _error_at(loc, origins, source, _describe(first)) from None


def _describe(error: Any) -> str:
    message = str(error["msg"])
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    value = error.get("input")
    if error["type"] != "missing" and not isinstance(value, dict | list) and value is not None:
        message += f" (got {value!r})"
    return message


def _check_profiles_shape(root: dict[str, Any], origins: Origins, source: _Source) -> None:
    profiles = root.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _error_at(("profiles",), origins, source,
                        "must be a table of [profiles.NAME] tables")
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise _error_at(("profiles", name), origins, source,
                            f"must be a table ([profiles.{name}]), got {table!r}")


def _select_profile(
    options: LoadOptions, root: dict[str, Any], origins: Origins, source: _Source
) -> str | None:
    profiles: dict[str, Any] = root.get("profiles", {})
    defined = ", ".join(sorted(profiles)) or "none"
    if options.config_profile is not None:
        flag_name = options.config_profile
        if flag_name not in profiles:
            raise ConfigError(
                f"--config-profile {flag_name}",
                f"no [profiles.{flag_name}] in {source.path} (defined: {defined})",
            )
        return flag_name
    name: Any = root.get("profile")
    if name is None:
        return None
    if not isinstance(name, str):
        raise _error_at(("profile",), origins, source,
                        f"must be the name of a [profiles.NAME] table (got {name!r})")
    if name not in profiles:
        raise _error_at(("profile",), origins, source,
                        f"unknown config profile {name!r} (defined: {defined}); add "
                        f"[profiles.{name}] or remove the key")
    return name


def _config_profile_source(
    options: LoadOptions, origins: Origins, profile_name: str | None
) -> str:
    if options.config_profile is not None:
        return "flag --config-profile"
    if profile_name is None:
        return "default"
    origin = origins.get(("profile",))
    return origin.label if origin else "default"


# --- flags -----------------------------------------------------------------------------------


def _flag_profile(flag: str, value: str) -> SecurityProfile:
    try:
        return parse_profile(value)
    except UnknownProfileError as exc:
        more = "" if flag == "-s" else f", or define [permissions.{value}] in config.toml"
        raise ConfigError(f"{flag} {value}", str(exc) + more) from None


def _with_network_access(profile: SecurityProfile, settings: Settings) -> SecurityProfile:
    """Codex's `sandbox_workspace_write.network_access` opens the network of workspace-write.

    It applies to profiles chosen by Codex's `sandbox_mode` / `-s` only: our own profile names
    already say whether the network is on.
    """
    network = settings.sandbox_workspace_write.network_access
    if profile is SecurityProfile.WORKSPACE_WRITE and network:
        return SecurityProfile.WORKSPACE_NET
    return profile


def _network_note(profile: SecurityProfile, label: str, origins: Origins) -> str:
    if profile is not SecurityProfile.WORKSPACE_NET:
        return label
    origin = origins.get(("sandbox_workspace_write", "network_access"))
    where = origin.label if origin else "default"
    return f"{label} + sandbox_workspace_write.network_access ({where})"


def _resolve_security_profile(
    options: LoadOptions, settings: Settings, origins: Origins,
    catalog: dict[str, PermissionProfile], source: _Source,
) -> tuple[SecurityProfile, str, PermissionProfile | None]:
    """--profile > -s > the later of `security_profile` / `sandbox_mode` > `default_permissions`
    > offline. As in the Codex CLI, `sandbox_mode` (or -s) wins over `default_permissions`."""
    if options.security_profile is not None:
        name = options.security_profile.strip()
        if name in catalog or name in BUILTINS:
            if options.sandbox_mode is not None:
                raise ConfigError(f"--profile {name}", f"conflicts with -s {options.sandbox_mode}"
                                  "; pass only one")
            base, custom = _named(name, catalog)
            return base, f"flag --profile{_defined(custom)}", custom
        chosen = _flag_profile("--profile", options.security_profile)
        if options.sandbox_mode is not None:
            other = _with_network_access(_flag_profile("-s", options.sandbox_mode), settings)
            if other is not chosen:
                raise ConfigError(
                    f"--profile {options.security_profile}",
                    f"conflicts with -s {options.sandbox_mode} ({other.value}); pass only one",
                )
        return chosen, "flag --profile", None
    ignored = _ignored_default_permissions(settings, origins)
    if options.sandbox_mode is not None:
        chosen = _with_network_access(_flag_profile("-s", options.sandbox_mode), settings)
        return chosen, _network_note(chosen, "flag -s", origins) + ignored, None
    named = origins.get(("security_profile",))
    mode = origins.get(("sandbox_mode",))
    if settings.security_profile is not None and named is not None and (
        mode is None or settings.sandbox_mode is None or _RANK[named.kind] >= _RANK[mode.kind]
    ):
        if isinstance(settings.security_profile, SecurityProfile):
            return settings.security_profile, named.label, None
        if settings.security_profile not in catalog and settings.security_profile not in BUILTINS:
            raise _error_at(("security_profile",), origins, source, str(
                UnknownProfileError(settings.security_profile)) + " or a [permissions.NAME] "
                "table of config.toml")
        base, custom = _named(settings.security_profile, catalog)
        return base, named.label + _defined(custom), custom
    if settings.sandbox_mode is not None and mode is not None:
        chosen = _with_network_access(parse_profile(settings.sandbox_mode), settings)
        return chosen, _network_note(chosen, mode.label, origins) + ignored, None
    chosen_name = settings.default_permissions
    where = origins.get(("default_permissions",))
    if chosen_name is not None and where is not None:
        if chosen_name not in catalog and chosen_name not in BUILTINS:
            known = ", ".join([*BUILTINS, *sorted(catalog)])
            raise _error_at(("default_permissions",), origins, source,
                            f"unknown permission profile {chosen_name!r}: define "
                            f"[permissions.{chosen_name}] or use one of {known}")
        base, custom = _named(chosen_name, catalog)
        return base, f"{where.label} default_permissions{_defined(custom)}", custom
    return SecurityProfile.OFFLINE, "default", None


def _named(name: str, catalog: dict[str, PermissionProfile],
           ) -> tuple[SecurityProfile, PermissionProfile | None]:
    """A Codex built-in (`:workspace`) or a `[permissions.NAME]` profile."""
    if name in BUILTINS:
        return BUILTINS[name], None
    return catalog[name].base_profile, catalog[name]


def _defined(custom: PermissionProfile | None) -> str:
    return "" if custom is None else f" (permission profile {custom.name}, " \
        f"{custom.defined_at}, extends {custom.extends})"


def _ignored_default_permissions(settings: Settings, origins: Origins) -> str:
    """A note for the winner's label when `default_permissions` loses to `sandbox_mode`."""
    where = origins.get(("default_permissions",))
    if settings.default_permissions is None or where is None:
        return ""
    return (f"; default_permissions = {settings.default_permissions!r} ({where.label}) is "
            "ignored: sandbox_mode wins, as in the Codex CLI")


def _where(path: KeyPath, origins: Origins, source: _Source) -> str:
    """`config.toml:LINE` (or the -c/profile label) of a key path."""
    origin = _nearest(origins, path)
    if origin is None:
        return CONFIG_FILENAME
    if origin.kind == "file":
        line = line_of(source.lines, path)
        return f"{CONFIG_FILENAME}:{line}" if line else CONFIG_FILENAME
    return origin.label


def _resolve_cwd(options: LoadOptions, cwd: Path | None) -> tuple[Path, str]:
    target = resolve_workdir(options.cd, cwd if cwd is not None else Path.cwd())
    if options.cd is None:
        return target, "default"
    if not target.is_dir():
        raise ConfigError(f"-C {options.cd}", "not a directory; pass an existing directory")
    return target, "flag -C"


# --- reporting -------------------------------------------------------------------------------


def _source_label(dotted: str, origins: Origins) -> str:
    path = tuple(dotted.split("."))
    for depth in range(len(path), 0, -1):
        found = origins.get(path[:depth])
        if found is not None:
            return found.label
    return "default"


def _unknown_key_warnings(root: dict[str, Any], origins: Origins, source: _Source) -> list[str]:
    unknown: list[KeyPath] = []
    for key, value in root.items():
        if key == "profiles" and isinstance(value, dict):
            for name, table in value.items():
                if isinstance(table, dict):
                    unknown += _unknown_keys(table, Settings, ("profiles", name))
        elif key != "profile":
            unknown += _unknown_keys({key: value}, Settings, ())
    if not unknown:
        return []
    described = []
    for path in unknown:
        origin = _nearest(origins, path)
        where = ("-c" if origin is None or origin.kind == "override"
                 else f"line {line_of(source.lines, path)}")
        described.append(f"{'.'.join(path)} ({where})")
    return [f"{source.path}: ignoring keys codex does not use: {', '.join(described)}"]


def _unknown_keys(tree: dict[str, Any], model: type[BaseModel], prefix: KeyPath) -> list[KeyPath]:
    found: list[KeyPath] = []
    for key, value in tree.items():
        path = (*prefix, key)
        field = model.model_fields.get(key)
        if field is None:
            found.append(path)
            continue
        nested, keyed = _nested_model(field.annotation)
        if nested is None or not isinstance(value, dict):
            continue
        if keyed:
            for name, item in value.items():
                if isinstance(item, dict):
                    found += _unknown_keys(item, nested, (*path, name))
        else:
            found += _unknown_keys(value, nested, path)
    return found


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The table model behind a field: `Model` -> (Model, False), `dict[str, Model]` -> True."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) is dict:
        args: Sequence[Any] = typing.get_args(annotation)
        if len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            return args[1], True
    return None, False
