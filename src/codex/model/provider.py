"""Model providers: the built-ins, merging user configuration, and resolving a usable endpoint.

The config layer (`codex.config`, `model_provider` + `model_providers.<id>`) hands its provider
tables to `resolve_provider`; each table may be a mapping or any object with the same attribute
names (for example a pydantic model), and only the keys the user set need to be present.
A user table for a built-in id overrides just the fields it names. `OPENAI_BASE_URL` replaces
the openai built-in's default URL (an explicit `base_url` in config still wins, and so does
the `openai_base_url` key); `CODEX_OSS_BASE_URL` / `CODEX_OSS_PORT` do the same for the local
providers `oss` (which `--oss` selects, as in the Codex CLI) and `ollama`. `CODEX_API_KEY` is
the openai built-in's key ahead of `OPENAI_API_KEY`. A provider defined only by the user
defaults to the "chat" wire format, like the Codex CLI and `codex.config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, cast

from codex.model.errors import MissingApiKeyError, ProviderConfigError

WireApi = Literal["responses", "chat"]

DEFAULT_REQUEST_MAX_RETRIES = 4
DEFAULT_STREAM_MAX_RETRIES = 5
DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000
MAX_RETRIES_CAP = 100
OSS_PROVIDER_ID = "oss"
_LOCAL_PROVIDERS = frozenset({"oss", "ollama"})
AZURE_DEFAULT_API_VERSION = "2025-04-01-preview"
CODEX_API_KEY_ENV = "CODEX_API_KEY"


@dataclass(frozen=True)
class ProviderConfig:
    """One `model_providers.<id>` table, with defaults filled in."""

    name: str
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    wire_api: WireApi = "responses"
    query_params: Mapping[str, str] = field(default_factory=dict)
    http_headers: Mapping[str, str] = field(default_factory=dict)
    env_http_headers: Mapping[str, str] = field(default_factory=dict)
    request_max_retries: int = DEFAULT_REQUEST_MAX_RETRIES
    stream_max_retries: int = DEFAULT_STREAM_MAX_RETRIES
    stream_idle_timeout_ms: int = DEFAULT_STREAM_IDLE_TIMEOUT_MS
    requires_api_key: bool = True
    # Responses only: MCP tools go in namespace tools (the Codex CLI's provider capability of
    # the same name, on by default); false sends them as flat functions.
    namespace_tools: bool = True


BUILTIN_PROVIDERS: Mapping[str, ProviderConfig] = {
    "openai": ProviderConfig(
        name="OpenAI",
        base_url="https://api.openai.com/v1",
        env_key="OPENAI_API_KEY",
        env_key_instructions="create a key at https://platform.openai.com/api-keys",
        wire_api="responses",
    ),
    "azure": ProviderConfig(
        name="Azure OpenAI",
        base_url=None,
        env_key="AZURE_OPENAI_API_KEY",
        env_key_instructions="copy a key from your Azure OpenAI resource (Keys and Endpoint)",
        wire_api="responses",
        query_params={"api-version": AZURE_DEFAULT_API_VERSION},
    ),
    "ollama": ProviderConfig(
        name="Ollama",
        base_url="http://localhost:11434/v1",
        wire_api="chat",
        requires_api_key=False,
    ),
    # The Codex CLI's id for the local provider; `--oss` selects it (same defaults as ollama).
    "oss": ProviderConfig(
        name="Open Source (local)",
        base_url="http://localhost:11434/v1",
        wire_api="chat",
        requires_api_key=False,
    ),
    "openrouter": ProviderConfig(
        name="OpenRouter",
        base_url="https://openrouter.ai/api/v1",
        env_key="OPENROUTER_API_KEY",
        env_key_instructions="create a key at https://openrouter.ai/keys",
        wire_api="chat",
    ),
}


@dataclass(frozen=True)
class ResolvedProvider:
    """A provider ready to call: URL, auth and limits settled."""

    id: str
    config: ProviderConfig
    base_url: str
    headers: Mapping[str, str]
    query_params: Mapping[str, str]

    @property
    def wire_api(self) -> WireApi:
        """Which wire format the provider speaks."""
        return self.config.wire_api

    @property
    def endpoint(self) -> str:
        """The URL a turn is POSTed to."""
        path = "/responses" if self.wire_api == "responses" else "/chat/completions"
        return self.base_url.rstrip("/") + path


_FIELD_NAMES = frozenset(f.name for f in fields(ProviderConfig))
_INT_FIELDS = ("request_max_retries", "stream_max_retries", "stream_idle_timeout_ms")
_MAP_FIELDS = ("query_params", "http_headers", "env_http_headers")


def provider_settings(table: object) -> dict[str, Any]:
    """The keys a user set in one provider table (a mapping or a pydantic-like model)."""
    if isinstance(table, Mapping):
        raw = dict(table)
    elif hasattr(table, "model_dump"):
        raw = cast(dict[str, Any], table.model_dump(exclude_unset=True))
    else:
        raw = {name: getattr(table, name) for name in _FIELD_NAMES if hasattr(table, name)}
    return {key: value for key, value in raw.items() if key in _FIELD_NAMES and value is not None}


def merge_provider(provider_id: str, base: ProviderConfig | None, table: object) -> ProviderConfig:
    """Apply the user's table for `provider_id` over the built-in `base` (if any)."""
    settings = provider_settings(table)
    where = f"model_providers.{provider_id}"
    if "wire_api" in settings and settings["wire_api"] not in ("responses", "chat"):
        raise ProviderConfigError(
            f"{where}.wire_api: expected \"responses\" or \"chat\", got {settings['wire_api']!r}"
        )
    for key in _INT_FIELDS:
        if key in settings:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProviderConfigError(
                    f"{where}.{key}: expected a non-negative integer, got {value!r}"
                )
    if not isinstance(settings.get("namespace_tools", True), bool):
        raise ProviderConfigError(f"{where}.namespace_tools: expected true or false, got "
                                  f"{settings['namespace_tools']!r}")
    for key in _MAP_FIELDS:
        if key in settings:
            settings[key] = {str(k): str(v) for k, v in dict(settings[key]).items()}
    if base is None:
        settings.setdefault("name", provider_id)
        settings.setdefault("wire_api", "chat")  # the Codex CLI's default for custom providers
        if "env_key" not in settings:
            settings.setdefault("requires_api_key", False)
        return ProviderConfig(**settings)
    if "env_key" in settings and "requires_api_key" not in settings:
        settings["requires_api_key"] = True
    return replace(base, **settings)


