"""Windows has no sandbox yet: every confined profile is refused with a reason; trusted runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex.sandbox.windows import WindowsSandboxUnsupported, ensure_supported, refusal
from codex.security.profiles import SecurityProfile, resolve_policy

CONFINED = [p for p in SecurityProfile if p is not SecurityProfile.TRUSTED]


@pytest.mark.parametrize("profile", CONFINED, ids=str)
def test_confined_profiles_are_refused_with_reason(profile: SecurityProfile,
                                                   tmp_path: Path) -> None:
    policy = resolve_policy(profile, tmp_path)
    assert policy.confined
    message = refusal(policy.profile, policy.confined)
    assert message is not None
    assert profile.value in message and "Windows" in message
    assert "WSL2" in message and "--profile trusted" in message
    with pytest.raises(WindowsSandboxUnsupported) as err:
        ensure_supported(policy.profile, policy.confined)
    assert err.value.layer == "windows sandbox" and str(err.value) == message
    assert "\n" not in message


def test_trusted_is_allowed(tmp_path: Path) -> None:
    policy = resolve_policy(SecurityProfile.TRUSTED, tmp_path)
    assert refusal(policy.profile, policy.confined) is None
    ensure_supported(policy.profile, policy.confined)
