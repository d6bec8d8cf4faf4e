"""Codex permission profiles in config.toml: `default_permissions` and `[permissions.NAME]`.

Oracles: what the loader resolves (policy fields a user can observe through `codex sandbox`),
the CLI's exit code and the one-line error naming file, line and key, and `codex profiles
--json` / `codex config show` output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codex.config import ConfigError, EffectiveConfig
from codex.security.permissions import host_allowed
from codex.security.profiles import SecurityProfile

Loader = Callable[..., EffectiveConfig]

# A Codex CLI user's config, as its Permissions page writes it, plus a second profile.
CODEX_USER_CONFIG = """\
default_permissions = "mirror-only"

[permissions.mirror-only]
extends = ":workspace"

[permissions.mirror-only.filesystem]
":workspace_roots" = { "." = "write", "docs" = "read", "**/*.env" = "deny" }
glob_scan_max_depth = 3

[permissions.mirror-only.network]
enabled = true
mode = "limited"

[permissions.mirror-only.network.domains]
"pypi.mirror.test" = "allow"
"*.cdn.test" = "allow"
"bad.cdn.test" = "deny"

[permissions.review]
extends = ":read-only"

[permissions.review.filesystem]
"~/.cache" = "deny"
"""


def test_codex_user_config_loads_unchanged(write_config: Callable[[str], Path], load: Loader,
                                           tmp_path: Path) -> None:
    write_config(CODEX_USER_CONFIG)
    (tmp_path / "docs").mkdir()
    (tmp_path / "app.env").write_text("X=1\n")
    config = load()
    assert config.security_profile is SecurityProfile.WORKSPACE_WRITE
    assert config.profile_name == "mirror-only"
    assert config.warnings == []
    assert "config.toml:1 default_permissions" in config.sources["security_profile"]
    assert set(config.permission_profiles) == {"mirror-only", "review"}
    assert config.permission_profiles["review"].defined_at == "config.toml:19"
    policy = config.sandbox_policy()
    assert policy.profile == "mirror-only"
    assert tmp_path.resolve() in policy.writable_roots
    assert tmp_path.resolve() / "docs" in policy.read_only_paths
    assert tmp_path.resolve() / "app.env" in policy.denied_paths
    assert policy.allowed_domains == ("pypi.mirror.test", "*.cdn.test")
    assert policy.denied_domains == ("bad.cdn.test",)
    assert policy.network is False  # only through the proxy


def test_custom_profile_by_flag_and_security_profile(write_config: Callable[[str], Path],
                                                     load: Loader, tmp_path: Path) -> None:
    write_config(CODEX_USER_CONFIG)
    policy = load(security_profile="review").sandbox_policy()
    assert policy.profile == "review"
    assert policy.writable_roots == ()
    assert Path(os.environ["HOME"]) / ".cache" in policy.denied_paths
    write_config('security_profile = "review"\n' + CODEX_USER_CONFIG)
    config = load()
    assert config.profile_name == "review"
    assert "over" not in config.sources["security_profile"]


def test_extends_chain_merges_child_over_parent(write_config: Callable[[str], Path],
                                                load: Loader, tmp_path: Path) -> None:
    write_config(CODEX_USER_CONFIG + """