def resolve_provider(
    provider_id: str | None,
    providers: Mapping[str, object] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    oss: bool = False,
    openai_base_url: str | None = None,
) -> ResolvedProvider:
    """Pick and resolve the provider for a session.

    `provider_id` is the config's `model_provider` (None means openai); `oss=True` (`--oss`)
    selects ollama; `openai_base_url` (the config key) replaces the openai built-in's URL
    ahead of OPENAI_BASE_URL. Raises `ProviderConfigError` / `MissingApiKeyError` with a
    one-line fix.
    """
    env = os.environ if env is None else env
    chosen = OSS_PROVIDER_ID if oss else (provider_id or "openai")
    user_tables = providers or {}
    base = BUILTIN_PROVIDERS.get(chosen)
    user_table = user_tables.get(chosen)
    if base is None and user_table is None:
        known = ", ".join(sorted({*BUILTIN_PROVIDERS, *user_tables}))
        raise ProviderConfigError(
            f"unknown model provider {chosen!r}; define [model_providers.{chosen}] in config.toml "
            f"or choose one of: {known}"
        )
    config = merge_provider(chosen, base, user_table if user_table is not None else {})
    # A table that repeats the built-in URL (the config layer merges built-ins in) is not an
    # explicit choice, so OPENAI_BASE_URL still applies to it.
    user_url = provider_settings(user_table if user_table is not None else {}).get("base_url")
    user_set_url = user_url is not None and (base is None or user_url != base.base_url)
    base_url = config.base_url
    if not user_set_url:
        configured = openai_base_url if chosen == "openai" else None
        base_url = configured or _env_base_url(chosen, env) or base_url
    if not base_url:
        hint = (
            "https://<resource>.openai.azure.com/openai" if chosen == "azure" else "the API's URL"
        )
        raise ProviderConfigError(
            f"model_providers.{chosen}.base_url is not set; set it to {hint} in config.toml"
        )
    if not base_url.startswith(("http://", "https://")):
        raise ProviderConfigError(
            f"model_providers.{chosen}.base_url must start with http:// or https://, "
            f"got {base_url!r}"
        )
    config = replace(
        config,
        base_url=base_url,
        request_max_retries=min(config.request_max_retries, MAX_RETRIES_CAP),
        stream_max_retries=min(config.stream_max_retries, MAX_RETRIES_CAP),
    )
    headers = dict(config.http_headers)
    for header, variable in config.env_http_headers.items():
        value = env.get(variable, "")
        if value.strip():
            headers[header] = value.strip()
    api_key = _api_key(chosen, config, env)
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
        if chosen == "azure" or ".azure." in base_url:
            headers["api-key"] = api_key
    return ResolvedProvider(
        id=chosen,
        config=config,
        base_url=base_url,
        headers=headers,
        query_params=dict(config.query_params),
    )


def _env_base_url(provider_id: str, env: Mapping[str, str]) -> str | None:
    if provider_id == "openai":
        return env.get("OPENAI_BASE_URL", "").strip() or None
    if provider_id in _LOCAL_PROVIDERS:
        url = env.get("CODEX_OSS_BASE_URL", "").strip()
        if url:
            return url
        port = env.get("CODEX_OSS_PORT", "").strip()
        if port.isdigit():
            return f"http://localhost:{port}/v1"
    return None


def _api_key(provider_id: str, config: ProviderConfig, env: Mapping[str, str]) -> str | None:
    if not config.env_key:
        return None
    # CODEX_API_KEY (what the TypeScript SDK's `apiKey` sets) wins for the openai built-in,
    # as in the Codex CLI's `exec`.
    key = (env.get(CODEX_API_KEY_ENV, "").strip() if provider_id == "openai" else "") or \
        env.get(config.env_key, "").strip()
    if key:
        return key
    if not config.requires_api_key:
        return None
    how = f" ({config.env_key_instructions})" if config.env_key_instructions else ""
    alternative = "" if provider_id in _LOCAL_PROVIDERS else ", or run with --oss for a local model"
    raise MissingApiKeyError(
        f"{config.env_key} is not set but model provider {provider_id!r} needs it: "
        f"export {config.env_key}=<your key>{how}{alternative}",
        env_key=config.env_key,
    )
