"""Named security profiles and their mapping to sandbox policies."""

from codex.security.profiles import (
    PROFILE_NAMES,
    SecurityProfile,
    UnknownProfileError,
    parse_profile,
    resolve_policy,
)

__all__ = [
    "PROFILE_NAMES",
    "SecurityProfile",
    "UnknownProfileError",
    "parse_profile",
    "resolve_policy",
]
