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
from codex.security.profiles import SecurityProfile, UnknownProfileError, parse_profile

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
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra",
                          "persistent"]


def _profile_name(value: object) -> object:
    """Accept any profile name or alias; another string may name a `[permissions.NAME]`
    table (the loader checks it); other types pass on so strict typing reports them."""
    if isinstance(value, str):
        try:
            return parse_profile(value)
        except UnknownProfileError:
            return value.strip()
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
    namespace_tools: bool = True


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


McpApprovalMode = Literal["auto", "prompt", "approve"]


class McpToolConfig(Section):
    """`[mcp_servers.<id>.tools.<tool>]`: per-tool settings (the Codex CLI's approval_mode)."""

    approval_mode: McpApprovalMode | None = None


class McpServerConfig(Section):
    """`[mcp_servers.<id>]`: a stdio server (`command`) or a Streamable HTTP one (`url`).

    The Codex CLI's keys, plus `sandbox` (ours): the security profile a stdio server runs
    under, `inherit` (the session's) by default, or `none` for no confinement.
    """

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    env_vars: list[str] = Field(default_factory=list)
    cwd: Annotated[Path, Field(strict=False)] | None = None
    url: str | None = None
    bearer_token: str | None = None
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] = Field(default_factory=dict)
    env_http_headers: dict[str, str] = Field(default_factory=dict)
    startup_timeout_sec: float = Field(default=30.0, gt=0, strict=False)
    startup_timeout_ms: int | None = Field(default=None, gt=0)
    tool_timeout_sec: float = Field(default=60.0, gt=0, strict=False)
    enabled: bool = True
    required: bool = False
    supports_parallel_tool_calls: bool = False
    default_tools_approval_mode: McpApprovalMode | None = None
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None
    scopes: list[str] | None = None
    oauth_resource: str | None = None
    name: str | None = None
    tools: dict[str, McpToolConfig] = Field(default_factory=dict)
    sandbox: str = "inherit"
    # Longest tool output the model reads inline (about 4 bytes a token); more goes to a file.
    output_token_limit: int = Field(default=10_000, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("set exactly one of `command` (stdio) or `url` (streamable HTTP)")
        if self.bearer_token is not None:
            raise ValueError("`bearer_token` is not supported: put the token in an environment "
                             "variable and name it with `bearer_token_env_var`")
        wrong = _STDIO_ONLY if self.url is not None else _HTTP_ONLY
        transport = "streamable HTTP (`url`)" if self.url is not None else "stdio (`command`)"
        for key in sorted(wrong & self.model_fields_set):
            raise ValueError(f"`{key}` is not supported for a {transport} server")
        if self.sandbox not in ("inherit", "none"):
            parse_profile(self.sandbox)  # UnknownProfileError (a ValueError) names the choices
        return self

    @property
    def startup_timeout_s(self) -> float:
        """`startup_timeout_sec`, or `startup_timeout_ms` when only that one is set."""
        if "startup_timeout_sec" not in self.model_fields_set and \
                self.startup_timeout_ms is not None:
            return self.startup_timeout_ms / 1000.0
        return self.startup_timeout_sec


_STDIO_ONLY = frozenset({"args", "env", "env_vars", "cwd", "sandbox"})
_HTTP_ONLY = frozenset({"bearer_token_env_var", "http_headers", "env_http_headers",
                        "oauth_resource"})


class HistoryConfig(Section):
    """`[history]`: whether prompts are saved to CODEX_HOME/history.jsonl."""

    persistence: Literal["save-all", "none"] = "save-all"
    max_bytes: int | None = Field(default=None, ge=0)


class TuiConfig(Section):
    """`[tui]`: the interactive UI. `notifications`: an OSC 9 desktop notification when an
    approval is needed or a turn ends."""

    notifications: bool = False


class AuditConfig(Section):
    """`[audit]` (ours): the hash-chained log of every allow/deny decision."""

    enabled: bool = True
    dir: Annotated[Path, Field(strict=False)] | None = None


class AgentsConfig(Section):
    """`[agents]`: sub-agents (spawn_agent, send_input, wait_agents, close_agent) and the
    defaults of `codex fanout`. `enabled` offers the sub-agent tools to the model."""

    enabled: bool = False
    max_threads: int = Field(default=6, ge=1)
    max_depth: int = Field(default=1, ge=0)
    job_max_runtime_seconds: int = Field(default=1800, gt=0)


class ResearchProviderConfig(Section):
    """`[research.<provider>]`: where a search API lives and which env var holds its key."""

    base_url: str | None = None
    api_key_env: str | None = None


class ResearchMcpConfig(Section):
    """`[research.mcp]`: search through a tool of one of the `[mcp_servers]`."""

    server: str | None = None
    tool: str = "search"
    query_argument: str = "query"
    count_argument: str | None = None


class ResearchConfig(Section):
    """`[research]` (ours): `codex research` providers, network rules, de-dup and bias limits."""

    providers: list[Literal["brave", "tavily", "searxng", "mcp"]] = Field(default_factory=list)
    mcp: ResearchMcpConfig = Field(default_factory=ResearchMcpConfig)
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
        SecurityProfile | str | None, BeforeValidator(_profile_name)
    ] = None
    # The Codex CLI's permission profiles: `[permissions.NAME]` tables, checked and resolved
    # by codex.security.permissions (the loader reports their errors with file and line).
    default_permissions: str | None = None
    permissions: dict[str, Any] = Field(default_factory=dict)
    sandbox_workspace_write: SandboxWorkspaceWrite = Field(default_factory=SandboxWorkspaceWrite)
    shell_environment_policy: ShellEnvironmentPolicy = Field(
        default_factory=ShellEnvironmentPolicy)
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    project_doc_max_bytes: int = Field(default=32 * 1024, ge=0)
    project_doc_fallback_filenames: list[str] = Field(default_factory=list)
    notify: list[str] | None = None
    tui: TuiConfig = Field(default_factory=TuiConfig)
    # Tokens the model can attend to; the interactive UI shows "N% context left" when known.
    model_context_window: int | None = Field(default=None, gt=0)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    # `[plugins.<id>]` (ours): WASM plugin grants, validated and edited by codex.plugins.grants.
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    research: ResearchConfig = Field(default_factory=ResearchConfig)
    # Hard cap on model requests per task in the agent's turn loop (`codex exec --max-turns`).
    agent_max_turns: int = Field(default=100, ge=1)
    # The Codex CLI's keys the TypeScript SDK sets: the openai provider's URL (the SDK's
    # `baseUrl`; an explicit model_providers.openai.base_url still wins) and the effort sent
    # as the request's reasoning effort.
    openai_base_url: str | None = None
    model_reasoning_effort: ReasoningEffort | None = None
    agents: AgentsConfig = Field(default_factory=AgentsConfig)

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
