"""Model access: providers, wire formats (Responses and Chat Completions), one event stream.

Public interface (used by the agent's turn loop):

    provider = resolve_provider(config.model_provider, config.model_providers, oss=oss)
    async with ModelClient(provider) as client:
        async for event in client.stream(Prompt(model=..., instructions=..., input=[...],
                                                tools=[FunctionTool(...), CustomTool(...)])):
            ...  # TextDelta, ReasoningDelta, Retrying, MessageItem, ReasoningItem, ToolCall,
                 # then one Completed(response_id, usage, status, items)

Errors are `ModelError` subclasses with a one-line message that says what to do. The event
ordering and retry contract are described in `codex.model.events` and `codex.model.client`.
Tool specs written as Responses API JSON (as `codex.tools` does) convert with `tool_from_dict`;
conversation items serialise with `item_to_dict` / `item_from_dict` (for rollouts).
Importing this package imports httpx; keep it off fast paths such as `codex --version`.
"""

from codex.model.client import ModelClient
from codex.model.errors import (
    AuthenticationError,
    ContextWindowExceededError,
    MissingApiKeyError,
    ModelConnectionError,
    ModelError,
    ModelHttpError,
    ModelResponseFailed,
    ModelStreamError,
    ProviderConfigError,
    QuotaExceededError,
)
from codex.model.events import (
    Completed,
    MessageItem,
    ModelEvent,
    OutputItem,
    ReasoningDelta,
    ReasoningItem,
    Retrying,
    TextDelta,
    ToolCall,
    Usage,
)
from codex.model.prompt import (
    CustomTool,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    InputItem,
    Message,
    Prompt,
    Reasoning,
    ReasoningOptions,
    ToolSpec,
    item_from_dict,
    item_to_dict,
    tool_from_dict,
)
from codex.model.provider import (
    BUILTIN_PROVIDERS,
    ProviderConfig,
    ResolvedProvider,
    resolve_provider,
)

__all__ = [
    "BUILTIN_PROVIDERS",
    "AuthenticationError",
    "Completed",
    "ContextWindowExceededError",
    "CustomTool",
    "CustomToolCall",
    "CustomToolCallOutput",
    "FunctionCall",
    "FunctionCallOutput",
    "FunctionTool",
    "InputItem",
    "Message",
    "MessageItem",
    "MissingApiKeyError",
    "ModelClient",
    "ModelConnectionError",
    "ModelError",
    "ModelEvent",
    "ModelHttpError",
    "ModelResponseFailed",
    "ModelStreamError",
    "OutputItem",
    "Prompt",
    "ProviderConfig",
    "ProviderConfigError",
    "QuotaExceededError",
    "Reasoning",
    "ReasoningDelta",
    "ReasoningItem",
    "ReasoningOptions",
    "ResolvedProvider",
    "Retrying",
    "TextDelta",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "item_from_dict",
    "item_to_dict",
    "resolve_provider",
    "tool_from_dict",
]
