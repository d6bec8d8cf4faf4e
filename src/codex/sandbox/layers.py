"""Which confinement layers a policy needs, and which of them this machine can provide.

`layers_for(policy)` is what `codex doctor` prints per profile. It predicts from `probe()`;
the helper then applies each layer for real and reports what it actually applied, so the
prediction is never the thing a run's result relies on.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

from codex.policies import SandboxPolicy
from codex.sandbox.layer_names import (
    CAPS,
    ENV,
    HYGIENE,
    IPCNS,
    LANDLOCK_FS,
    LANDLOCK_LOG,
    LANDLOCK_MIN_ABI,
    LANDLOCK_NET,
    LANDLOCK_SCOPE,
    MASKS,
    MOUNTNS,
    NETNS,
    NNP,
    OPTIONAL,
    PIDNS,
    PROCESS_LIMIT,
    PROTECTED,
    READ_ONLY_MOUNTS,
    SECCOMP,
    SESSION,
    STDIN,
    USERNS,
)


class MissingLayer(NamedTuple):
    """A layer the policy wants that this machine cannot provide, and why."""

    name: str
    reason: str
    required: bool

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})"


def wanted_layers(confined: bool, network: bool) -> list[str]:
    """Every layer a policy asks for, in application order."""
    if not confined:
        return [ENV, STDIN, SESSION]
    layers = [HYGIENE, PROCESS_LIMIT, ENV, STDIN, SESSION, USERNS, PIDNS, MOUNTNS, IPCNS]
    if not network:
        layers.append(NETNS)
    layers += [READ_ONLY_MOUNTS, PROTECTED, MASKS, CAPS, NNP, LANDLOCK_FS]
    if not network:
        layers.append(LANDLOCK_NET)
    layers += [LANDLOCK_SCOPE, LANDLOCK_LOG, SECCOMP]
    return layers


def layers_for(policy: SandboxPolicy) -> tuple[list[str], list[MissingLayer]]:
    """(active, missing) layers for `policy` on this machine, as `codex doctor` shows them."""
    wanted = wanted_layers(policy.confined, policy.network)
    if not policy.confined:
        return wanted, []
    if not sys.platform.startswith("linux"):
        return [], [MissingLayer(name, f"not available on {sys.platform}", name not in OPTIONAL)
                    for name in wanted]
    from codex.sandbox.linux import pids_cgroup
    from codex.sandbox.linux.probe import probe

    features = probe(userns_trial=True)
    missing: list[MissingLayer] = []
    namespaced = {USERNS, PIDNS, MOUNTNS, IPCNS, NETNS, READ_ONLY_MOUNTS, PROTECTED, MASKS}
    for name in wanted:
        reason = ""
        if name in namespaced and features.userns is False and (
                name == USERNS or features.uid != 0):
            # Root can still unshare the other namespaces without a user namespace.
            reason = features.userns_error
        elif name in LANDLOCK_MIN_ABI and features.landlock_abi < LANDLOCK_MIN_ABI[name]:
            reason = features.landlock_error or (
                f"Landlock ABI {features.landlock_abi} < {LANDLOCK_MIN_ABI[name]}")
        elif name == SECCOMP and not features.seccomp:
            reason = features.seccomp_error
        elif name == PROCESS_LIMIT and features.uid == 0 and not pids_cgroup.available():
            reason = "root is exempt from RLIMIT_NPROC and no pids cgroup can be created here"
        elif not features.arch_supported and name not in (ENV, STDIN, SESSION, HYGIENE):
            reason = f"unsupported architecture {features.arch}"
        if reason:
            missing.append(MissingLayer(name, reason, name not in OPTIONAL))
    missing_names = {m.name for m in missing}
    return [name for name in wanted if name not in missing_names], missing
