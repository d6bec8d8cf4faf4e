"""Call a tool of an installed plugin: check, resolve the grant, run, audit.

    PluginHost(codex_home, workspace, audit=..., session_id=..., actor=...)
        .call(plugin_id, tool, arguments) -> CallOutcome   (never raises for a refusal)

Order of one call: the module's hash is checked against its manifest (tampered: refused), the
grant against both hashes (void or missing: refused), the capabilities are the grant only
(whatever else the manifest requests stays closed), imports are checked at link time, then the
module runs within its limits. Audit trail: `plugin_call allowed` before the run (if it cannot
be written, nothing runs) and `plugin_call allowed|denied` with the outcome after it (exit,
stop reason, fuel, memory, time), or one `plugin_call denied` for a refusal. Targets carry the
tool's qualified name and the SHA-256 of the arguments, never the arguments themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex.audit import AuditError, AuditLog, Decision, Operation
from codex.plugins.grants import Grant, GrantError, grant_problem, read_grants
from codex.plugins.manifest import ManifestError, parse_path_key
from codex.plugins.runtime import LinkRefused, Preopen, RunResult, RunSpec, run_module
from codex.plugins.store import InstalledPlugin, NotInstalledError, TamperedError, load_installed
from codex.plugins.wasmtime_lib import PluginRuntimeMissing

PROFILE = "plugin"
TOOL_PREFIX = "plugin__"


def qualified_name(plugin_id: str, tool: str) -> str:
    """The name the model sees: `plugin__<id>__<tool>`."""
    return f"{TOOL_PREFIX}{plugin_id}__{tool}"


@dataclass(frozen=True)
class CallOutcome:
    """`ok`: the plugin ran, exited 0 and wrote one JSON value; `result` is that value.
    Otherwise `error` says why (refused before running, stopped, bad output)."""

    ok: bool
    result: Any = None
    error: str = ""
    run: RunResult | None = None
    logs: str = ""
    audit_reasons: list[str] = field(default_factory=list)

    def text(self) -> str:
        """What the model reads."""
        if self.ok:
            return json.dumps(self.result, ensure_ascii=False)
        return self.error


class PluginHost:
    def __init__(self, codex_home: Path, workspace: Path, *, audit: AuditLog | None = None,
                 session_id: str = "", actor: str = "user") -> None:
        self.codex_home = codex_home
        self.workspace = workspace
        self.audit = audit
        self.session_id = session_id
        self.actor = actor

    def call(self, plugin_id: str, tool: str, arguments: dict[str, Any]) -> CallOutcome:
        """See the module docstring."""
        stdin = json.dumps(arguments, separators=(",", ":"), sort_keys=True).encode()
        target = (f"{qualified_name(plugin_id, tool)} "
                  f"args_sha256={hashlib.sha256(stdin).hexdigest()[:16]}")
        reasons: list[str] = []
        try:
            plugin = load_installed(self.codex_home, plugin_id)
            grant = read_grants(self.codex_home).get(plugin_id)
            problem = grant_problem(plugin.manifest, plugin.wasm_sha256, grant)
            if problem is None and plugin.manifest.tool(tool) is None:
                names = ", ".join(t.name for t in plugin.manifest.tools)
                problem = f"plugin {plugin_id!r} has no tool {tool!r} (it has: {names})"
            if problem is not None or grant is None:
                return self._refuse(target, problem or "no grant", reasons)
            spec = self._spec(plugin, grant, tool, stdin, target, reasons)
            self._record(target, Decision.ALLOWED,
                         f"running under grant: {grant.describe()}", reasons)
            try:
                run = run_module(plugin.wasm, plugin.wasm_sha256, spec)
            except LinkRefused as exc:
                return self._refuse(target, f"refused at link time: {exc}", reasons)
            except PluginRuntimeMissing as exc:
                return self._refuse(target, str(exc), reasons)
            outcome = _interpret(run, plugin_id, reasons)
            self._record(target, Decision.ALLOWED if outcome.ok else Decision.DENIED,
                         _summary(run, outcome), reasons)
            return outcome
        except (NotInstalledError, TamperedError, ManifestError, GrantError) as exc:
            try:
                return self._refuse(target, str(exc), reasons)
            except AuditError as audit_exc:
                return CallOutcome(False, error=f"not run: {exc}; {audit_exc}")
        except AuditError as exc:
            return CallOutcome(False, error=f"not run: {exc} (every plugin call is recorded; "
                                            "make the audit directory writable)")

    def _spec(self, plugin: InstalledPlugin, grant: Grant, tool: str, stdin: bytes,
              target: str, reasons: list[str]) -> RunSpec:
        """The run's capabilities: exactly the grant, with templates resolved."""
        manifest = plugin.manifest
        guests = {p.host: p.guest for p in manifest.capabilities.paths}
        preopens = []
        for key in grant.allowed_paths:
            host, read_only = parse_path_key(key)
            resolved = self._resolve(host, manifest.path.parent)
            if resolved.is_dir():
                preopens.append(Preopen(resolved, guests[host], read_only))
        fetch = None
        if grant.allowed_hosts:
            from codex.plugins.fetch import make_fetch

            def on_request(url: str, allowed: bool) -> None:
                self._record(f"{target} fetch {url}",
                             Decision.ALLOWED if allowed else Decision.DENIED,
                             "host granted" if allowed else "host not granted", reasons,
                             operation=Operation.NETWORK)

            fetch = make_fetch(grant.allowed_hosts, manifest.limits.timeout_ms / 1000,
                               on_request)
        env = {name: os.environ[name] for name in grant.env if name in os.environ}
        env["CODEX_PLUGIN_CONFIG"] = json.dumps(manifest.capabilities.config, sort_keys=True)
        limits = manifest.limits
        return RunSpec(argv=(manifest.id, tool), stdin=stdin, env=env,
                       preopens=tuple(preopens), memory_mb=limits.memory_mb,
                       timeout_ms=limits.timeout_ms, fuel=limits.fuel,
                       max_output_bytes=limits.max_output_bytes, fetch=fetch)

    def _resolve(self, template: str, plugin_dir: Path) -> Path:
        values = {"{workspace}": str(self.workspace), "{home}": str(Path.home()),
                  "{codex_home}": str(self.codex_home), "{plugin_dir}": str(plugin_dir)}
        for name, value in values.items():
            template = template.replace(name, value)
        return Path(template).resolve()

    def _refuse(self, target: str, reason: str, reasons: list[str]) -> CallOutcome:
        self._record(target, Decision.DENIED, reason, reasons)
        return CallOutcome(False, error=f"refused: {reason}", audit_reasons=reasons)

    def _record(self, target: str, decision: Decision, reason: str, reasons: list[str], *,
                operation: Operation = Operation.PLUGIN_CALL) -> None:
        reasons.append(f"{operation.value} {decision.value}: {reason}")
        if self.audit is not None:
            self.audit.record(operation, target, decision, reason, PROFILE, self.session_id,
                              self.actor)


