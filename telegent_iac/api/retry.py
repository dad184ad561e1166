"""Which failures may be retried, and how long to wait (pure functions).

A create is not idempotent: it is retried only when the request certainly did not take
effect. Everything else that is safe to repeat (reads, token requests, updates, deletes) is
retried on transient failures with exponential backoff and full jitter.
"""

from __future__ import annotations

import enum
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REFRESH_STATUSES = frozenset({401, 403})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


class Outcome(enum.Enum):
    """What to do after one attempt that did not succeed."""

    RETRY = "retry"  # transient, and this request may be repeated
    AMBIGUOUS = "ambiguous"  # may have taken effect; a create must not be repeated
    FAIL = "fail"  # a definite error answer


def classify_status(status: int, *, repeatable: bool) -> Outcome:
    """After an HTTP error status (not 401/403, which refresh the token instead)."""
    if status == 429:
        return Outcome.RETRY  # rate limited: the request was refused, nothing happened
    if status in TRANSIENT_STATUSES:
        return Outcome.RETRY if repeatable else Outcome.AMBIGUOUS
    return Outcome.FAIL


# Transport errors raised before any byte of the request was written.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def request_not_sent(exc: Exception) -> bool:
    return isinstance(exc, _NOT_SENT)


def classify_exception(exc: Exception, *, repeatable: bool) -> Outcome:
    """After a transport error. A read timeout, dropped connection or a half-written request
    may have reached the server, so for a create it is ambiguous."""
    if request_not_sent(exc):
        return Outcome.RETRY
    if isinstance(exc, httpx.TransportError):
        return Outcome.RETRY if repeatable else Outcome.AMBIGUOUS
    return Outcome.FAIL


def backoff(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP,
            rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (attempt counts from 0)."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP date; None if absent/bad.
    Not capped here: the client refuses a wait above its limit rather than shortening it."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)
