"""Provider resolution: built-ins, user tables, env overrides, and the errors users see."""

from __future__ import annotations

import pytest

from codex.config.schema import Settings
from codex.model import MissingApiKeyError, ProviderConfigError, resolve_provider


def test_openai_default_needs_its_key_and_says_how_to_set_it() -> None:
    with pytest.raises(MissingApiKeyError) as caught:
        resolve_provider(None, {}, env={})
    message = str(caught.value)
    assert "OPENAI_API_KEY is not set" in message
    assert "export OPENAI_API_KEY=" in message
    assert "--oss" in message


def test_openai_with_key() -> None:
    provider = resolve_provider("openai", {}, env={"OPENAI_API_KEY": "sk-test"})
    assert provider.endpoint == "https://api.openai.com/v1/responses"
    assert provider.wire_api == "responses"
    assert provider.headers["Authorization"] == "Bearer sk-test"


def test_openai_base_url_env_overrides_the_default_url() -> None:
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://proxy.local/v1/"}
    assert resolve_provider("openai", {}, env=env).endpoint == "http://proxy.local/v1/responses"


def test_explicit_base_url_in_config_wins_over_openai_base_url() -> None:
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://proxy.local/v1"}
    tables = {"openai": {"base_url": "http://mine.local/v1"}}
    assert resolve_provider("openai", tables, env=env).base_url == "http://mine.local/v1"


def test_tables_from_the_config_layer_are_accepted() -> None:
    settings = Settings.model_validate({"model_providers": {
        "local": {"base_url": "http://127.0.0.1:9/v1", "wire_api": "responses",
                  "env_key": "LOCAL_KEY", "request_max_retries": 2,
                  "http_headers": {"X-Team": "core"}},
    }})
    env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://proxy.local/v1", "LOCAL_KEY": "s"}
    local = resolve_provider("local", settings.model_providers, env=env)
    assert local.endpoint == "http://127.0.0.1:9/v1/responses"
    assert local.config.request_max_retries == 2
    assert local.headers["X-Team"] == "core"
    assert local.headers["Authorization"] == "Bearer s"
    # The config layer copies the built-in openai URL into its table; the env var still applies.
    openai = resolve_provider("openai", settings.model_providers, env=env)
    assert openai.base_url == "http://proxy.local/v1"


def test_azure_needs_a_base_url() -> None:
    with pytest.raises(ProviderConfigError) as caught:
        resolve_provider("azure", {}, env={"AZURE_OPENAI_API_KEY": "k"})
    assert "model_providers.azure.base_url" in str(caught.value)
    assert "openai.azure.com" in str(caught.value)


def test_azure_with_base_url_sends_api_version_and_api_key() -> None:
    tables = {"azure": {"base_url": "https://res.openai.azure.com/openai"}}
    provider = resolve_provider("azure", tables, env={"AZURE_OPENAI_API_KEY": "az"})
    assert provider.endpoint == "https://res.openai.azure.com/openai/responses"
    assert provider.query_params == {"api-version": "2025-04-01-preview"}
    assert provider.headers["api-key"] == "az"


def test_azure_missing_key_names_azure_variable() -> None:
    tables = {"azure": {"base_url": "https://res.openai.azure.com/openai"}}
    with pytest.raises(MissingApiKeyError, match="AZURE_OPENAI_API_KEY"):
        resolve_provider("azure", tables, env={})


def test_oss_flag_selects_local_chat_provider_without_key() -> None:
    provider = resolve_provider("openai", {}, env={}, oss=True)
    assert provider.id == "oss"
    assert provider.endpoint == "http://localhost:11434/v1/chat/completions"
    assert "Authorization" not in provider.headers


def test_ollama_and_oss_port_override() -> None:
    provider = resolve_provider("ollama", {}, env={"CODEX_OSS_PORT": "8080"})
    assert provider.base_url == "http://localhost:8080/v1"
    assert provider.wire_api == "chat"


def test_openrouter_is_chat_and_needs_its_key() -> None:
    with pytest.raises(MissingApiKeyError, match="OPENROUTER_API_KEY"):
        resolve_provider("openrouter", {}, env={})
    provider = resolve_provider("openrouter", {}, env={"OPENROUTER_API_KEY": "or"})
    assert provider.endpoint == "https://openrouter.ai/api/v1/chat/completions"


def test_env_http_headers_are_read_when_set() -> None:
    tables = {"corp": {"base_url": "http://x/v1", "env_http_headers": {
        "X-Org": "CORP_ORG", "X-Absent": "NOT_SET"}}}
    provider = resolve_provider("corp", tables, env={"CORP_ORG": "acme"})
    assert provider.headers["X-Org"] == "acme"
    assert "X-Absent" not in provider.headers
    assert provider.wire_api == "chat"  # the default for user-defined providers


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(ProviderConfigError) as caught:
        resolve_provider("nope", {"mine": {"base_url": "http://x"}}, env={})
    message = str(caught.value)
    assert "[model_providers.nope]" in message
    assert "mine" in message and "openrouter" in message


@pytest.mark.parametrize(("key", "value"), [("wire_api", "soap"), ("stream_max_retries", -1),
                                            ("request_max_retries", "3")])
def test_bad_values_name_the_key(key: str, value: object) -> None:
    tables = {"p": {"base_url": "http://x", key: value}}
    with pytest.raises(ProviderConfigError, match=f"model_providers.p.{key}"):
        resolve_provider("p", tables, env={})


def test_base_url_needs_a_scheme() -> None:
    with pytest.raises(ProviderConfigError, match="must start with http:// or https://"):
        resolve_provider("p", {"p": {"base_url": "localhost:1234/v1"}}, env={})


def test_retry_budgets_are_capped() -> None:
    tables = {"p": {"base_url": "http://x", "request_max_retries": 10_000}}
    assert resolve_provider("p", tables, env={}).config.request_max_retries == 100
