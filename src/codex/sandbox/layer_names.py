"""Names of the confinement layers, shared by the helper, the runner and `codex doctor`.

Import-free on purpose: the sandbox helper loads this on every sandboxed command.
"""

from __future__ import annotations

# Layer names, in the order the helper applies them. They appear in `--json` results and in
# refusal messages, so they are part of the interface.
HYGIENE = "process-hygiene"
PROCESS_LIMIT = "process-limit"
ENV = "env-allowlist"
STDIN = "stdin-isolated"
SESSION = "new-session"
USERNS = "user-namespace"
PIDNS = "pid-namespace"
MOUNTNS = "mount-namespace"
IPCNS = "ipc-namespace"
NETNS = "network-namespace"
READ_ONLY_MOUNTS = "read-only-mounts"
PROTECTED = "protected-paths"
MASKS = "secret-masks"
PROXY = "network-proxy"
CAPS = "capability-drop"
NNP = "no-new-privs"
LANDLOCK_FS = "landlock-fs"
LANDLOCK_NET = "landlock-net"
LANDLOCK_SCOPE = "landlock-scope"
LANDLOCK_LOG = "landlock-exec-log"
SECCOMP = "seccomp"

# Minimum Landlock ABI per Landlock-backed layer. The filesystem layer needs ABI 3: before it,
# truncate(2) by path escaped Landlock entirely.
LANDLOCK_MIN_ABI: dict[str, int] = {
    LANDLOCK_FS: 3,
    LANDLOCK_NET: 4,
    LANDLOCK_SCOPE: 6,
    LANDLOCK_LOG: 7,
}

# Defence-in-depth layers: reported when missing, but their absence alone does not refuse a
# profile (the network namespace already cuts the network; scopes and exec logging are recent;
# the process limit guards availability, not confinement, and the timeout still ends a run).
OPTIONAL: frozenset[str] = frozenset(
    {LANDLOCK_NET, LANDLOCK_SCOPE, LANDLOCK_LOG, IPCNS, PROCESS_LIMIT})
