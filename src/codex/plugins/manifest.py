"""`plugin.toml`: what a plugin is, which tools it offers and which capabilities it requests.

Stdlib dataclasses (the runtime and the grant check must not load pydantic). Field names follow
Extism's manifest where one exists (`allowed_paths`, `allowed_hosts`, `config`, `memory`).
Everything is denied unless requested here and then granted (see `codex.plugins.grants`):

    [plugin]        id, version, wasm (file next to the manifest), sha256 (of the wasm), abi
    [[tools]]       name, description, input_schema (JSON Schema), annotations
                    {read_only, destructive, open_world}
    [capabilities]  allowed_paths = {"ro:{workspace}" = "/workspace", "{workspace}/out" = "/out"}
                    allowed_hosts = ["api.example.com", "*.example.org"] (the sandbox's
                    domain rules), env = ["NAME"],
                    config = {key = "default"}
    [limits]        memory_mb (64), timeout_ms (5000), fuel (none), max_output_bytes (1 MiB)

`load_manifest(path)` raises `ManifestError("file: key: problem (fix)")` for anything it cannot
accept, so a bad manifest never half-loads.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ABI_V1 = "wasi-command-json"
READ_ONLY_PREFIX = "ro:"
DEFAULT_MEMORY_MB = 64
DEFAULT_TIMEOUT_MS = 5000
DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024
PATH_TEMPLATES = ("{workspace}", "{home}", "{codex_home}", "{plugin_dir}")

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
_TOOL_RE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST_RE = re.compile(r"^(\*{1,2}\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$")


class ManifestError(ValueError):
    """The manifest cannot be used; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class PathRequest:
    """One `allowed_paths` entry: a host path template mapped to a guest path."""

    host: str  # the template without the `ro:` prefix, e.g. "{workspace}/out"
    guest: str
    read_only: bool

    @property
    def key(self) -> str:
        """The entry as written in the manifest (and in a grant)."""
        return (READ_ONLY_PREFIX if self.read_only else "") + self.host


@dataclass(frozen=True)
class Annotations:
    """MCP-style hints that decide whether a call needs approval."""

    read_only: bool = False
    destructive: bool = False
    open_world: bool = False


@dataclass(frozen=True)
class ToolDef:
    name: str
    description: str
    input_schema: dict[str, Any]
    annotations: Annotations


@dataclass(frozen=True)
class Capabilities:
    paths: tuple[PathRequest, ...] = ()
    hosts: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    config: dict[str, str] = field(default_factory=dict)

    @property
    def needs_approval(self) -> bool:
        """Anything beyond pure compute and read-only paths needs an explicit grant."""
        return bool(self.hosts or self.env or any(not p.read_only for p in self.paths))


@dataclass(frozen=True)
class Limits:
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    fuel: int | None = None
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES


