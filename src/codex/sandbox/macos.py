"""macOS: confine a command with Seatbelt through `/usr/bin/sandbox-exec`.

Public interface (stdlib only, like the rest of the runner path):
- `seatbelt_policy(policy, *, private_tmp=None) -> SeatbeltPolicy`: the deny-by-default SBPL
  text for a confined profile plus its `-D` parameters. Paths never appear in the text; they
  are passed as parameters, so the text depends only on the profile and on how many roots,
  protected subpaths and masked paths there are (and golden tests can pin it).
- `SeatbeltPolicy.command(argv) -> list[str]`: the full argv to spawn, starting with the
  absolute `/usr/bin/sandbox-exec` (never looked up on PATH, which the model may control).
- `sandbox_exec_available() -> bool`.

What the policy allows:
- reads everywhere except the masked secret paths;
- writes only under the writable roots (and the run's private temp dir), minus the protected
  subpaths, minus the masked paths; a protected path's ancestors inside a root (`.git`) may be
  created but never renamed or deleted, so the protected directory cannot be swapped out;
  `/dev/null` and `/dev/zero` may be written by every profile; setuid/setgid bits, mounts and
  ACLs are never allowed (they are not part of `file-write*`'s grant below);
- outbound IP, bind and inbound in the `-net` profiles only (plus the resolver's socket);
  unix-domain sockets to other daemons stay closed in every confined profile;
- process fork/exec, signals and process info within the sandbox, sysctl reads, POSIX
  semaphores (Python multiprocessing) and a minimal set of mach services.

Every rule is an allow over an explicit, disjoint filter (`require-all` + `require-not`), so
the policy's meaning never depends on how Seatbelt orders conflicting allow/deny rules.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex.policies import SandboxPolicy

SANDBOX_EXEC = "/usr/bin/sandbox-exec"

# Write operations granted inside writable roots. Deliberately absent: file-write-setugid
# (setuid/setgid bits), file-write-mount/unmount, file-write-acl.
ROOT_WRITE_OPERATIONS = (
    "file-write-create", "file-write-data", "file-write-flags", "file-write-mode",
    "file-write-owner", "file-write-times", "file-write-unlink", "file-write-xattr",
)

# Mach services every profile needs (user and group lookups through libinfo).
BASE_MACH_SERVICES = ("com.apple.system.opendirectoryd.libinfo",)
# Name resolution and certificate checks in the -net profiles.
NET_MACH_SERVICES = (
    "com.apple.SystemConfiguration.DNSConfiguration",
    "com.apple.SystemConfiguration.configd",
    "com.apple.dnssd.service",
    "com.apple.trustd.agent",
)
RESOLVER_SOCKET = "/private/var/run/mDNSResponder"


@dataclass(frozen=True)
class SeatbeltPolicy:
    """SBPL text plus the `-D NAME=VALUE` parameters it references."""

    profile: str
    text: str
    params: tuple[tuple[str, str], ...]

    def command(self, argv: Sequence[str]) -> list[str]:
        """The argv that runs `argv` under this policy."""
        if not argv:
            raise ValueError("no command given")
        defines = [f"-D{name}={value}" for name, value in self.params]
        return [SANDBOX_EXEC, "-p", self.text, *defines, "--", *argv]


def sandbox_exec_available() -> bool:
    return os.access(SANDBOX_EXEC, os.X_OK)


def canonical(path: Path | str) -> str:
    """Seatbelt matches resolved paths (/tmp is /private/tmp on macOS)."""
    return os.path.realpath(os.fspath(path))


def _ancestors(subpath: str) -> list[str]:
    """`.git/hooks` -> [`.git`]: directories that, if moved, would carry a protected path."""
    parts = Path(subpath).parts
    return [str(Path(*parts[:i])) for i in range(1, len(parts))]


class _Builder:
    """Accumulates parameters; returns `(param "NAME")` expressions for the text."""

    def __init__(self) -> None:
        self.params: list[tuple[str, str]] = []

    def param(self, name: str, value: str) -> str:
        self.params.append((name, value))
        return f'(param "{name}")'


def _exclusions(kind: str, exprs: Sequence[str], indent: str) -> list[str]:
    return [f"{indent}(require-not ({kind} {expr}))" for expr in exprs]


def seatbelt_policy(policy: SandboxPolicy, *, private_tmp: Path | str | None = None,
                    ) -> SeatbeltPolicy:
    """Generate the Seatbelt policy for a confined profile (trusted is never wrapped)."""
    if not policy.confined:
        raise ValueError(f"profile {policy.profile} is unconfined: run the command directly")
    b = _Builder()
    masked = [b.param(f"MASKED_{i}", canonical(p)) for i, p in enumerate(policy.masked_paths)]
    lines = [
        "(version 1)",
        f"; codex Seatbelt policy, profile {policy.profile}; paths arrive as -D parameters",
        "(deny default)",
        "",
        "; processes: run programs, signal and inspect only what shares this sandbox",
        "(allow process-exec)",
        "(allow process-fork)",
        "(allow signal (target same-sandbox))",
        "(allow process-info* (target same-sandbox))",
        "(allow sysctl-read)",
        "(allow user-preference-read)",
        "(allow ipc-posix-sem)",
        "(allow mach-lookup",
        *[f'  (global-name "{name}")' for name in BASE_MACH_SERVICES],
        ")",
        "",
        "; reads: everywhere except masked secrets",
        "(allow file-read*",
        "  (require-all",
        '    (subpath "/")',
        *_exclusions("subpath", masked, "    "),
        "  ))",
        "",
        "; writes every profile may do",
        "(allow file-write-data",
        '  (require-all (literal "/dev/null") (vnode-type CHARACTER-DEVICE))',
        '  (require-all (literal "/dev/zero") (vnode-type CHARACTER-DEVICE)))',
    ]
    roots = [canonical(r) for r in policy.writable_roots]
    if private_tmp is not None:
        roots.append(canonical(private_tmp))
    for i, root in enumerate(roots):
        lines += _root_rules(b, i, root, policy.protected_subpaths if i < len(
            policy.writable_roots) else (), masked)
    if policy.network:
        lines += _network_rules()
    else:
        lines += ["", "; network: none (no outbound, bind, inbound or unix sockets)"]
    return SeatbeltPolicy(policy.profile, "\n".join(lines) + "\n", tuple(b.params))


def _root_rules(b: _Builder, index: int, root: str, protected: Sequence[str],
                masked: Sequence[str]) -> list[str]:
    prefix = f"WRITABLE_ROOT_{index}"
    root_expr = b.param(prefix, root)
    guarded = [b.param(f"{prefix}_PROTECTED_{j}", os.path.join(root, sub))
               for j, sub in enumerate(protected)]
    ancestors = sorted({a for sub in protected for a in _ancestors(sub)})
    pinned = [b.param(f"{prefix}_ANCESTOR_{k}", os.path.join(root, a))
              for k, a in enumerate(ancestors)]
    lines = [
        "",
        f"; writable root {index}: everything below it except protected and masked paths",
        f"(allow {' '.join(ROOT_WRITE_OPERATIONS)}",
        "  (require-all",
        f"    (subpath {root_expr})",
        *_exclusions("subpath", guarded, "    "),
        *_exclusions("literal", pinned, "    "),
        *_exclusions("subpath", masked, "    "),
        "  ))",
    ]
    if pinned:
        lines += [
            f"; ancestors of protected paths in root {index}: may be created, never moved",
            "(allow file-write-create",
            *[f"  (literal {expr})" for expr in pinned],
            ")",
        ]
    return lines


def _network_rules() -> list[str]:
    return [
        "",
        "; network: IP outbound, bind and inbound; the resolver's socket; no other unix sockets",
        '(allow network-outbound (remote ip "*:*"))',
        f'(allow network-outbound (remote unix-socket (path-literal "{RESOLVER_SOCKET}")))',
        '(allow network-bind (local ip "*:*"))',
        '(allow network-inbound (local ip "*:*"))',
        "(allow system-socket)",
        "(allow mach-lookup",
        *[f'  (global-name "{name}")' for name in NET_MACH_SERVICES],
        ")",
    ]
