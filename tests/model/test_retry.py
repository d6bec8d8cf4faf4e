"""Retry delays: what the server says first, then exponential backoff with jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from codex.model.retry import (
    MAX_DELAY_S,
    backoff_delay,
    is_retryable_status,
    retry_after_from_headers,
    retry_after_from_message,
)


def test_retryable_statuses() -> None:
    assert all(is_retryable_status(s) for s in (408, 409, 429, 500, 502, 503, 599))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 422))


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after_from_headers({"Retry-After-Ms": "1500", "Retry-After": "9"}) == 1.5


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after_from_headers({"retry-after": "3"}) == 3.0
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert retry_after_from_headers({"retry-after": date}, now=now.timestamp) == 7.0
    past = format_datetime(now - timedelta(seconds=7), usegmt=True)
    assert retry_after_from_headers({"retry-after": past}, now=now.timestamp) == 0.0


def test_nonsense_or_huge_retry_after() -> None:
    assert retry_after_from_headers({"retry-after": "soon"}) is None
    assert retry_after_from_headers({"retry-after": "-4"}) is None
    assert retry_after_from_headers({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    assert retry_after_from_headers({"retry-after": "86400"}) == MAX_DELAY_S
    assert retry_after_from_headers({}) is None


def test_try_again_hint_in_messages() -> None:
    assert retry_after_from_message("Rate limit reached. Please try again in 1.25s.") == 1.25
    assert retry_after_from_message("try again in 300ms") == 0.3
    assert retry_after_from_message("no hint here") is None


def test_backoff_grows_and_is_jittered() -> None:
    middle = [backoff_delay(n, lambda: 0.5) for n in (1, 2, 3, 4)]
    assert middle == [0.2, 0.4, 0.8, 1.6]
    assert backoff_delay(1, lambda: 0.0) < 0.2 < backoff_delay(1, lambda: 0.999)
    assert backoff_delay(40, lambda: 0.5) == MAX_DELAY_S