@dataclass(frozen=True)
class Manifest:
    id: str
    version: str
    wasm: str
    sha256: str
    abi: str
    tools: tuple[ToolDef, ...]
    capabilities: Capabilities
    limits: Limits
    path: Path
    manifest_sha256: str

    @property
    def wasm_path(self) -> Path:
        return self.path.parent / self.wasm

    def tool(self, name: str) -> ToolDef | None:
        return next((t for t in self.tools if t.name == name), None)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(path: Path) -> Manifest:
    """Parse and validate `path`; see the module docstring."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    check = _Checker(path)
    plugin = check.table(data, "plugin", required=True)
    plugin_id = check.string(plugin, "plugin.id")
    if not _ID_RE.match(plugin_id):
        check.fail("plugin.id", f"{plugin_id!r} is not a valid id (lowercase letters, digits, "
                                "'-' and '_', at most 48 characters)")
    abi = check.string(plugin, "plugin.abi", default=ABI_V1)
    if abi != ABI_V1:
        check.fail("plugin.abi", f"unsupported ABI {abi!r} (this codex runs {ABI_V1!r})")
    sha = check.string(plugin, "plugin.sha256").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        check.fail("plugin.sha256", "must be the 64 hex digits of the wasm file's SHA-256 "
                                    "(sha256sum FILE.wasm)")
    wasm = check.string(plugin, "plugin.wasm")
    if Path(wasm).is_absolute() or ".." in Path(wasm).parts:
        check.fail("plugin.wasm", "must be a file name relative to the manifest's directory")
    tools = tuple(_tool(check, t, i) for i, t in enumerate(check.array(data, "tools")))
    if not tools:
        check.fail("tools", "declare at least one [[tools]] entry")
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        check.fail("tools", "tool names must be unique")
    return Manifest(
        id=plugin_id, version=check.string(plugin, "plugin.version"), wasm=wasm, sha256=sha,
        abi=abi, tools=tools, capabilities=_capabilities(check, data), limits=_limits(check, data),
        path=path, manifest_sha256=hashlib.sha256(raw_bytes).hexdigest())


def parse_path_key(key: str) -> tuple[str, bool]:
    """`"ro:{workspace}"` → (`"{workspace}"`, read_only=True)."""
    if key.startswith(READ_ONLY_PREFIX):
        return key[len(READ_ONLY_PREFIX):], True
    return key, False


def _tool(check: _Checker, raw: Any, index: int) -> ToolDef:
    where = f"tools[{index}]"
    if not isinstance(raw, dict):
        check.fail(where, "must be a table")
    name = check.string(raw, f"{where}.name")
    if not _TOOL_RE.match(name):
        check.fail(f"{where}.name", f"{name!r}: use letters, digits, '-' and '_' (max 48)")
    schema = raw.get("input_schema", {"type": "object", "properties": {}})
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        check.fail(f"{where}.input_schema", "must be a JSON Schema of type object")
    notes = check.table(raw, f"{where}.annotations")
    flags = {}
    for flag in ("read_only", "destructive", "open_world"):
        value = notes.get(flag, False)
        if not isinstance(value, bool):
            check.fail(f"{where}.annotations.{flag}", "must be true or false")
        flags[flag] = value
    return ToolDef(name, check.string(raw, f"{where}.description", default=""), dict(schema),
                   Annotations(**flags))


def _capabilities(check: _Checker, data: dict[str, Any]) -> Capabilities:
    caps = check.table(data, "capabilities")
    paths: list[PathRequest] = []
    raw_paths = check.table(caps, "capabilities.allowed_paths")
    for key, guest in raw_paths.items():
        host, read_only = parse_path_key(key)
        if not host.startswith(PATH_TEMPLATES) and not Path(host).is_absolute():
            check.fail(f"capabilities.allowed_paths.{key!r}",
                       f"host path must be absolute or start with one of {PATH_TEMPLATES}")
        if not isinstance(guest, str) or not guest.startswith("/"):
            check.fail(f"capabilities.allowed_paths.{key!r}",
                       "the guest path must be an absolute path string such as \"/data\"")
        paths.append(PathRequest(host, guest, read_only))
    hosts = check.strings(caps, "capabilities.allowed_hosts")
    for host in hosts:
        if not _HOST_RE.match(host):
            check.fail("capabilities.allowed_hosts", f"{host!r} is not a host name "
                       "(example.com, *.example.com, **.example.com or 127.0.0.1:8080)")
    env = check.strings(caps, "capabilities.env")
    for name in env:
        if not _ENV_RE.match(name):
            check.fail("capabilities.env", f"{name!r} is not an environment variable name")
    config = check.table(caps, "capabilities.config")
    if not all(isinstance(v, str) for v in config.values()):
        check.fail("capabilities.config", "values must be strings")
    return Capabilities(tuple(paths), tuple(hosts), tuple(env), dict(config))


def _limits(check: _Checker, data: dict[str, Any]) -> Limits:
    raw = check.table(data, "limits")
    values: dict[str, int | None] = {}
    for key, default, top in (("memory_mb", DEFAULT_MEMORY_MB, 4096),
                              ("timeout_ms", DEFAULT_TIMEOUT_MS, 3_600_000),
                              ("fuel", None, 2**62),
                              ("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES, 64 * 1024 * 1024)):
        value = raw.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 < value <= top):
            check.fail(f"limits.{key}", f"must be an integer between 1 and {top}")
        values[key] = value
    return Limits(**values)  # type: ignore[arg-type]


class _Checker:
    """Typed access to the parsed TOML with errors that name the file and key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> Any:
        raise ManifestError(f"{self.path}: {key}: {problem}")

    def table(self, data: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
        value = data.get(key.rsplit(".", 1)[-1])
        if value is None:
            if required:
                self.fail(key, "missing table")
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return value  # type: ignore[no-any-return]

    def array(self, data: dict[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.fail(key, "must be an array of tables ([[tools]])")
        return value  # type: ignore[no-any-return]

    def string(self, data: dict[str, Any], key: str, *, default: str | None = None) -> str:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if value is None:
            self.fail(key, "missing")
        if not isinstance(value, str):
            return self.fail(key, "must be a string")  # type: ignore[no-any-return]
        return value

    def strings(self, data: dict[str, Any], key: str) -> tuple[str, ...]:
        value = data.get(key.rsplit(".", 1)[-1], [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be an array of strings")
        return tuple(value)
