"""`SandboxPolicyLike`: the parts of `codex.protocol.SandboxPolicy` the sandbox reads.

A structural type, so the runner, the Seatbelt policy and the layer prediction accept the
pydantic model without importing pydantic (the sandbox path stays stdlib-only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class SandboxPolicyLike(Protocol):
    """Read-only view of a resolved `SandboxPolicy`."""

    @property
    def profile(self) -> str: ...
    @property
    def confined(self) -> bool: ...
    @property
    def network(self) -> bool: ...
    @property
    def writable_roots(self) -> tuple[Path, ...]: ...
    @property
    def private_tmp(self) -> bool: ...
    @property
    def protected_subpaths(self) -> tuple[str, ...]: ...
    @property
    def masked_paths(self) -> tuple[Path, ...]: ...
