"""Named permission profiles from config.toml, as the Codex CLI defines them (0.133+).

    default_permissions = "mirror-only"
    [permissions.mirror-only]
    extends = ":workspace"                      # or ":read-only", ":danger-full-access", ours
    [permissions.mirror-only.filesystem]
    "/opt/cache" = "write"                      # read | write | deny ("none" = deny)
    ":tmpdir" = "read"
    ":workspace_roots" = { "." = "write", "docs" = "read", "**/*.env" = "deny" }
    [permissions.mirror-only.network]
    enabled = true
    [permissions.mirror-only.network.domains]
    "pypi.internal.example.com" = "allow"      # exact host; "*.example.com": one label,
    "**.example.com:8443" = "allow"            # "**.": any depth; ":PORT" (ours) limits it

`compile_profiles` validates every table (errors name file, line and key) and resolves
`extends` chains into flat `PermissionProfile`s; `apply` turns one into a `SandboxPolicy`
for a workspace. A profile without `extends` starts from `:read-only`. Stdlib only: the
sandbox command's fast lane replays a cached profile without pydantic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codex.policies import SandboxPolicy
from codex.security.profiles import (
    PROTECTED_SUBPATHS,
    SecurityProfile,
    UnknownProfileError,
    parse_profile,
)

# Codex's built-in names (with the leading colon) and what they are here.
BUILTINS: dict[str, SecurityProfile] = {
    ":read-only": SecurityProfile.OFFLINE,
    ":workspace": SecurityProfile.WORKSPACE_WRITE,
    ":danger-full-access": SecurityProfile.TRUSTED,
    ":danger-no-sandbox": SecurityProfile.TRUSTED,
}
ACCESS = {"read": "read", "write": "write", "deny": "deny", "none": "deny"}
SPECIAL_ROOTS = frozenset({":root", ":minimal", ":workspace_roots", ":project_roots",
                           ":tmpdir", ":slash_tmp"})
SCOPED_ROOTS = frozenset({":workspace_roots", ":project_roots"})
DEFAULT_GLOB_DEPTH = 3
PROFILE_KEYS = frozenset({"extends", "filesystem", "network", "workspace_roots", "description"})
NETWORK_KEYS = frozenset({"enabled", "mode", "domains", "proxy_url", "admin_url", "enable_socks5",
                          "socks_url", "enable_socks5_udp", "allow_upstream_proxy",
                          "dangerously_allow_non_loopback_proxy",
                          "dangerously_allow_non_loopback_admin",
                          "dangerously_allow_all_unix_sockets", "allow_local_binding",
                          "unix_sockets"})

# (key path, message) -> the exception to raise; the loader supplies file and line.
ErrorAt = Callable[[tuple[str, ...], str], Exception]


@dataclass(frozen=True)
class PermissionProfile:
    """One `[permissions.NAME]` table with its `extends` chain resolved.

    `filesystem`: target -> "read"/"write"/"deny", where a target is an absolute or `~/` path,
    a special root (`:tmpdir`), or `:workspace_roots/SUB` for a rule scoped to every workspace
    root (SUB may be a glob). `network`: None inherits the base profile's. `domains`: pattern
    -> "allow"/"deny". `defined_at`: `config.toml:LINE` of the table.
    """

    name: str
    base: str
    extends: str
    defined_at: str
    filesystem: tuple[tuple[str, str], ...] = ()
    network: bool | None = None
    domains: tuple[tuple[str, str], ...] = ()
    workspace_roots: tuple[str, ...] = ()
    glob_depth: int = DEFAULT_GLOB_DEPTH
    description: str = ""

    @property
    def base_profile(self) -> SecurityProfile:
        return SecurityProfile(self.base)

    @property
    def allowed_domains(self) -> tuple[str, ...]:
        return tuple(p for p, a in self.domains if a == "allow")

    @property
    def denied_domains(self) -> tuple[str, ...]:
        return tuple(p for p, a in self.domains if a == "deny")

    def summary(self) -> dict[str, str]:
        """What it allows, in words (for `codex profiles`)."""
        fs = ", ".join(f"{t} {a}" for t, a in self.filesystem) or "as " + self.extends
        if self.allowed_domains:
            net = "only " + ", ".join(self.allowed_domains) + " (through the codex proxy)"
        elif self.network is None:
            net = "as " + self.extends
        else:
            net = "outbound allowed" if self.network else "none"
        return {"filesystem": fs, "network": net}

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items()}
        data["filesystem"] = [list(p) for p in self.filesystem]
        data["domains"] = [list(p) for p in self.domains]
        data["workspace_roots"] = list(self.workspace_roots)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PermissionProfile:
        return cls(**{**data, "filesystem": tuple(tuple(p) for p in data["filesystem"]),
                      "domains": tuple(tuple(p) for p in data["domains"]),
                      "workspace_roots": tuple(data["workspace_roots"])})


@dataclass
class _Raw:
    name: str
    table: dict[str, Any]
    line: str


def compile_profiles(tables: Mapping[str, Any], where: Callable[[tuple[str, ...]], str],
                     error_at: ErrorAt, ignored: list[str] | None = None,
                     ) -> dict[str, PermissionProfile]:
    """Validate every `[permissions.NAME]` and resolve its `extends` chain. Network keys of
    the Codex CLI's own proxy that mean nothing here are listed in `ignored` (key (where));
    any other unknown key is an error: a misspelt rule must not silently widen a profile."""
    raws: dict[str, _Raw] = {}
    for name, table in tables.items():
        path = ("permissions", name)
        if name.startswith(":"):
            raise error_at(path, "custom profile names cannot start with ':' (reserved for "
                                 "the built-ins :read-only, :workspace, :danger-full-access)")
        if not isinstance(table, dict):
            raise error_at(path, "must be a table: [permissions." + name + "]")
        for key in _check_table(name, table, error_at):
            if ignored is not None:
                ignored.append(f"{'.'.join(key)} ({where(key)})")
        raws[name] = _Raw(name, table, where(path))
    compiled: dict[str, PermissionProfile] = {}
    for name in raws:
        _resolve(name, raws, compiled, (), error_at)
    return compiled


def _check_table(name: str, table: dict[str, Any], error_at: ErrorAt) -> list[tuple[str, ...]]:
    """Raise on a bad entry; return the unknown network keys (ignored)."""
    base = ("permissions", name)
    for key in table:
        if key not in PROFILE_KEYS:
            raise error_at((*base, key), "unknown key; a permission profile has extends, "
                                         "filesystem, network and workspace_roots")
    extends = table.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise error_at((*base, "extends"), "must be a profile name such as \":workspace\"")
    fs = table.get("filesystem", {})
    if not isinstance(fs, dict):
        raise error_at((*base, "filesystem"), "must be a table")
    for target, access in fs.items():
        fs_key = (*base, "filesystem", target)
        if target == "glob_scan_max_depth":
            if not isinstance(access, int) or isinstance(access, bool) or access < 0:
                raise error_at(fs_key, "must be a non-negative integer")
            continue
        if target in SCOPED_ROOTS and isinstance(access, dict):
            for sub, sub_access in access.items():
                _check_access((*fs_key, sub), sub_access, error_at)
                _check_subpath((*fs_key, sub), sub, error_at)
            continue
        _check_access(fs_key, access, error_at)
        _check_target(fs_key, target, error_at)
    roots = table.get("workspace_roots", {})
    if not isinstance(roots, dict) or not all(isinstance(v, bool) for v in roots.values()):
        raise error_at((*base, "workspace_roots"), "must map paths to true or false")
    for root in roots:
        _check_target((*base, "workspace_roots", root), root, error_at)
    net = table.get("network", {})
    if not isinstance(net, dict):
        raise error_at((*base, "network"), "must be a table")
    unknown: list[tuple[str, ...]] = [(*base, "network", k) for k in net
                                      if k not in NETWORK_KEYS]
    enabled = net.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise error_at((*base, "network", "enabled"), "must be true or false")
    mode = net.get("mode")
    if mode is not None and mode not in ("limited", "full"):
        raise error_at((*base, "network", "mode"), 'must be "limited" or "full"')
    domains = net.get("domains", {})
    if not isinstance(domains, dict):
        raise error_at((*base, "network", "domains"), 'must map hosts to "allow" or "deny"')
    for pattern, verdict in domains.items():
        domain_key = (*base, "network", "domains", pattern)
        if verdict not in ("allow", "deny"):
            raise error_at(domain_key, 'must be "allow" or "deny"')
        problem = domain_problem(pattern)
        if problem:
            raise error_at(domain_key, problem)
    return unknown


def _check_access(key: tuple[str, ...], access: object, error_at: ErrorAt) -> None:
    if not isinstance(access, str) or access not in ACCESS:
        raise error_at(key, 'must be "read", "write" or "deny" (or "none")')


def _check_target(key: tuple[str, ...], target: str, error_at: ErrorAt) -> None:
    if target in SPECIAL_ROOTS:
        return
    if target.startswith(":"):
        raise error_at(key, "unknown special root; use one of " + ", ".join(sorted(SPECIAL_ROOTS)))
    if not (target.startswith("/") or target == "~" or target.startswith("~/")):
        raise error_at(key, "a path rule must be absolute (start with / or ~/); scope "
                            "workspace paths under \":workspace_roots\"")
    if ".." in Path(target).parts:
        raise error_at(key, "'..' is not allowed in a path rule; write the path it means")


def _check_subpath(key: tuple[str, ...], sub: str, error_at: ErrorAt) -> None:
    if sub.startswith("/") or sub.startswith("~"):
        raise error_at(key, "a rule under a workspace root must be relative to it")
    if ".." in Path(sub).parts:
        raise error_at(key, "'..' would escape the workspace root")


def domain_problem(pattern: str) -> str:
    """Why `pattern` is not a usable domain rule ("" when it is)."""
    host, _, port = pattern.rpartition(":") if pattern.count(":") == 1 else (pattern, "", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return "the port after ':' must be a number from 1 to 65535"
    if host in ("*", "**", ""):
        return "a rule must name a domain; '*' alone would allow everything"
    bare = host.removeprefix("**.").removeprefix("*.")
    if "*" in bare or "/" in bare or " " in bare:
        return ("use an exact host, '*.example.com' or '**.example.com' (a wildcard only "
                "as the first label)")
    return ""


def _resolve(name: str, raws: dict[str, _Raw], done: dict[str, PermissionProfile],
             chain: tuple[str, ...], error_at: ErrorAt) -> PermissionProfile:
    if name in done:
        return done[name]
    raw = raws[name]
    extends = raw.table.get("extends", ":read-only")
    if name in chain:
        cycle = " -> ".join((*chain, name))
        raise error_at(("permissions", chain[0], "extends"), f"circular extends: {cycle}")
    parent: PermissionProfile | None = None
    if extends in BUILTINS:
        base = BUILTINS[extends]
    elif extends in raws:
        parent = _resolve(extends, raws, done, (*chain, name), error_at)
        base = parent.base_profile
    else:
        try:
            base = parse_profile(extends)
        except UnknownProfileError:
            known = ", ".join([*BUILTINS, *sorted(raws)])
            raise error_at(("permissions", name, "extends"),
                           f"unknown profile {extends!r}; extend one of {known} or a "
                           "built-in security profile (offline, workspace-write, ...)") from None
    fs: dict[str, str] = dict(parent.filesystem) if parent else {}
    table_fs = raw.table.get("filesystem", {})
    depth = table_fs.get("glob_scan_max_depth", parent.glob_depth if parent else
                         DEFAULT_GLOB_DEPTH)
    for target, access in table_fs.items():
        if target == "glob_scan_max_depth":
            continue
        if isinstance(access, dict):
            for sub, sub_access in access.items():
                norm = os.path.normpath(sub)
                fs[":workspace_roots" if norm == "." else f":workspace_roots/{norm}"] = \
                    ACCESS[sub_access]
        else:
            fs[":workspace_roots" if target == ":project_roots" else target] = ACCESS[access]
    net = raw.table.get("network", {})
    domains = dict(parent.domains) if parent else {}
    domains.update(net.get("domains", {}))
    network = net.get("enabled", parent.network if parent else None)
    roots = dict.fromkeys(parent.workspace_roots if parent else ())
    for root, on in raw.table.get("workspace_roots", {}).items():
        if on:
            roots[root] = None
        else:
            roots.pop(root, None)
    profile = PermissionProfile(
        name=name, base=base.value, extends=extends, defined_at=raw.line,
        filesystem=tuple(fs.items()), network=network, domains=tuple(domains.items()),
        workspace_roots=tuple(roots), glob_depth=depth,
        description=str(raw.table.get("description", "")))
    done[name] = profile
    return profile


@dataclass
class _PolicyDraft:
    writable: list[Path]
    read_only: list[Path] = field(default_factory=list)
    denied: list[Path] = field(default_factory=list)
    private_tmp: bool = False


def apply(profile: PermissionProfile, base: SandboxPolicy, workspace: Path,
          home: Path | None = None) -> SandboxPolicy:
    """The policy `profile` gives in `workspace`, starting from its base profile's `base`."""
    if not base.confined:
        return replace(base, profile=profile.name)
    home_dir = home if home is not None else Path.home()
    roots = [workspace.resolve(), *(_expand(r, home_dir) for r in profile.workspace_roots)]
    draft = _PolicyDraft(list(base.writable_roots), private_tmp=base.private_tmp)
    for target, access in profile.filesystem:
        for path in _targets(target, roots, home_dir, profile.glob_depth, draft):
            _rule(draft, path, access, roots)
    network = base.network if profile.network is None else profile.network
    # A domain allow-list keeps the command in its own network namespace (network=False):
    # the codex proxy is its only way out.
    allowed = profile.allowed_domains if network else ()
    writable = tuple(dict.fromkeys(draft.writable))
    return replace(
        base, profile=profile.name, network=network and not allowed, writable_roots=writable,
        private_tmp=draft.private_tmp,
        protected_subpaths=PROTECTED_SUBPATHS if writable else (),
        read_only_paths=tuple(dict.fromkeys(draft.read_only)),
        denied_paths=tuple(dict.fromkeys(draft.denied)),
        allowed_domains=allowed, denied_domains=profile.denied_domains if network else ())


