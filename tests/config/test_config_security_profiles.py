"""The five security profiles: names, aliases, and the policies they resolve to."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex.security import PROFILE_NAMES, SecurityProfile, UnknownProfileError, parse_profile
from codex.security.profiles import PROTECTED_SUBPATHS, resolve_policy


@pytest.mark.parametrize(
    ("name", "profile"),
    [
        ("offline", SecurityProfile.OFFLINE),
        ("read-only", SecurityProfile.OFFLINE),
        ("READONLY", SecurityProfile.OFFLINE),
        ("net_read_only", SecurityProfile.NET_READ_ONLY),
        ("workspace", SecurityProfile.WORKSPACE_WRITE),
        ("workspace-write", SecurityProfile.WORKSPACE_WRITE),
        (" workspace-net ", SecurityProfile.WORKSPACE_NET),
        ("danger-full-access", SecurityProfile.TRUSTED),
        ("full-access", SecurityProfile.TRUSTED),
        ("trusted", SecurityProfile.TRUSTED),
    ],
)
def test_names_and_aliases(name: str, profile: SecurityProfile) -> None:
    assert parse_profile(name) is profile


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownProfileError) as err:
        parse_profile("sandboxed")
    message = str(err.value)
    for name in PROFILE_NAMES:
        assert name in message
    assert "aliases: danger-full-access, full-access, read-only" in message


def test_policies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    offline = resolve_policy(SecurityProfile.OFFLINE, tmp_path, home=home)
    assert (offline.confined, offline.network, offline.writable_roots) == (True, False, ())
    assert home / ".ssh" in offline.masked_paths
    assert resolve_policy(SecurityProfile.NET_READ_ONLY, tmp_path).network is True
    write = resolve_policy(SecurityProfile.WORKSPACE_WRITE, tmp_path, (tmp_path / "x",))
    assert write.writable_roots == (tmp_path.resolve(), (tmp_path / "x").resolve())
    assert write.protected_subpaths == PROTECTED_SUBPATHS
    assert write.network is False and write.private_tmp is True
    assert resolve_policy(SecurityProfile.WORKSPACE_NET, tmp_path).network is True
    trusted = resolve_policy(SecurityProfile.TRUSTED, tmp_path)
    assert (trusted.confined, trusted.network, trusted.can_write) == (False, True, True)