[permissions.child]
extends = "mirror-only"
[permissions.child.filesystem]
":tmpdir" = "read"
[permissions.child.network.domains]
"extra.test" = "allow"
""")
    config = load(security_profile="child")
    policy = config.sandbox_policy()
    assert policy.private_tmp is False
    assert policy.allowed_domains == ("pypi.mirror.test", "*.cdn.test", "extra.test")
    assert config.permission_profile is not None
    assert (":workspace_roots/docs", "read") in config.permission_profile.filesystem


@pytest.mark.parametrize(("table", "line", "key", "words"), [
    ('[permissions.a]\nextends = ":nope"\n', 3, "permissions.a.extends", "unknown profile"),
    ('[permissions.a]\nextends = "b"\n[permissions.b]\nextends = "a"\n', 3,
     "permissions.a.extends", "circular extends: a -> b -> a"),
    ('[permissions.a.filesystem]\n"relative/x" = "write"\n', 3,
     "permissions.a.filesystem.relative/x", "must be absolute"),
    ('[permissions.a.filesystem]\n"/opt/../etc" = "write"\n', 3,
     "permissions.a.filesystem./opt/../etc", "'..'"),
    ('[permissions.a.filesystem]\n":workspace_roots" = { "../up" = "write" }\n', 3,
     "permissions.a.filesystem.:workspace_roots.../up", "escape the workspace root"),
    ('[permissions.a.network.domains]\n"*" = "allow"\n', 3,
     "permissions.a.network.domains.*", "name a domain"),
    ('[permissions.a.filesystem]\n"/opt" = "rw"\n', 3, "permissions.a.filesystem./opt",
     '"read", "write" or "deny"'),
])
def test_bad_profiles_name_file_line_key(write_config: Callable[[str], Path], load: Loader,
                                         table: str, line: int, key: str, words: str) -> None:
    path = write_config('default_permissions = "a"\n' + table)
    with pytest.raises(ConfigError) as caught:
        load()
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert words in message


def test_unknown_default_permissions(write_config: Callable[[str], Path], load: Loader) -> None:
    path = write_config('default_permissions = "ghost"\n')
    with pytest.raises(ConfigError, match=rf"^{path}:1: default_permissions: unknown"):
        load()


def test_builtin_names(write_config: Callable[[str], Path], load: Loader) -> None:
    write_config('default_permissions = ":workspace"\n')
    assert load().security_profile is SecurityProfile.WORKSPACE_WRITE
    write_config('default_permissions = ":danger-full-access"\n')
    assert load().security_profile is SecurityProfile.TRUSTED


def test_sandbox_mode_wins_over_default_permissions(write_config: Callable[[str], Path],
                                                    load: Loader) -> None:
    """The Codex CLI's documented precedence: sandbox_mode in any loaded config (or -s)
    means the older settings are used instead of default_permissions."""
    write_config('default_permissions = "review"\nsandbox_mode = "workspace-write"\n'
                 '[permissions.review]\nextends = ":read-only"\n')
    config = load()
    assert config.security_profile is SecurityProfile.WORKSPACE_WRITE
    assert config.permission_profile is None
    assert "default_permissions = 'review' (config.toml:1) is ignored" in \
        config.sources["security_profile"]
    assert load(sandbox_mode="read-only").security_profile is SecurityProfile.OFFLINE


def test_domain_matching() -> None:
    allowed, denied = ("pypi.mirror.test", "*.cdn.test", "**.deep.test", "port.test:8443"), \
        ("bad.cdn.test",)
    assert host_allowed("pypi.mirror.test", 443, allowed, denied)[0]
    assert host_allowed("PyPI.Mirror.Test.", 80, allowed, denied)[0]
    assert host_allowed("a.cdn.test", 443, allowed, denied)[0]
    assert not host_allowed("a.b.cdn.test", 443, allowed, denied)[0]  # one label only
    assert not host_allowed("cdn.test", 443, allowed, denied)[0]
    assert host_allowed("a.b.deep.test", 443, allowed, denied)[0]
    assert not host_allowed("bad.cdn.test", 443, allowed, denied)[0]
    assert host_allowed("port.test", 8443, allowed, denied)[0]
    assert not host_allowed("port.test", 443, allowed, denied)[0]
    assert not host_allowed("evil.test", 443, allowed, denied)[0]


def _codex(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CODEX_HOME": str(home), "HOME": str(home.parent)}
    return subprocess.run([sys.executable, "-m", "codex", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_profiles_json_and_exit_2(write_config: Callable[[str], Path], home: Path,
                                      tmp_path: Path) -> None:
    write_config(CODEX_USER_CONFIG)
    listed = _codex(["profiles", "--json"], home, tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["mirror-only"]["defined_at"] == "config.toml:3"
    assert rows["mirror-only"]["current"] is True
    assert rows["mirror-only"]["allowed_domains"] == ["pypi.mirror.test", "*.cdn.test"]
    assert rows["review"]["extends"] == ":read-only"
    shown = _codex(["config", "show"], home, tmp_path)
    assert "permission profile mirror-only, config.toml:3" in shown.stdout
    write_config('default_permissions = "a"\n[permissions.a]\nextends = "a"\n')
    bad = _codex(["profiles"], home, tmp_path)
    assert bad.returncode == 2
    assert "config.toml:3: permissions.a.extends: circular extends" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_codex_proxy_keys_are_ignored_with_a_warning(write_config: Callable[[str], Path],
                                                     load: Loader) -> None:
    """Keys of the Codex CLI's own proxy (or newer ones) do not stop a config from loading;
    an unknown key elsewhere in a profile does (a misspelt rule must not be dropped)."""
    write_config('default_permissions = "a"\n[permissions.a.network]\nenabled = true\n'
                 'proxy_url = "http://127.0.0.1:43128"\nfuture_knob = 1\n')
    config = load()
    assert any("permissions.a.network.future_knob (config.toml:5)" in w
               for w in config.warnings), config.warnings
    path = write_config('default_permissions = "a"\n[permissions.a]\nfilesytem = {}\n')
    with pytest.raises(ConfigError, match=rf"^{path}:3: permissions.a.filesytem: unknown key"):
        load()
