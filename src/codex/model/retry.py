"""When and how long to wait before sending a model request again.

The server's word comes first (`retry-after-ms`, then `retry-after` in seconds or as an HTTP
date, then a "try again in 1.5s" hint inside an error message); without one, exponential backoff
with jitter. Delays are capped so a hostile or confused server cannot park a session for hours.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 409, 429})
BACKOFF_BASE_S = 0.2
BACKOFF_FACTOR = 2.0
JITTER = 0.1
MAX_DELAY_S = 60.0

_TRY_AGAIN = re.compile(r"try again in\s*([0-9]*\.?[0-9]+)\s*(ms|s|seconds?)\b", re.IGNORECASE)


def is_retryable_status(status: int) -> bool:
    """408, 409, 429 and every 5xx are worth another try."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked us to wait, or None when it did not say (or said nonsense)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms", "").strip()
    if millis:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return min(value, MAX_DELAY_S)
    after = lowered.get("retry-after", "").strip()
    if not after:
        return None
    try:
        seconds = float(after)
    except ValueError:
        try:
            when = parsedate_to_datetime(after)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = max(0.0, when.timestamp() - now())
    if seconds < 0:
        return None
    return min(seconds, MAX_DELAY_S)


def retry_after_from_message(message: str) -> float | None:
    """Parse the "Please try again in 1.2s" / "in 500ms" hint some error messages carry."""
    match = _TRY_AGAIN.search(message)
    if match is None:
        return None
    value = float(match.group(1))
    if match.group(2).lower() == "ms":
        value /= 1000.0
    return min(value, MAX_DELAY_S)


def backoff_delay(attempt: int, random: Callable[[], float]) -> float:
    """Exponential delay for retry number `attempt` (1-based), jittered by ±10%."""
    base = BACKOFF_BASE_S * BACKOFF_FACTOR ** max(0, attempt - 1)
    jitter = 1.0 + JITTER * (2.0 * random() - 1.0)
    return min(base * jitter, MAX_DELAY_S)
