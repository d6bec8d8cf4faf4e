"""Loading config.toml: precedence, config profiles, security profiles, errors, warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codex.config import ConfigError, EffectiveConfig
from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile

Loader = Callable[..., EffectiveConfig]
WriteConfig = Callable[[str], Path]

# A config as a Codex CLI user has it, with keys codex does not use (model_reasoning_effort,
# tui, projects, tools, file_opener...) next to the ones it does.
CODEX_CLI_CONFIG = """\
model = "gpt-5-codex"
model_provider = "azure"
model_reasoning_effort = "high"
approval_policy = "on-request"
sandbox_mode = "workspace-write"
file_opener = "vscode"
notify = ["notify-send", "codex"]
project_doc_max_bytes = 65536
project_doc_fallback_filenames = ["CLAUDE.md"]

[model_providers.azure]
name = "Azure"
base_url = "https://example.openai.azure.com/openai"
env_key = "AZURE_OPENAI_API_KEY"
query_params = { api-version = "2025-04-01-preview" }
wire_api = "responses"
stream_idle_timeout_ms = 100000

[sandbox_workspace_write]
writable_roots = ["/tmp/extra"]
network_access = false

[shell_environment_policy]
inherit = "core"
exclude = ["AWS_*"]
set = { CI = "1" }

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-server"]
env = { TOKEN_FILE = "/x" }

[mcp_servers.remote]
url = "https://mcp.example.com/mcp"
bearer_token_env_var = "MCP_TOKEN"

[history]
persistence = "none"

[tui]
notifications = true

[tools]
web_search = true

[projects."/home/me/work"]
trust_level = "trusted"

