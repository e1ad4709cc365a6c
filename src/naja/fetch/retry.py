"""When to try again and how long to wait: backoff with jitter, Retry-After, retryable status."""

from __future__ import annotations

import email.utils
import random
import time

from naja.fetch.config import RetryPolicy

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(policy: RetryPolicy, attempt: int, retry_after: float | None = None) -> float:
    """How long to sleep before attempt `attempt + 1` (attempt counts from 1)."""
    if retry_after is not None:
        return min(retry_after, policy.max_retry_after)
    ceiling = min(policy.backoff_cap, policy.backoff_base * (2 ** (attempt - 1)))
    # Full jitter spreads the retries of many parallel downloads that failed together.
    return random.uniform(ceiling / 2, ceiling)
