"""Per-endpoint bearer tokens, kept in memory only (a restart logs every client out)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit


def endpoint_scope(url_or_path: str) -> str:
    """The part of an ApiEndpoint (or request target) a token is bound to: the path,
    case-insensitively, without scheme, host, port, query string or trailing slash."""
    path = urlsplit(url_or_path).path
    path = path.rstrip("/") or "/"
    return path.lower()


def format_expiry(epoch_seconds: float) -> str:
    """`MM/dd/yyyy hh:mm:ss AM|PM` in UTC, spelled out by hand so no locale can change it."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    hour12 = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%m/%d/%Y} {hour12:02d}:{moment:%M:%S} {half}"


@dataclass(frozen=True)
class Token:
    account: str
    scope: str
    expires_at: float  # epoch seconds


class TokenCheck:
    """Why a bearer token was refused, or which account it belongs to."""

    def __init__(self, account: str | None, problem: str | None, wrong_scope: bool = False) -> None:
        self.account = account
        self.problem = problem
        self.wrong_scope = wrong_scope  # a live token issued for another endpoint


class Tokens:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self._clock = clock
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, account: str, api_endpoint: str) -> tuple[str, float]:
        """A new opaque token and its expiry (epoch seconds)."""
        value = secrets.token_urlsafe(32)
        now = self._clock()
        expires_at = now + self.ttl
        with self._lock:
            if len(self._tokens) >= 10_000:  # forget expired tokens now and then
                self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[value] = Token(account, endpoint_scope(api_endpoint), expires_at)
        return value, expires_at

    def owner(self, value: str) -> str | None:
        """The account of a live token, whatever its scope (used to count the rate limit)."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None or token.expires_at <= self._clock():
            return None
        return token.account

    def check(self, value: str | None, request_path: str) -> TokenCheck:
        if not value:
            return TokenCheck(None, "Unauthorized: Bearer token is missing.")
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            return TokenCheck(None, "Unauthorized: Bearer token is invalid.")
        if token.expires_at <= self._clock():
            return TokenCheck(None, "Unauthorized: Bearer token has expired; request a new one.")
        if token.scope != endpoint_scope(request_path):
            return TokenCheck(
                None,
                "Unauthorized: this token is allowed only for the API endpoint it was issued for "
                f"({token.scope}); request a token with ApiEndpoint set to this endpoint.",
                wrong_scope=True,
            )
        return TokenCheck(token.account, None)