[profiles.o3]
model = "o3"
model_reasoning_summary = "detailed"
approval_policy = "never"
"""


def test_defaults_without_a_config_file(load: Loader, home: Path, tmp_path: Path) -> None:
    config = load()
    assert config.config_loaded is False
    assert config.config_path == home / "config.toml"
    assert config.security_profile is SecurityProfile.OFFLINE
    assert config.sources["security_profile"] == "default"
    assert config.approval_policy is ApprovalPolicy.ON_REQUEST
    assert config.model_provider == "openai"
    assert config.model_providers["openai"].wire_api == "responses"
    assert config.model_providers["openai"].env_key == "OPENAI_API_KEY"
    assert config.cwd == tmp_path
    assert config.warnings == []
    assert set(config.sources.values()) == {"default", "env CODEX_HOME"}


def test_a_codex_cli_config_loads_with_one_warning(
    write_config: WriteConfig, load: Loader
) -> None:
    path = write_config(CODEX_CLI_CONFIG)
    config = load()
    assert config.model == "gpt-5-codex"
    azure = config.model_providers["azure"]
    assert azure.query_params == {"api-version": "2025-04-01-preview"}
    assert azure.stream_idle_timeout_ms == 100_000
    assert azure.request_max_retries == 4
    assert config.mcp_servers["docs"].args == ["-y", "docs-server"]
    assert config.mcp_servers["remote"].url == "https://mcp.example.com/mcp"
    assert config.shell_environment_policy.set == {"CI": "1"}
    assert config.history.persistence == "none"
    assert config.notify == ["notify-send", "codex"]
    assert config.sandbox_workspace_write.writable_roots == [Path("/tmp/extra")]
    assert config.security_profile is SecurityProfile.WORKSPACE_WRITE
    assert config.sources["security_profile"] == "config.toml:5"
    assert len(config.warnings) == 1
    warning = config.warnings[0]
    assert warning.startswith(f"{path}: ignoring keys codex does not use: ")
    assert config.model_reasoning_effort == "high"  # used: the requests' reasoning effort
    assert "model_reasoning_effort" not in warning
    assert "tui" not in warning  # `[tui]` is the interactive UI's now
    for key in ("file_opener (line 6)",
                "tools (line 43)", "projects (line 46)",
                "profiles.o3.model_reasoning_summary (line 51)"):
        assert key in warning


def test_precedence_default_file_profile_override_flag(
    write_config: WriteConfig, load: Loader, tmp_path: Path
) -> None:
    write_config(
        'model = "file-model"\n'
        'approval_policy = "untrusted"\n'
        "project_doc_max_bytes = 10\n"
        'security_profile = "workspace-write"\n'
        'profile = "fast"\n'
        "[history]\n"
        "max_bytes = 5\n"
        "[profiles.fast]\n"
        'model = "profile-model"\n'
        'approval_policy = "never"\n'
        "[profiles.fast.history]\n"
        'persistence = "none"\n'
    )
    (tmp_path / "work").mkdir()
    config = load("model=o3", security_profile="net-read-only",
                  cd=Path("work"))
    # -c beats the profile, which beats the file, which beats the defaults.
    assert (config.model, config.sources["model"]) == ("o3", "-c")
    assert (config.approval_policy, config.sources["approval_policy"]) == (
        ApprovalPolicy.NEVER, "profile fast")
    assert (config.project_doc_max_bytes, config.sources["project_doc_max_bytes"]) == (
        10, "config.toml:3")
    assert config.sources["model_provider"] == "default"
    # Tables merge key by key across layers.
    assert (config.history.max_bytes, config.sources["history.max_bytes"]) == (
        5, "config.toml:7")
    assert config.sources["history.persistence"] == "profile fast"
    # Flags beat everything.
    assert config.security_profile is SecurityProfile.NET_READ_ONLY
    assert config.sources["security_profile"] == "flag --profile"
    assert (config.cwd, config.sources["cwd"]) == (tmp_path / "work", "flag -C")
    assert config.config_profile == "fast"
    assert config.sources["config_profile"] == "config.toml:5"


def test_override_selects_and_edits_config_profiles(
    write_config: WriteConfig, load: Loader
) -> None:
    write_config('[profiles.a]\nmodel = "a"\n[profiles.b]\nmodel = "b"\n')
    assert load().model != "a"
    assert load("profile=a").model == "a"
    config = load("profile=b", "profiles.b.model=edited")
    assert (config.model, config.sources["model"]) == ("edited", "-c")
    assert load(config_profile="a").sources["config_profile"] == "flag --config-profile"


def test_config_profile_flag_beats_profile_key(write_config: WriteConfig, load: Loader) -> None:
    write_config('profile = "a"\n[profiles.a]\nmodel = "a"\n[profiles.b]\nmodel = "b"\n')
    assert load().model == "a"
    assert load(config_profile="b").model == "b"


def test_override_values_are_typed_like_toml(load: Loader) -> None:
    config = load("sandbox_workspace_write.network_access=true", "model=o3",
                  'sandbox_workspace_write.writable_roots=["/a", "/b"]',
                  "project_doc_max_bytes=7")
    assert config.sandbox_workspace_write.network_access is True
    assert config.sandbox_workspace_write.writable_roots == [Path("/a"), Path("/b")]
    assert config.project_doc_max_bytes == 7
    assert config.sources["sandbox_workspace_write.network_access"] == "-c"
    assert config.sources["sandbox_workspace_write.writable_roots"] == "-c"


def test_provider_table_merges_over_the_builtin(write_config: WriteConfig, load: Loader) -> None:
    write_config('[model_providers.openai]\nbase_url = "http://127.0.0.1:9/v1"\n')
    openai = load().model_providers["openai"]
    assert openai.base_url == "http://127.0.0.1:9/v1"
    assert (openai.env_key, openai.wire_api) == ("OPENAI_API_KEY", "responses")


# --- security profiles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "overrides", "expected"),
    [
        ({}, (), SecurityProfile.OFFLINE),
        ({"security_profile": "workspace"}, (), SecurityProfile.WORKSPACE_WRITE),
        ({"security_profile": "read-only"}, (), SecurityProfile.OFFLINE),
        ({"security_profile": "Full_Access"}, (), SecurityProfile.TRUSTED),
        ({"security_profile": "workspace-net"}, (), SecurityProfile.WORKSPACE_NET),
        ({"sandbox_mode": "read-only"}, (), SecurityProfile.OFFLINE),
        ({"sandbox_mode": "workspace-write"}, (), SecurityProfile.WORKSPACE_WRITE),
        ({"sandbox_mode": "danger-full-access"}, (), SecurityProfile.TRUSTED),
        ({"sandbox_mode": "workspace-write"},
         ("sandbox_workspace_write.network_access=true",), SecurityProfile.WORKSPACE_NET),
        ({}, ("sandbox_mode=workspace-write", "sandbox_workspace_write.network_access=true"),
         SecurityProfile.WORKSPACE_NET),
        # network_access only opens workspace-write chosen through Codex's sandbox_mode.
        ({}, ("sandbox_workspace_write.network_access=true",), SecurityProfile.OFFLINE),
        ({"security_profile": "workspace-write"},
         ("sandbox_workspace_write.network_access=true",), SecurityProfile.WORKSPACE_WRITE),
        ({}, ("security_profile=net-read-only",), SecurityProfile.NET_READ_ONLY),
        ({}, ("security_profile=workspace",), SecurityProfile.WORKSPACE_WRITE),
        ({"security_profile": "offline", "sandbox_mode": "read-only"}, (),
         SecurityProfile.OFFLINE),
    ],
)
def test_security_profile_resolution(
    load: Loader, flags: dict[str, str], overrides: tuple[str, ...], expected: SecurityProfile
) -> None:
    assert load(*overrides, **flags).security_profile is expected


def test_later_layer_wins_between_security_profile_and_sandbox_mode(
    write_config: WriteConfig, load: Loader
) -> None:
    write_config('security_profile = "offline"\n')
    config = load("sandbox_mode=danger-full-access")
    assert (config.security_profile, config.sources["security_profile"]) == (
        SecurityProfile.TRUSTED, "-c")
    write_config('sandbox_mode = "danger-full-access"\nsecurity_profile = "offline"\n')
    assert load().security_profile is SecurityProfile.OFFLINE


def test_sandbox_policy_uses_workspace_and_writable_roots(load: Loader, tmp_path: Path) -> None:
    policy = load("sandbox_workspace_write.writable_roots=['/srv/cache']",
                  security_profile="workspace-write").sandbox_policy()
    assert policy.writable_roots == (tmp_path.resolve(), Path("/srv/cache"))
    assert policy.network is False


# --- errors ----------------------------------------------------------------------------------


def _error(load: Loader, *overrides: str, **flags: object) -> str:
    with pytest.raises(ConfigError) as err:
        load(*overrides, **flags)
    return str(err.value)


def test_bad_toml_names_file_and_line(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('model = "o3"\n\napproval_policy = \n')
    message = _error(load)
    assert message.startswith(f"{path}:3: invalid TOML: ")


def test_wrong_type_in_file(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('model = "o3"\n[sandbox_workspace_write]\nnetwork_access = "yes"\n')
    assert _error(load) == (f"{path}:3: sandbox_workspace_write.network_access: "
                            "Input should be a valid boolean (got 'yes')")


def test_wrong_enum_value_in_file(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('\napproval_policy = "sometimes"\n')
    message = _error(load)
    assert message.startswith(f"{path}:2: approval_policy: Input should be 'untrusted'")


def test_wrong_type_inside_an_inline_table(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('\n\n[shell_environment_policy]\nset = { CI = 1 }\n')
    assert _error(load).startswith(f"{path}:4: shell_environment_policy.set.CI: ")


def test_a_table_where_a_value_belongs(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('[model]\nname = "x"\n')
    assert _error(load).startswith(f"{path}:1: model: Input should be a valid string")


def test_wrong_type_in_a_config_profile_names_its_line(
    write_config: WriteConfig, load: Loader
) -> None:
    path = write_config('model = "o3"\n[profiles.slow]\nproject_doc_max_bytes = "big"\n')
    assert _error(load) == (f"{path}:3: profiles.slow.project_doc_max_bytes: "
                            "Input should be a valid integer (got 'big')")


def test_selected_profile_value_reports_its_profile_line(
    write_config: WriteConfig, load: Loader
) -> None:
    path = write_config('[profiles.x]\n\nhistory = { max_bytes = -1 }\n')
    assert _error(load, config_profile="x").startswith(
        f"{path}:3: profiles.x.history.max_bytes: Input should be greater than or equal to 0")


def test_wrong_type_in_override(load: Loader) -> None:
    assert _error(load, "project_doc_max_bytes=lots") == (
        "-c project_doc_max_bytes: Input should be a valid integer (got 'lots')")
    assert _error(load, "sandbox_workspace_write={ network_access = 1 }") == (
        "-c sandbox_workspace_write: sandbox_workspace_write.network_access: "
        "Input should be a valid boolean (got 1)")


def test_unknown_security_profile_in_file(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('model = "o3"\nsecurity_profile = "yolo"\n')
    message = _error(load)
    assert message.startswith(f"{path}:2: security_profile: unknown security profile 'yolo'")
    assert "offline, net-read-only, workspace-write, workspace-net, trusted" in message


def test_unknown_security_profile_flags(load: Loader) -> None:
    assert _error(load, security_profile="yolo").startswith(
        "--profile yolo: unknown security profile 'yolo': choose one of offline")
    assert _error(load, sandbox_mode="all").startswith("-s all: unknown security profile")
    assert _error(load, "security_profile=yolo").startswith(
        "-c security_profile: unknown security profile 'yolo'")


def test_unknown_sandbox_mode_in_file(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('sandbox_mode = "workspace"\n')
    assert _error(load).startswith(
        f"{path}:1: sandbox_mode: Input should be 'read-only', 'workspace-write' or "
        "'danger-full-access'")


def test_conflicting_profile_flags(load: Loader) -> None:
    assert _error(load, security_profile="offline", sandbox_mode="workspace-write") == (
        "--profile offline: conflicts with -s workspace-write (workspace-write); pass only one")


def test_unknown_config_profile(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('model = "o3"\nprofile = "fats"\n[profiles.fast]\nmodel = "x"\n')
    assert _error(load) == (f"{path}:2: profile: unknown config profile 'fats' (defined: "
                            "fast); add [profiles.fats] or remove the key")
    assert _error(load, config_profile="nope") == (
        f"--config-profile nope: no [profiles.nope] in {path} (defined: fast)")
    assert _error(load, "profile=nope").startswith("-c profile: unknown config profile 'nope'")


def test_profiles_must_be_tables(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('profiles = { fast = "o3" }\n')
    assert _error(load).startswith(f"{path}:1: profiles.fast: must be a table")


def test_mcp_server_needs_one_transport(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('\n[mcp_servers.both]\ncommand = "x"\nurl = "http://y"\n')
    assert _error(load) == (f"{path}:2: mcp_servers.both: set exactly one of `command` "
                            "(stdio) or `url` (streamable HTTP)")


def test_model_provider_must_be_defined(write_config: WriteConfig, load: Loader) -> None:
    path = write_config('model_provider = "acme"\n')
    assert _error(load) == (f"{path}:1: model_provider: unknown provider 'acme': define "
                            "[model_providers.acme] or use one of azure, ollama, openai, "
                            "openrouter, oss")


def test_missing_cd_directory(load: Loader) -> None:
    assert _error(load, cd=Path("missing")) == (
        "-C missing: not a directory; pass an existing directory")


def test_unreadable_and_non_utf8_config(home: Path, load: Loader) -> None:
    (home / "config.toml").write_bytes(b'model = "\xff"\n')
    assert "not UTF-8 text" in _error(load)
    (home / "config.toml").unlink()
    (home / "config.toml").mkdir()
    assert _error(load).startswith(f"{home / 'config.toml'}: cannot read: ")


def test_unknown_override_keys_warn(load: Loader) -> None:
    config = load("file_opener=vscode", "model=o3")
    assert len(config.warnings) == 1
    assert "file_opener (-c)" in config.warnings[0]


def test_openai_base_url_env_sits_below_the_file(
    write_config: WriteConfig, load: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    config = load()
    assert config.model_providers["openai"].base_url == "http://127.0.0.1:1/v1"
    assert config.sources["model_providers.openai.base_url"] == "env OPENAI_BASE_URL"
    assert config.model_providers["openai"].wire_api == "responses"
    write_config('[model_providers.openai]\nbase_url = "http://file/v1"\n')
    assert load().sources["model_providers.openai.base_url"] == "config.toml:2"
    assert load().model_providers["openai"].base_url == "http://file/v1"


def test_provider_tables_remember_which_keys_were_set(
    write_config: WriteConfig, load: Loader
) -> None:
    write_config('[model_providers.local]\nbase_url = "http://127.0.0.1:1/v1"\n'
                 '[model_providers.azure]\nbase_url = "https://r.openai.azure.com/openai"\n')
    providers = load().model_providers
    assert providers["local"].model_fields_set == {"base_url"}
    assert providers["azure"].query_params == {"api-version": "2025-04-01-preview"}
    assert "wire_api" in providers["azure"].model_fields_set
    assert providers["ollama"].wire_api == "chat"
