"""Credentials in the supervisor's environment never reach the child, in any profile."""

from __future__ import annotations

import pytest
from escape_kit import PROFILES, SECRET_ENV_NAMES, Arena, actor, nonce

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("profile", PROFILES)
def test_environment_secrets_scrubbed(profile: str, arena: Arena) -> None:
    token = nonce()
    control = arena.run(actor("env", token), profile=None)
    values = {name: arena.secret_values[name] for name in SECRET_ENV_NAMES}
    assert all(v.encode() in control.stdout for v in values.values()), "control: env not set"
    outcome = arena.probe(actor("env", token), token, profile=profile)
    leaked = [name for name, value in values.items() if value.encode() in outcome.output]
    assert not leaked, f"ESCAPE: {profile} passed {leaked} to the child"
    names_seen = [name for name in SECRET_ENV_NAMES if f"{name}=".encode() in outcome.stdout]
    assert not names_seen, f"{profile} passed credential variables {names_seen}"


@pytest.mark.parametrize("profile", PROFILES)
def test_environment_keeps_the_basics(profile: str, arena: Arena) -> None:
    """The allow-list still passes what real tools need (PATH, HOME, LANG)."""
    token = nonce()
    outcome = arena.probe(actor("env", token), token, profile=profile)
    for name in ("PATH", "HOME", "LANG"):
        assert f"\n{name}=".encode() in b"\n" + outcome.stdout, f"{profile} dropped {name}"
