"""Turning an error reported by a provider into the right `ModelError`, with advice.

Both wire formats and every place an error can appear (HTTP error body, `error` event,
`response.failed`, an error object after HTTP 200) go through `classify`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from codex.model.errors import (
    AuthenticationError,
    ContextWindowExceededError,
    ModelError,
    ModelHttpError,
    ModelResponseFailed,
    QuotaExceededError,
)
from codex.model.provider import ResolvedProvider
from codex.model.retry import is_retryable_status, retry_after_from_message

RETRYABLE_CODES = frozenset(
    {"server_error", "internal_error", "rate_limit_exceeded", "overloaded", "server_is_overloaded",
     "slow_down", "timeout", "service_unavailable"}
)
_CONTEXT_PHRASES = ("context_length_exceeded", "maximum context length", "context window",
                    "context length", "too many tokens")
_QUOTA_CODES = frozenset(
    {"insufficient_quota", "usage_limit_reached", "billing_hard_limit_reached"}
)
MAX_MESSAGE_CHARS = 500


def error_fields(payload: object) -> tuple[str | None, str]:
    """(code, message) from the shapes servers use: {"error": {...}}, top-level, or a string."""
    if isinstance(payload, Mapping):
        inner: Any = payload.get("error", payload)
        if isinstance(inner, str):
            return None, inner
        if isinstance(inner, Mapping):
            code = inner.get("code")
            if code is None and inner is not payload:
                code = inner.get("type")
            message = inner.get("message") or inner.get("detail") or payload.get("detail")
            if message is None:
                message = json.dumps(inner)[:MAX_MESSAGE_CHARS]
            return (str(code) if code is not None else None), str(message)[:MAX_MESSAGE_CHARS]
    return None, str(payload)[:MAX_MESSAGE_CHARS]


def parse_error_body(body: bytes) -> tuple[str | None, str]:
    """(code, message) from an HTTP error body that may or may not be JSON."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        return error_fields(json.loads(text))
    except ValueError:
        return None, text[:MAX_MESSAGE_CHARS] or "(empty body)"


def classify(
    provider: ResolvedProvider,
    code: str | None,
    message: str,
    *,
    status: int | None = None,
    retry_after_s: float | None = None,
) -> ModelError:
    """The exception for an error the provider reported; see the module docstring."""
    where = f"{provider.config.name} ({provider.endpoint})"
    if retry_after_s is None:
        retry_after_s = retry_after_from_message(message)
    lowered = f"{code or ''} {message}".lower()
    if status in (401, 403):
        key = provider.config.env_key
        fix = f"check that {key} holds a valid key with access to this model" if key else (
            "check the provider's credentials (http_headers / env_http_headers in config.toml)"
        )
        return AuthenticationError(f"{where} refused the request (HTTP {status}: {message}); {fix}")
    if any(phrase in lowered for phrase in _CONTEXT_PHRASES):
        return ContextWindowExceededError(
            f"the conversation is too long for the model's context window ({message}); "
            "start a new session or send less input"
        )
    if code in _QUOTA_CODES:
        return QuotaExceededError(
            f"{where} says the account is out of quota ({message}); check your plan and billing"
        )
    if status is not None:
        retryable = is_retryable_status(status)
        hint = ""
        if status == 404:
            hint = "; check the model name and the provider's base_url"
        elif status == 400:
            hint = "; the request was rejected as invalid"
        return ModelHttpError(
            f"{where} answered HTTP {status}: {message}{hint}",
            status=status,
            retryable=retryable,
            retry_after_s=retry_after_s,
        )
    # No code, a known transient code, or an HTTP status as code (OpenRouter mid-stream errors).
    retryable = code is None or code in RETRYABLE_CODES or (
        code.isdigit() and is_retryable_status(int(code))
    )
    return ModelResponseFailed(
        f"{where} reported an error: {message}" + (f" (code {code})" if code else ""),
        code=code,
        retryable=retryable,
        retry_after_s=retry_after_s,
    )
