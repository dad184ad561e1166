"""One running sandbox: its store, tokens, rate limiter, faults and request log, and the
pipeline every request goes through (control requests bypass all of it).

Order for an API request: count it against the rate limit (at the moment it arrives), sleep
the injected latency (holding no lock, so parallel clients overlap), then either answer 429
or an injected 5xx (both with no side effect), or route, authorise, validate and handle it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from telegent_sandbox.account import Store
from telegent_sandbox.endpoints import SandboxApi
from telegent_sandbox.faults import Faults
from telegent_sandbox.http_types import Request, Response, error
from telegent_sandbox.options import SandboxOptions
from telegent_sandbox.ratelimit import RollingWindowLimiter
from telegent_sandbox.token_issuer import Tokens

CONTROL_PREFIX = "/_sandbox/"
REQUEST_LOG_LIMIT = 100_000  # oldest entries are forgotten past this

_ERROR_MESSAGES = {
    500: "Internal server error: an unexpected error occurred.",
    503: "Service unavailable: the API is temporarily unavailable.",
    504: "Gateway timeout: an upstream service did not respond in time.",
}
_SECRET_KEYS = {"accountsecret", "token", "authorization"}

RequestHook = Callable[[dict[str, Any]], None]


class SandboxApp:
    def __init__(self, options: SandboxOptions, on_request: RequestHook | None = None) -> None:
        self.options = options
        self.store = Store(options.db)
        self.tokens = Tokens(options.token_ttl)
        self.limiter = RollingWindowLimiter(options.rate_limit, options.rate_window)
        self.faults = Faults(
            latency_ms=options.latency_ms,
            latency_jitter_ms=options.latency_jitter_ms,
            error_rate=options.error_rate,
            drop_creates=options.drop_creates,
            drop_activity_creates=options.drop_activity_creates,
            seed=options.seed,
        )
        self.api = SandboxApi(options, self.store, self.tokens, self.faults)
        self.log_bodies = options.log_bodies
        self._log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
        self._log_lock = threading.Lock()
        self._on_request = on_request

    def close(self) -> None:
        self.store.close()

    def is_control(self, request: Request) -> bool:
        return urlsplit(request.target).path.startswith(CONTROL_PREFIX)

    def handle(self, request: Request) -> Response:
        """An API request through the whole pipeline (not for control requests)."""
        retry_after = self.limiter.admit(self.api.rate_key(request))
        delay = self.faults.delay_seconds()
        if delay > 0:
            time.sleep(delay)
        if retry_after is not None:
            response = error(429, "Too many requests: rate limit exceeded.", **{"Retry-After": str(retry_after)})
        elif (status := self.faults.injected_error()) is not None:
            response = error(status, _ERROR_MESSAGES[status])
        else:
            try:
                response = self.api.handle(request)
            except Exception:  # a sandbox bug: answer like a server would, and show it
                traceback.print_exc(file=sys.stderr)
                response = error(500, _ERROR_MESSAGES[500])
        self._record(request, None if response.drop else response.status)
        return response

    # --- the request log ---

    def _record(self, request: Request, status: int | None) -> None:
        entry: dict[str, Any] = {
            "method": request.method,
            "path": urlsplit(request.target).path,
            "status": status,  # None: the connection was dropped without a response
        }
        if self.log_bodies:
            entry["body"] = _redacted_body(request.body)
        with self._log_lock:
            self._log.append(entry)
        if self._on_request is not None:
            self._on_request(dict(entry))

    def requests(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return [dict(e) for e in self._log]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def request_count(self, path: str | None = None) -> int:
        with self._log_lock:
            if path is None:
                return len(self._log)
            wanted = path.rstrip("/").lower()
            return sum(1 for e in self._log if e["path"].rstrip("/").lower() == wanted)


def _redacted_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "<not JSON>"
    return _redact(body)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<redacted>" if k.lower() in _SECRET_KEYS else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value