def _interpret(run: RunResult, plugin_id: str, reasons: list[str]) -> CallOutcome:
    logs = run.stderr.decode("utf-8", "replace")
    if run.stopped is not None:
        return CallOutcome(False, error=f"plugin {plugin_id!r} stopped ({run.stopped}): "
                                        f"{run.detail}", run=run, logs=logs,
                           audit_reasons=reasons)
    if run.exit_code != 0:
        tail = logs.strip().splitlines()[-1] if logs.strip() else "no message on stderr"
        return CallOutcome(False, error=f"plugin {plugin_id!r} exited with {run.exit_code}: "
                                        f"{tail}", run=run, logs=logs, audit_reasons=reasons)
    try:
        result = json.loads(run.stdout)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return CallOutcome(False, error=f"plugin {plugin_id!r} wrote no valid JSON result on "
                                        f"stdout: {exc}", run=run, logs=logs,
                           audit_reasons=reasons)
    return CallOutcome(True, result=result, run=run, logs=logs, audit_reasons=reasons)


def _summary(run: RunResult, outcome: CallOutcome) -> str:
    status = "ok" if outcome.ok else (run.stopped or f"exit {run.exit_code}")
    return (f"outcome={status} fuel_used={run.fuel_used} memory_bytes={run.memory_bytes} "
            f"elapsed_ms={run.elapsed_ms:.1f}")
