"""Errors a model client raises; each message says what happened and what to do about it.

`retryable` marks the transient ones; the client retries those itself, so a caller only sees
them once the retry budget is spent (the message then says how many attempts were made).
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class: the turn cannot get an answer from the model."""

    retryable: bool = False

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ProviderConfigError(ModelError):
    """The provider configuration cannot be used (unknown id, missing base_url, bad wire_api)."""


class MissingApiKeyError(ProviderConfigError):
    """The provider needs an API key from an environment variable that is not set."""

    def __init__(self, message: str, *, env_key: str) -> None:
        super().__init__(message)
        self.env_key = env_key


class AuthenticationError(ModelError):
    """HTTP 401/403: the key is wrong, expired or lacks access. Never retried."""


class ContextWindowExceededError(ModelError):
    """The conversation no longer fits the model's context window. Never retried."""


class QuotaExceededError(ModelError):
    """The account is out of quota or credits. Never retried (waiting does not help)."""


class ModelHttpError(ModelError):
    """An HTTP error status from the provider."""

    def __init__(
        self, message: str, *, status: int, retryable: bool, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.status = status
        self.retryable = retryable


class ModelConnectionError(ModelError):
    """The provider could not be reached (refused, DNS, TLS, reset before a response)."""

    retryable = True


class ModelStreamError(ModelError):
    """The response stream broke: disconnected, idle too long, ended early, or malformed."""

    retryable = True


class ModelResponseFailed(ModelError):
    """The server reported an error inside the stream (`error` event, `response.failed`, or an
    error object after HTTP 200)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None,
        retryable: bool,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.code = code
        self.retryable = retryable
