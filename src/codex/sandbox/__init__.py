"""Kernel sandbox: run a command confined by a security profile.

Public interface (imported lazily, so the helper and `codex --version` stay light):
- `run_sandboxed(SandboxRequest) -> SandboxResult`: the runner used by the CLI, the guard
  chain and the agent's tools (see `codex.sandbox.runner`).
- `SandboxUnavailable`: a required layer is missing and degrading was not allowed.
- `layers_for(policy) -> (active, missing)`: what `codex doctor` reports per profile.
- `codex.sandbox.linux.probe.probe() -> KernelFeatures`.
"""

from __future__ import annotations

from codex.lazy_exports import lazy_exports

TYPE_CHECKING = False  # the helper imports this package: keep `typing` off its path
if TYPE_CHECKING:
    from codex.sandbox.layers import MissingLayer, layers_for
    from codex.sandbox.runner import (
        SandboxRequest,
        SandboxResult,
        SandboxUnavailable,
        run_sandboxed,
    )

_EXPORTS = {
    "layers_for": "codex.sandbox.layers",
    "MissingLayer": "codex.sandbox.layers",
    "run_sandboxed": "codex.sandbox.runner",
    "SandboxRequest": "codex.sandbox.runner",
    "SandboxResult": "codex.sandbox.runner",
    "SandboxUnavailable": "codex.sandbox.runner",
}

__all__ = [
    "MissingLayer",
    "SandboxRequest",
    "SandboxResult",
    "SandboxUnavailable",
    "layers_for",
    "run_sandboxed",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
