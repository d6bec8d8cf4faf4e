"""Types shared by the core and every front end.

Front ends talk to the core only through these types, so they are kept small, explicit and
serialisable (pydantic models and string enums).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


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


class SandboxPolicy(BaseModel):
    """What a confined command may touch; produced from a security profile.

    Paths are absolute once resolved against a workspace (see `security.resolve_policy`).
    `confined=False` is the `trusted` profile: no kernel confinement, but the environment is
    still scrubbed and stdin is still not the user's terminal.
    """

    model_config = ConfigDict(frozen=True)

    profile: str = Field(description="canonical security profile name")
    confined: bool = True
    network: bool = False
    readable_roots: tuple[Path, ...] = (Path("/"),)
    writable_roots: tuple[Path, ...] = ()
    private_tmp: bool = False
    protected_subpaths: tuple[str, ...] = ()
    masked_paths: tuple[Path, ...] = ()

    @property
    def can_write(self) -> bool:
        """True when the command may write somewhere besides /dev/null and friends."""
        return bool(self.writable_roots) or not self.confined