def _targets(target: str, roots: list[Path], home: Path, depth: int,
             draft: _PolicyDraft) -> list[Path]:
    """The concrete paths one rule target stands for (special roots, globs under roots)."""
    if target == ":tmpdir":
        return [Path(":tmpdir")]
    if target == ":root":
        return [Path("/")]
    if target == ":minimal":
        return []  # the runtime files every command needs: readable in every profile here
    if target == ":slash_tmp":
        return [Path("/tmp")]
    if target == ":workspace_roots":
        return roots
    if target.startswith(":workspace_roots/"):
        sub = target[len(":workspace_roots/"):]
        if any(c in sub for c in "*?["):
            return [p for r in roots for p in _glob(r, sub, depth)]
        return [r / sub for r in roots]
    return [_expand(target, home)]


def _glob(root: Path, pattern: str, depth: int) -> list[Path]:
    """Files under `root` (at most `depth` levels down) matching `pattern` (`**/` any depth)."""
    import fnmatch  # brings `re`: only for profiles that use globs

    found: list[Path] = []
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if len(here.parts) - base_depth >= depth:
            dirnames[:] = []
        for name in [*filenames, *dirnames]:
            rel = str((here / name).relative_to(root))
            if fnmatch.fnmatch(rel, pattern) or (pattern.startswith("**/") and
                                                 fnmatch.fnmatch(rel, pattern[3:])):
                found.append(here / name)
    return found


