"""The shape of config.toml: the Codex CLI's keys plus ours (`security_profile`, `audit`).

Validation is strict (TOML already carries types, so `network_access = "yes"` is an error, not
a silent `True`), and unknown keys are ignored here: the loader reports them as a warning so a
user's existing Codex config keeps working.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile, parse_profile

DEFAULT_MODEL = "gpt-5-codex"
DEFAULT_PROVIDER = "openai"

# Providers every installation knows; a `[model_providers.<id>]` table with the same id is
# merged over the built-in entry (so `base_url` alone can point `openai` at a proxy).
BUILTIN_PROVIDERS: dict[str, dict[str, Any]] = {
    "openai": {
        "name": "OpenAI",
        "base_url": "https://api.openai.com/v1",
        "env_key": "OPENAI_API_KEY",
        "env_key_instructions": "create a key at https://platform.openai.com/api-keys",
        "wire_api": "responses",
        "requires_openai_auth": True,
    },
    "azure": {
        # No base_url: it names the user's own resource, so they must set it.
        "name": "Azure OpenAI",
        "env_key": "AZURE_OPENAI_API_KEY",
        "env_key_instructions": "copy a key from your Azure OpenAI resource (Keys and Endpoint)",
        "wire_api": "responses",
        "query_params": {"api-version": "2025-04-01-preview"},
    },
    "ollama": {
        "name": "Ollama",
        "base_url": "http://localhost:11434/v1",
        "wire_api": "chat",
    },
    "oss": {
        "name": "Open Source (local)",
        "base_url": "http://localhost:11434/v1",
        "wire_api": "chat",
    },
    "openrouter": {
        "name": "OpenRouter",
        "base_url": "https://openrouter.ai/api/v1",
        "env_key": "OPENROUTER_API_KEY",
        "env_key_instructions": "create a key at https://openrouter.ai/keys",
        "wire_api": "chat",
    },
}

CodexSandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]


def _profile_name(value: object) -> object:
    """Accept any profile name or alias; pass other types on so strict typing reports them."""
    if isinstance(value, str):
        return parse_profile(value)
    return value


class Section(BaseModel):
    """Base for every table: strict types, unknown keys left to the loader's warning."""

    model_config = ConfigDict(strict=True, extra="ignore")


class ModelProviderConfig(Section):
    """`[model_providers.<id>]`: where and how to reach a model API."""

    name: str | None = None
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    wire_api: Literal["responses", "chat"] = "chat"
    query_params: dict[str, str] | None = None
    http_headers: dict[str, str] = Field(default_factory=dict)
    env_http_headers: dict[str, str] = Field(default_factory=dict)
    request_max_retries: int = Field(default=4, ge=0, le=100)
    stream_max_retries: int = Field(default=5, ge=0, le=100)
    stream_idle_timeout_ms: int = Field(default=300_000, gt=0)
    requires_openai_auth: bool = False


class SandboxWorkspaceWrite(Section):
    """`[sandbox_workspace_write]`: extra writable roots and network for workspace-write."""

    writable_roots: list[Annotated[Path, Field(strict=False)]] = Field(default_factory=list)
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False


class ShellEnvironmentPolicy(Section):
    """`[shell_environment_policy]`: which variables a spawned command inherits."""

    inherit: Literal["all", "core", "none"] = "all"
    ignore_default_excludes: bool = False
    exclude: list[str] = Field(default_factory=list)
    set: dict[str, str] = Field(default_factory=dict)
    include_only: list[str] = Field(default_factory=list)
    experimental_use_profile: bool = False


class McpServerConfig(Section):
    """`[mcp_servers.<id>]`: a stdio server (`command`) or a Streamable HTTP one (`url`)."""

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Annotated[Path, Field(strict=False)] | None = None
    url: str | None = None
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] = Field(default_factory=dict)
    env_http_headers: dict[str, str] = Field(default_factory=dict)
    startup_timeout_sec: float = Field(default=10.0, gt=0)
    tool_timeout_sec: float = Field(default=60.0, gt=0)
    enabled: bool = True
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("set exactly one of `command` (stdio) or `url` (streamable HTTP)")
        return self


