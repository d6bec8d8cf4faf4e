"""Consent and grants: the only code that changes what a plugin may do.

    install_plugin(codex_home, source, consent) -> (InstalledPlugin, Grant)
        Checks the module against its manifest, asks for install consent, copies it into
        `$CODEX_HOME/plugins/<id>/` and grants the read-only paths it requests (pure-compute
        and read-only plugins run after this). Anything else it requests stays closed.
    grant_plugin(codex_home, plugin_id, consent, paths=, hosts=, env=) -> Grant
        The previous grant's items plus the new ones, checked to be a subset of the request,
        bound to the current hashes. Write paths, hosts or env names need an explicit "yes"
        from `consent` (the terminal prompt; `--yes` on the command line); a re-bind after the
        module or manifest changed is asked too.
    revoke_plugin(...) / remove_plugin(...)

`Consent` asks a human through an `Approver` and records the question and the answer (both
hashes in the reason) in the audit log before the grant is written; when the audit log cannot
be written nothing changes (fail closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex.approvals import ApprovalRequest, Approver
from codex.audit import AuditLog, Decision, Operation
from codex.plugins.grants import Grant, GrantError, check_subset, delete_grant, read_grants
from codex.plugins.grants import save_grant as _save
from codex.plugins.manifest import Manifest, load_manifest
from codex.plugins.store import (
    InstalledPlugin,
    install,
    load_installed,
    read_checked,
    source_manifest,
    uninstall,
)
from codex.policies import ReviewDecision

PROFILE = "plugin"


class ConsentDenied(Exception):
    """The user (or the absence of one) said no; nothing changed."""


@dataclass
class Consent:
    """Who is asked (`approver`; `assume_yes` for `--yes`) and where it is recorded."""

    approver: Approver
    audit: AuditLog | None
    session_id: str
    cwd: Path
    assume_yes: bool = False

    def ask(self, argv: tuple[str, ...], question: str, target: str) -> None:
        """Record the request, ask, record the answer; raise ConsentDenied on anything but yes."""
        self.record(Operation.APPROVAL, target, Decision.REQUIRES_APPROVAL, question)
        if self.assume_yes:
            self.record(Operation.APPROVAL, target, Decision.ALLOWED, "approved by --yes")
            return
        if not self.approver.interactive:
            self.record(Operation.APPROVAL, target, Decision.DENIED, "no terminal to ask on")
            raise ConsentDenied("this needs your approval and there is no terminal to ask on; "
                                "run it in a terminal or pass --yes")
        answer = self.approver.request_approval(ApprovalRequest(
            argv=argv, cwd=self.cwd, reason=question, offer_always=False))
        approved = answer in (ReviewDecision.APPROVED, ReviewDecision.APPROVED_FOR_SESSION)
        self.record(Operation.APPROVAL, target,
                     Decision.ALLOWED if approved else Decision.DENIED, f"answer: {answer}")
        if not approved:
            raise ConsentDenied("not approved; nothing changed")

    def record_grant(self, grant: Grant) -> None:
        self.record(Operation.POLICY_CHANGE, f"plugin grant {grant.plugin_id}",
                     Decision.ALLOWED, grant.describe())

    def record(self, operation: Operation, target: str, decision: Decision,
                reason: str) -> None:
        if self.audit is not None:
            self.audit.record(operation, target, decision, reason, PROFILE, self.session_id,
                              "user")


def request_summary(manifest: Manifest) -> str:
    """One paragraph a human can judge: tools, capabilities requested, limits."""
    caps = manifest.capabilities
    tools = ", ".join(t.name for t in manifest.tools)
    paths = ", ".join(f"{p.key} -> {p.guest}" for p in caps.paths) or "none"
    limits = manifest.limits
    return (f"plugin {manifest.id} {manifest.version} (tools: {tools}); requests paths: "
            f"{paths}; hosts: {', '.join(caps.hosts) or 'none'}; env: "
            f"{', '.join(caps.env) or 'none'}; limits: {limits.memory_mb} MB, "
            f"{limits.timeout_ms} ms, fuel {limits.fuel or 'unlimited'}")


def install_plugin(codex_home: Path, source: str,
                   consent: Consent) -> tuple[InstalledPlugin, Grant]:
    """See the module docstring."""
    checked = read_checked(load_manifest(source_manifest(source)))
    manifest = checked.manifest
    grant = Grant(manifest.id, checked.wasm_sha256, manifest.manifest_sha256,
                  allowed_paths=tuple(p.key for p in manifest.capabilities.paths
                                      if p.read_only))
    later = (" Write paths, hosts and env names it requests stay closed until you run "
             f"codex plugin grant {manifest.id}.") if manifest.capabilities.needs_approval \
        else ""
    consent.ask(("codex", "plugin", "install", source),
                f"install {request_summary(manifest)}? Its read-only paths are granted now "
                f"(wasm sha256 {checked.wasm_sha256}, manifest sha256 "
                f"{manifest.manifest_sha256}).{later}",
                f"plugin install {manifest.id}")
    consent.record_grant(grant)
    installed = install(codex_home, source)
    _save(codex_home, grant)
    return installed, grant


def grant_plugin(codex_home: Path, plugin_id: str, consent: Consent, *,
                 paths: Sequence[str] = (), hosts: Sequence[str] = (),
                 env: Sequence[str] = ()) -> Grant:
    """See the module docstring."""
    plugin = load_installed(codex_home, plugin_id)
    manifest = plugin.manifest
    previous = read_grants(codex_home).get(plugin_id)
    old = previous or Grant(plugin_id, "", "")
    grant = Grant(plugin_id, plugin.wasm_sha256, manifest.manifest_sha256,
                  allowed_paths=_union(old.allowed_paths, paths),
                  allowed_hosts=_union(old.allowed_hosts, hosts), env=_union(old.env, env))
    check_subset(manifest, grant.allowed_paths, grant.allowed_hosts, grant.env)
    rebinding = previous is not None and (previous.wasm_sha256, previous.manifest_sha256) != \
        (grant.wasm_sha256, grant.manifest_sha256)
    widening = grant.needs_approval and (previous is None or _items(grant) != _items(previous))
    if widening or rebinding or previous is None:
        why = "the module or manifest changed since the last grant; " if rebinding else ""
        consent.ask(("codex", "plugin", "grant", plugin_id, *_flags(paths, hosts, env)),
                    f"{why}grant plugin {plugin_id} {manifest.version}: paths "
                    f"{list(grant.allowed_paths)}, hosts {list(grant.allowed_hosts)}, env "
                    f"{list(grant.env)} (wasm sha256 {grant.wasm_sha256}, manifest sha256 "
                    f"{grant.manifest_sha256})?", f"plugin grant {plugin_id}")
    consent.record_grant(grant)
    _save(codex_home, grant)
    return grant


def revoke_plugin(codex_home: Path, plugin_id: str, consent: Consent, *,
                  paths: Sequence[str] = (), hosts: Sequence[str] = (),
                  env: Sequence[str] = ()) -> Grant | None:
    """Drop the named items, or the whole grant when none is named (the plugin stops running).

    Narrowing needs no approval; it is recorded."""
    previous = read_grants(codex_home).get(plugin_id)
    if previous is None:
        raise GrantError(f"plugin {plugin_id!r} has no grant to revoke")
    if not (paths or hosts or env):
        delete_grant(codex_home, plugin_id)
        consent.record(Operation.POLICY_CHANGE, f"plugin grant {plugin_id}", Decision.DENIED,
                        "grant revoked")
        return None
    grant = Grant(plugin_id, previous.wasm_sha256, previous.manifest_sha256,
                  allowed_paths=tuple(p for p in previous.allowed_paths if p not in paths),
                  allowed_hosts=tuple(h for h in previous.allowed_hosts if h not in hosts),
                  env=tuple(e for e in previous.env if e not in env))
    consent.record_grant(grant)
    _save(codex_home, grant)
    return grant


def remove_plugin(codex_home: Path, plugin_id: str, consent: Consent) -> bool:
    """Uninstall and drop the grant; False when neither existed."""
    removed = uninstall(codex_home, plugin_id)
    dropped = delete_grant(codex_home, plugin_id)
    if removed or dropped:
        consent.record(Operation.POLICY_CHANGE, f"plugin remove {plugin_id}", Decision.DENIED,
                        "plugin removed and its grant dropped")
    return removed or dropped


def _union(old: Sequence[str], new: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*old, *new]))


def _items(grant: Grant) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    return (frozenset(grant.allowed_paths), frozenset(grant.allowed_hosts), frozenset(grant.env))


def _flags(paths: Sequence[str], hosts: Sequence[str], env: Sequence[str]) -> list[str]:
    return [*(f"--path={p}" for p in paths), *(f"--host={h}" for h in hosts),
            *(f"--env={e}" for e in env)]
