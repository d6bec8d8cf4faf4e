"""Windows: confined profiles are refused, by design, until a real sandbox exists there.

A restricted token plus a job object (CreateRestrictedToken, AssignProcessToJobObject) could
limit privileges and process lifetime, but on its own it cannot express this project's
profiles: it gives no per-path write allow-list with protected subpaths, no masking of
secret files, and no network denial (that needs AppContainer capabilities or a WFP filter).
Shipping it as `offline` or `workspace-write` would be a silent pass-through dressed up as
a sandbox, and it cannot be tested from the Linux machines this project is built on. So every
confined profile is refused with a message naming the reason and the way out; `trusted`
(unconfined by definition: environment scrubbed, stdin not the terminal) is allowed.

Public interface (stdlib only):
- `refusal(profile: str, confined: bool) -> str | None`: the one-line reason a profile cannot
  run here, or None when it can (trusted).
- `ensure_supported(profile: str, confined: bool) -> None`: raises `WindowsSandboxUnsupported`
  (a `ValueError` carrying `.layer` and `.reason`, which the runner turns into its
  `SandboxUnavailable`) for every confined profile.
"""

from __future__ import annotations

LAYER = "windows sandbox"
REASON = ("codex has no Windows sandbox yet (a restricted token and job object alone cannot "
          "enforce per-path writes, masked secrets or no-network)")
WAY_OUT = ("run codex inside WSL2 to get the Linux sandbox, or choose --profile trusted to "
           "run unconfined deliberately")


class WindowsSandboxUnsupported(ValueError):
    """A confined profile was requested on Windows."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.layer = LAYER
        self.reason = REASON
        super().__init__(f"cannot enforce profile {profile} on Windows: {REASON}; {WAY_OUT}")


def refusal(profile: str, confined: bool) -> str | None:
    """Why `profile` cannot run on Windows, or None if it can (only unconfined profiles)."""
    return str(WindowsSandboxUnsupported(profile)) if confined else None


def ensure_supported(profile: str, confined: bool) -> None:
    if confined:
        raise WindowsSandboxUnsupported(profile)
