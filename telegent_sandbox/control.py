"""Run-time control of a sandbox: faults, limits, the request log and reset.

The same operations work in-process (`SandboxServer.control`) and over HTTP under
`/_sandbox/`, a path Telegent's `/v1.0/...` API cannot collide with. Control requests are
neither rate-limited, delayed, faulted nor logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from telegent_sandbox.app import CONTROL_PREFIX, SandboxApp
from telegent_sandbox.http_types import Request, Response
from telegent_sandbox.options import DEMO_ACCOUNT_KEY


class SandboxControl:
    def __init__(self, app: SandboxApp) -> None:
        self._app = app

    def set_faults(self, *, latency_ms: int | None = None, latency_jitter_ms: int | None = None,
                   error_rate: float | None = None, drop_creates: Iterable[int] | None = None,
                   drop_next_creates: int | None = None,
                   drop_next_activity_creates: int | None = None) -> dict[str, Any]:
        """Change the injected faults; omitted ones keep their value. `drop_creates` ordinals
        (or `drop_next_creates=k`, meaning 1..k) count workgroup creates from now on;
        `drop_next_activity_creates=k` does the same for the next k activity (member) creates.
        Returns the faults now in force."""
        self._app.faults.set(latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms,
                             error_rate=error_rate, drop_creates=drop_creates,
                             drop_next_creates=drop_next_creates,
                             drop_next_activity_creates=drop_next_activity_creates)
        return self.faults()

    def faults(self) -> dict[str, Any]:
        return self._app.faults.snapshot()

    def snapshot(self, account: str = DEMO_ACCOUNT_KEY) -> dict[str, dict[str, Any]]:
        """The ground truth of one account, whatever the dialect shows: WorkgroupId -> stored
        record with its "Activities" (for tests: counting duplicates where reads cannot)."""
        store = self._app.store
        with store.transaction() as db:
            out = {}
            for wid, *_ in store.list_workgroups(db, account):
                record = store.get_workgroup(db, account, wid) or {}
                record["Activities"] = store.activities_of(db, account, wid)
                out[wid] = record
        return out

    def set_config(self, *, rate_limit: int | None = None, token_ttl: float | None = None,
                   rate_window: float | None = None) -> dict[str, Any]:
        """Change the rate limit (0 = off), the TTL of tokens issued from now on, or the rate
        window in seconds (60 as documented; shorter only to test the rolling window quickly)."""
        if rate_limit is not None and rate_limit < 0:
            raise ValueError("rate_limit must be 0 (off) or positive")
        if token_ttl is not None and token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if rate_window is not None and rate_window <= 0:
            raise ValueError("rate_window must be positive")
        if rate_limit is not None:
            self._app.limiter.limit = rate_limit
        if rate_window is not None:
            self._app.limiter.window = rate_window
        if token_ttl is not None:
            self._app.tokens.ttl = token_ttl
        return self.config()

    def config(self) -> dict[str, Any]:
        return {
            "rate_limit": self._app.limiter.limit,
            "rate_window": self._app.limiter.window,
            "token_ttl": self._app.tokens.ttl,
        }

    def requests(self) -> list[dict[str, Any]]:
        """The API requests served so far, in order: {method, path, status} (status None when
        the connection was dropped; path without the query string; a redacted `body` too
        when the server logs bodies)."""
        return self._app.requests()

    def clear_requests(self) -> None:
        self._app.clear_requests()

    def request_count(self, path: str | None = None) -> int:
        """How many API requests were logged, all or those to `path` (case-insensitive)."""
        return self._app.request_count(path)

    def reset(self) -> None:
        """Wipe every account's workgroups, activities and schedules (tokens stay valid)."""
        self._app.store.reset()

    # --- the same over HTTP ---

    def handle_http(self, request: Request) -> Response:
        parts = urlsplit(request.target)
        name = parts.path[len(CONTROL_PREFIX):].strip("/")
        query = dict(parse_qsl(parts.query))
        endpoints: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", ""): lambda _: self._info(),
            ("GET", "requests"): lambda _: {"requests": self.requests()},
            ("DELETE", "requests"): lambda _: self._cleared(),
            ("POST", "requests/clear"): lambda _: self._cleared(),
            ("GET", "requests/count"): lambda _: {"count": self.request_count(query.get("path"))},
            ("GET", "faults"): lambda _: self.faults(),
            ("POST", "faults"): lambda body: self.set_faults(**body),
            ("GET", "config"): lambda _: self.config(),
            ("POST", "config"): lambda body: self.set_config(**body),
            ("POST", "reset"): lambda _: self._reset(),
        }
        handler = endpoints.get((request.method, name))
        if handler is None:
            allowed = sorted(m for m, n in endpoints if n == name)
            if allowed:
                return Response(405, {"error": f"use {', '.join(allowed)}"}, {"Allow": ", ".join(allowed)})
            return Response(404, {"error": f"no control endpoint {parts.path}", "endpoints": _listing(endpoints)})
        try:
            body = json.loads(request.body) if request.body.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return Response(200, handler(body))
        except (ValueError, TypeError) as exc:  # bad JSON, unknown keyword or bad value
            return Response(400, {"error": str(exc)})

    def _cleared(self) -> dict[str, Any]:
        self.clear_requests()
        return {"cleared": True}

    def _reset(self) -> dict[str, Any]:
        self.reset()
        return {"reset": True}

    def _info(self) -> dict[str, Any]:
        options = self._app.options
        return {
            "emulator": "telegent-iac sandbox (built from Telegent's public docs; not Telegent)",
            "accounts": sorted(options.credentials()),
            "dialect": options.dialect(),
            "faults": self.faults(),
            "config": self.config(),
        }


def _listing(endpoints: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{method} {CONTROL_PREFIX}{name}" for method, name in endpoints]