class HistoryConfig(Section):
    """`[history]`: whether prompts are saved to CODEX_HOME/history.jsonl."""

    persistence: Literal["save-all", "none"] = "save-all"
    max_bytes: int | None = Field(default=None, ge=0)


class AuditConfig(Section):
    """`[audit]` (ours): the hash-chained log of every allow/deny decision."""

    enabled: bool = True
    dir: Annotated[Path, Field(strict=False)] | None = None


class ResearchProviderConfig(Section):
    """`[research.<provider>]`: where a search API lives and which env var holds its key."""

    base_url: str | None = None
    api_key_env: str | None = None


class ResearchConfig(Section):
    """`[research]` (ours): `codex research` providers, network rules, de-dup and bias limits."""

    providers: list[Literal["brave", "tavily", "searxng"]] = Field(default_factory=list)
    # Unset keys take the provider's defaults (codex.research.providers.DEFAULTS).
    brave: ResearchProviderConfig = Field(default_factory=ResearchProviderConfig)
    tavily: ResearchProviderConfig = Field(default_factory=ResearchProviderConfig)
    searxng: ResearchProviderConfig = Field(default_factory=ResearchProviderConfig)
    results_per_query: int = Field(default=5, ge=1, le=50)
    max_pages: int = Field(default=30, ge=1)
    simhash_max_distance: int = Field(default=8, ge=0, le=64)
    passage_jaccard_threshold: float = Field(default=0.7, gt=0, le=1)
    minhash_num_perm: int = Field(default=128, ge=16, le=1024)
    dominant_share_warning: float = Field(default=0.30, gt=0, le=1)
    trust_file: Annotated[Path, Field(strict=False)] | None = None
    allow_networks: list[str] = Field(default_factory=list)
    respect_robots: bool = True
    max_page_bytes: int = Field(default=2_000_000, ge=1024)
    fetch_timeout_s: float = Field(default=15.0, gt=0)
    per_host_concurrency: int = Field(default=2, ge=1)
    max_redirects: int = Field(default=5, ge=0)
    cache_ttl_s: int = Field(default=86_400, ge=0)


class Settings(Section):
    """Every key config.toml, a `[profiles.NAME]` table or `-c` may set."""

    model: str = DEFAULT_MODEL
    model_provider: str = DEFAULT_PROVIDER
    model_providers: dict[str, ModelProviderConfig] = Field(
        default_factory=lambda: {k: ModelProviderConfig(**v) for k, v in BUILTIN_PROVIDERS.items()}
    )
    approval_policy: Annotated[ApprovalPolicy, Field(strict=False)] = ApprovalPolicy.ON_REQUEST
    sandbox_mode: CodexSandboxMode | None = None
    security_profile: Annotated[
        SecurityProfile | None, BeforeValidator(_profile_name)
    ] = None
    sandbox_workspace_write: SandboxWorkspaceWrite = Field(default_factory=SandboxWorkspaceWrite)
    shell_environment_policy: ShellEnvironmentPolicy = Field(
        default_factory=ShellEnvironmentPolicy)
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    project_doc_max_bytes: int = Field(default=32 * 1024, ge=0)
    project_doc_fallback_filenames: list[str] = Field(default_factory=list)
    notify: list[str] | None = None
    audit: AuditConfig = Field(default_factory=AuditConfig)
    research: ResearchConfig = Field(default_factory=ResearchConfig)
    # Hard cap on model requests per task in the agent's turn loop (`codex exec --max-turns`).
    agent_max_turns: int = Field(default=100, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _merge_builtin_providers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        user = data.get("model_providers", {})
        if not isinstance(user, dict):
            return data
        merged: dict[str, Any] = {k: dict(v) for k, v in BUILTIN_PROVIDERS.items()}
        for key, value in user.items():
            if isinstance(value, dict) and key in merged:
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return {**data, "model_providers": merged}


# Keys valid at the top of config.toml besides the settings themselves.
SELECTION_KEYS: frozenset[str] = frozenset({"profile", "profiles"})
