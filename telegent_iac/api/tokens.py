"""Per-endpoint bearer tokens: expiry parsing, refresh margin and a single-flight cache.

Telegent scopes each token to one endpoint URL and lets it live minutes, so the client keeps
one token per path and fetches a new one shortly before it expires. Tokens never appear in
reprs or messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_LIFETIME = 60.0  # seconds, when neither the JWT nor tokenExpiry can be read
MAX_MARGIN = 30.0
MARGIN_FRACTION = 0.1

_EXPIRY_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")


def parse_token_expiry(text: object) -> float | None:
    """`tokenExpiry` as a UTC epoch time: `MM/dd/yyyy hh:mm:ss AM|PM` (the documented form),
    tolerating a 24-hour clock and ISO 8601; None when it cannot be read."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    for fmt in _EXPIRY_FORMATS:
        try:
            parsed = datetime.strptime(value.upper(), fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC).timestamp()
    try:
        iso = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if iso.tzinfo is None:
        iso = iso.replace(tzinfo=UTC)
    return iso.timestamp()


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (unverified: only used to time the refresh), else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    return None


def token_expiry(token: str, expiry_text: object, now: float) -> float:
    """When a token fetched at `now` (epoch seconds) expires: the JWT's exp claim, else
    tokenExpiry, else now + 60 s."""
    for candidate in (jwt_expiry(token), parse_token_expiry(expiry_text)):
        if candidate is not None:
            return candidate
    return now + DEFAULT_LIFETIME


def refresh_at(fetched: float, expires: float) -> float:
    """When to stop using a token: a margin before expiry of 30 s or 10 % of its lifetime,
    whichever is smaller. A token already expired by our clock (skew) is used for the call
    that fetched it only."""
    lifetime = expires - fetched
    if lifetime <= 0:
        return fetched
    return expires - min(MAX_MARGIN, MARGIN_FRACTION * lifetime)


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    token: str | None = None
    refresh_at: float = 0.0

    def __repr__(self) -> str:  # never show the token
        return f"_Entry(cached={self.token is not None}, refresh_at={self.refresh_at})"


class TokenCache:
    """One token per endpoint path; a fetch is single-flight per path (other threads wanting
    the same path wait for it and reuse its token), and paths are fetched independently."""

    def __init__(
        self,
        fetch: Callable[[str], tuple[str, object]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`fetch(path)` returns (token, tokenExpiry as sent) or raises."""
        self._fetch = fetch
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenCache(paths={sorted(self._entries)})"

    def _entry(self, path: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(path)
            if entry is None:
                entry = self._entries[path] = _Entry()
            return entry

    def get(self, path: str) -> str:
        entry = self._entry(path)
        with entry.lock:
            if entry.token is not None and self._clock() < entry.refresh_at:
                return entry.token
            entry.token = None
            fetched = self._clock()
            token, expiry_text = self._fetch(path)
            with self._lock:
                self.fetches += 1
            entry.token = token
            entry.refresh_at = refresh_at(fetched, token_expiry(token, expiry_text, fetched))
            return token

    def invalidate(self, path: str, token: str) -> None:
        """Drop `path`'s token if it is still `token` (the one refused): when several threads
        see the same 401, only one new token is fetched."""
        entry = self._entry(path)
        with entry.lock:
            if entry.token == token:
                entry.token = None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
