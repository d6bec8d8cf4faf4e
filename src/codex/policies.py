"""The policies a user chooses and every room reads: sandbox, approval, and review answers.

Stdlib only (a frozen dataclass and string enums), so the sandbox command's fast lane, the
guard chain and the helper never import pydantic to learn what a command may do.
`codex.protocol` re-exports them for front ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class ApprovalPolicy(StrEnum):
    """When the user is asked before a command runs (the Codex CLI's semantics)."""

    UNTRUSTED = "untrusted"
    ON_FAILURE = "on-failure"
    ON_REQUEST = "on-request"
    NEVER = "never"


class ReviewDecision(StrEnum):
    """What a user (or the non-interactive policy) answered to an approval request."""

    APPROVED = "approved"
    APPROVED_FOR_SESSION = "approved_for_session"
    APPROVED_ALWAYS = "approved_always"
    DENIED = "denied"
    ABORT = "abort"


@dataclass(frozen=True)
class SandboxPolicy:
    """What a confined command may touch; produced from a security profile.

    `profile` is the canonical security profile name. Paths are absolute once resolved
    against a workspace (see `security.resolve_policy`). `confined=False` is the `trusted`
    profile: no kernel confinement, but the environment is still scrubbed and stdin is
    still not the user's terminal.
    """

    profile: str
    confined: bool = True
    network: bool = False
    readable_roots: tuple[Path, ...] = (Path("/"),)
    writable_roots: tuple[Path, ...] = ()
    private_tmp: bool = False
    protected_subpaths: tuple[str, ...] = ()
    masked_paths: tuple[Path, ...] = ()
    # From a permission profile (codex.security.permissions): read-only binds inside writable
    # roots, paths made unreadable and unlistable, and a domain allow-list (network through
    # the codex proxy only; deny rules win).
    read_only_paths: tuple[Path, ...] = ()
    denied_paths: tuple[Path, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    denied_domains: tuple[str, ...] = ()

    @property
    def can_write(self) -> bool:
        """True when the command may write somewhere besides /dev/null and friends."""
        return bool(self.writable_roots) or not self.confined