def _rule(draft: _PolicyDraft, path: Path, access: str, roots: list[Path]) -> None:
    if str(path) == ":tmpdir":
        draft.private_tmp = access == "write"
        return
    if access == "write":
        draft.writable.append(path)
    elif access == "deny":
        draft.denied.append(path)
    elif path in draft.writable:
        draft.writable.remove(path)
    elif any(path.is_relative_to(w) for w in draft.writable):
        draft.read_only.append(path)


def _expand(target: str, home: Path) -> Path:
    if target == "~" or target.startswith("~/"):
        return home / target[2:]
    return Path(target)


def host_allowed(host: str, port: int, allowed: tuple[str, ...],
                 denied: tuple[str, ...]) -> tuple[bool, str]:
    """Whether the proxy lets `host:port` through, and the rule that decided (deny wins)."""
    host = host.lower().rstrip(".")
    for pattern in denied:
        if _matches(pattern, host, port):
            return False, f"denied by rule {pattern!r}"
    for pattern in allowed:
        if _matches(pattern, host, port):
            return True, f"allowed by rule {pattern!r}"
    return False, "not in the profile's domain allow-list"


def _matches(pattern: str, host: str, port: int) -> bool:
    want_port: int | None = None
    if pattern.count(":") == 1:
        pattern, _, port_text = pattern.partition(":")
        want_port = int(port_text)
    if want_port is not None and want_port != port:
        return False
    pattern = pattern.lower()
    if pattern.startswith("**."):
        return host.endswith(pattern[2:])
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and "." not in host[:-len(pattern) + 1]
    return host == pattern
