"""WASM plugins: tools in WebAssembly that get nothing but what the user granted.

Public interface (stdlib at import; `wasmtime` loads only when a plugin runs):

- `load_manifest(path) -> Manifest` (`ManifestError` "file: key: problem").
- `PluginHost(codex_home, workspace, audit=..., session_id=..., actor=...).call(id, tool,
  arguments) -> CallOutcome`: hash check, grant check, link check, run within limits, audit.
- `install_plugin`, `grant_plugin`, `revoke_plugin`, `remove_plugin` with a `Consent`
  (`codex.plugins.trust`): the only ways a grant in config.toml `[plugins.<id>]` changes.
- `register_plugin_tools(registry, codex_home, workspace, ...)`: granted plugins' tools enter a
  session's `ToolRegistry` as `plugin__<id>__<tool>` (`codex.plugins.tools`).
- `run_self_test() -> SelfTest`: the embedded module `codex doctor` runs.

Rooms inside: manifest (plugin.toml), store (installed copies, hash check), grants
(config.toml), trust (consent + audit), runtime (wasmtime, the only importer), fetch (the host
function behind allowed_hosts), host (one call), tools (session hook), skeleton, selftest.
"""

from codex.lazy_exports import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codex.plugins.host import CallOutcome, PluginHost
    from codex.plugins.manifest import Manifest, ManifestError, load_manifest
    from codex.plugins.selftest import SelfTest, run_self_test
    from codex.plugins.tools import register_plugin_tools
    from codex.plugins.trust import (
        Consent,
        grant_plugin,
        install_plugin,
        remove_plugin,
        revoke_plugin,
    )

_EXPORTS = {
    "CallOutcome": "codex.plugins.host",
    "PluginHost": "codex.plugins.host",
    "Manifest": "codex.plugins.manifest",
    "ManifestError": "codex.plugins.manifest",
    "load_manifest": "codex.plugins.manifest",
    "SelfTest": "codex.plugins.selftest",
    "run_self_test": "codex.plugins.selftest",
    "register_plugin_tools": "codex.plugins.tools",
    "Consent": "codex.plugins.trust",
    "grant_plugin": "codex.plugins.trust",
    "install_plugin": "codex.plugins.trust",
    "remove_plugin": "codex.plugins.trust",
    "revoke_plugin": "codex.plugins.trust",
}

__all__ = [
    "CallOutcome",
    "Consent",
    "Manifest",
    "ManifestError",
    "PluginHost",
    "SelfTest",
    "grant_plugin",
    "install_plugin",
    "load_manifest",
    "register_plugin_tools",
    "remove_plugin",
    "revoke_plugin",
    "run_self_test",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
