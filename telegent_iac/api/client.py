"""The one client for every Telegent call: tokens, pacing, retries and tolerant decoding.

See docs/api-client.md for the behaviour (token cache, pacing proof, retry table, decoding).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from telegent_iac import spec
from telegent_iac.api import decode
from telegent_iac.api.failures import ApiError, AuthError, ConfigError, NotFoundError
from telegent_iac.api.pacing import DEFAULT_BURST, RateLimiter
from telegent_iac.api.retry import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    REFRESH_STATUSES,
    Outcome,
    backoff,
    classify_exception,
    classify_status,
    parse_retry_after,
    request_not_sent,
)
from telegent_iac.api.tokens import TokenCache
from telegent_iac.model.workgroups import LiveSummary
from telegent_iac.safety import secrets

DEFAULT_API_URL = "https://api.telegent.com"
DEFAULT_RATE_LIMIT = 50
ENV_URL = "TELEGENT_API_URL"
ENV_KEY = "TELEGENT_ACCOUNT_KEY"
ENV_SECRET = "TELEGENT_ACCOUNT_SECRET"
ENV_RATE_LIMIT = "TELEGENT_RATE_LIMIT"
ENV_RATE_BURST = "TELEGENT_RATE_BURST"
ENV_ACCOUNT_ID = "TELEGENT_ACCOUNT_ID"
ENV_TIMEOUT = "TELEGENT_HTTP_TIMEOUT"
ENV_MAX_RESPONSE = "TELEGENT_MAX_RESPONSE_BYTES"
ENV_MAX_RETRY_AFTER = "TELEGENT_MAX_RETRY_AFTER"

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_RETRY_AFTER = 120.0
WAIT_NOTICE = 5.0  # a wait longer than this is announced through on_wait

KEY_HASH_LABEL = b"telegent-iac account binding v1"

log = logging.getLogger("telegent_iac.api")

OnRequest = Callable[[str, str, int | None, float], None]
OnWait = Callable[[str], None]


# --- a total deadline per HTTP exchange ---------------------------------------------------------
# httpx's timeouts bound each socket operation, so a server trickling a byte every few seconds
# never trips them. The client sets this thread's deadline for the exchange, and every connect,
# read and write of the connection pool is given at most the time left (a request runs in one
# thread from start to end, so a thread-local is exactly per request).
_deadline = threading.local()


def _time_left(timeout: float | None, late: type[httpcore.TimeoutException] = httpcore.ReadTimeout) -> float | None:
    """`timeout` cut to what is left of this thread's deadline; `late` when nothing is left
    (a ConnectTimeout says nothing was sent, so even a create may be tried again)."""
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise late("the total deadline for the response has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _time_left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _time_left(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _time_left(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bound_by_deadline(http: httpx.Client) -> None:
    """Give every connection pool of `http` (direct and proxy mounts) the deadline backend.
    httpx has no public hook for the network backend; an injected transport (tests) has no
    pool, and the per-chunk deadline check in _send_once still applies there."""
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Reply:
    """A response read completely, within the size cap and the deadline."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except RecursionError:  # a hostile body nested 100,000 deep is just not JSON we take
            raise ValueError("the response is nested too deeply") from None


class ResponseTooLarge(Exception):
    pass


def is_loopback(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The normalised base URL (scheme://host[:port][/prefix], no trailing slash), or
    ConfigError. Plain http is allowed only to a loopback host. A trailing `/v1.0` (the
    spec's `servers` entry) is dropped because every path already starts with it."""
    try:
        parts = urlsplit(base_url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"API URL {base_url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"API URL {base_url!r} must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise ConfigError("API URL must not carry credentials; use TELEGENT_ACCOUNT_KEY/SECRET")
    if parts.query or parts.fragment:
        raise ConfigError(f"API URL {base_url!r} must not have a query string or fragment")
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"API URL {base_url!r} uses plain http to a non-loopback host; the account secret "
            "and tokens would travel unencrypted. Use https (http is allowed only to "
            "127.0.0.0/8, ::1 or localhost)."
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v1.0"):
        path = path[: -len("/v1.0")]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{path}"


@dataclass(frozen=True)
class _Call:
    method: str
    path: str  # one of the spec constants; tokens are scoped to it
    params: Mapping[str, str] | None = None
    body: Mapping[str, Any] | None = None
    repeatable: bool = True  # safe to send again after an ambiguous failure
    auth: bool = True  # False only for the token request itself
    delete: bool = False  # a 404 after an attempt that may have worked means success

    @property
    def mutating(self) -> bool:
        """Whether the call changes the account (its failure may then be ambiguous)."""
        return self.auth and self.method != "GET"

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def _count_from_env(env: Mapping[str, str], name: str, default: int, minimum: int, unit: str) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of {unit}, not {raw!r}") from None
    if value < minimum:
        allowed = "0 (off) or positive" if minimum == 0 else f"{minimum} or more"
        raise ConfigError(f"{name} must be {allowed}, not {raw!r}")
    return value


def rate_limit_from_env(env: Mapping[str, str]) -> int:
    """TELEGENT_RATE_LIMIT: requests per minute (default 50; 0 = no pacing)."""
    return _count_from_env(env, ENV_RATE_LIMIT, DEFAULT_RATE_LIMIT, 0, "requests a minute")


def rate_burst_from_env(env: Mapping[str, str]) -> int:
    """TELEGENT_RATE_BURST: requests that may start at once before even spacing (default 5)."""
    return _count_from_env(env, ENV_RATE_BURST, DEFAULT_BURST, 1, "requests")


def _positive(name: str, raw: str, whole: bool) -> float:
    what = "a whole number of bytes" if whole else "a number of seconds"
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from None
    if not (0 < value < float("inf")):  # also refuses nan
        raise ConfigError(f"{name} must be positive and finite, not {raw!r}")
    return value


class TelegentClient:
    """Thread-safe: apply calls it from several worker threads at once."""

    def __init__(
        self,
        base_url: str,
        account_key: str,
        account_secret: str,
        *,
        rate_limit: int = DEFAULT_RATE_LIMIT,  # requests per rolling minute, tokens included; 0 = off
        timeout: float = 30.0,
        max_retries: int = 5,
        account_id: str | None = None,
        on_request: OnRequest | None = None,
        max_throttle_retries: int = 20,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        rate_window: float = 60.0,
        rate_burst: int = DEFAULT_BURST,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        on_wait: OnWait | None = None,  # told what a wait over WAIT_NOTICE seconds is for
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if not account_key or not account_secret:
            raise ConfigError(f"account key and secret are required ({ENV_KEY}, {ENV_SECRET})")
        if rate_limit < 0:
            raise ConfigError("rate limit must be 0 (off) or a positive number of requests a minute")
        self.base_url = check_base_url(base_url)
        self._key = account_key
        self._secret = account_secret
        secrets.register(account_key)
        secrets.register(account_secret)
        self.account_id = account_id or None
        self.reported_account_id: str | None = None  # the AccountId the list response names, if any
        self.max_retries = max_retries
        self.timeout = timeout  # also how long a request a killed run sent may still be in flight
        self.max_throttle_retries = max_throttle_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._on_request = on_request
        self.max_response_bytes = max_response_bytes
        self.max_retry_after = max_retry_after
        self._on_wait = on_wait
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.limiter = RateLimiter(rate_limit, rate_window, burst=rate_burst)
        self._tokens = TokenCache(self._fetch_token, clock=clock)
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "telegent-iac"},
            follow_redirects=False,  # a redirect could carry the bearer token elsewhere
            # Plain http is allowed only to loopback (check_base_url), where no TLS is ever
            # spoken: skip loading the CA bundle (~20 ms at every start). https always verifies.
            verify=self.base_url.startswith("https://"),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        _bound_by_deadline(self._http)

    def __repr__(self) -> str:  # never the secret or a token
        return f"TelegentClient({self.base_url!r}, rate_limit={self.limiter.limit})"

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> TelegentClient:
        """TELEGENT_API_URL (default DEFAULT_API_URL), TELEGENT_ACCOUNT_KEY,
        TELEGENT_ACCOUNT_SECRET, TELEGENT_RATE_LIMIT (default 50, 0 = no pacing),
        TELEGENT_RATE_BURST (default 5), TELEGENT_ACCOUNT_ID (optional), TELEGENT_HTTP_TIMEOUT
        (seconds for a whole response, default 30), TELEGENT_MAX_RESPONSE_BYTES (default 16 MiB)
        and TELEGENT_MAX_RETRY_AFTER (seconds, default 120). Keyword overrides win over the
        environment (base_url, account_key, account_secret and any constructor keyword)."""
        base_url = overrides.pop("base_url", None) or env.get(ENV_URL, "").strip() or DEFAULT_API_URL
        key = overrides.pop("account_key", None) or env.get(ENV_KEY, "").strip()
        secret = overrides.pop("account_secret", None) or env.get(ENV_SECRET, "")
        missing = [name for name, value in ((ENV_KEY, key), (ENV_SECRET, secret)) if not value]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
                f"the client needs {ENV_KEY} and {ENV_SECRET} to get API tokens"
            )
        if "rate_limit" not in overrides:
            overrides["rate_limit"] = rate_limit_from_env(env)
        if "rate_burst" not in overrides:
            overrides["rate_burst"] = rate_burst_from_env(env)
        if "account_id" not in overrides:
            overrides["account_id"] = env.get(ENV_ACCOUNT_ID, "").strip() or None
        for name, keyword, whole in ((ENV_TIMEOUT, "timeout", False), (ENV_MAX_RETRY_AFTER, "max_retry_after", False),
                                     (ENV_MAX_RESPONSE, "max_response_bytes", True)):
            raw = env.get(name, "").strip()
            if keyword not in overrides and raw:
                overrides[keyword] = _positive(name, raw, whole)
        return cls(base_url, key, secret, **overrides)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TelegentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_counts(self) -> dict[str, int]:
        """Requests sent so far, by endpoint path (token requests under the token path)."""
        with self._counts_lock:
            return dict(self._counts)

    @property
    def token_fetches(self) -> int:
        return self._tokens.fetches

    def prefetch_token(self, path: str) -> threading.Thread:
        """Fetch `path`'s token in the background, while other calls go on. Failures are only
        logged: the call that needs the token fetches it again and reports properly."""

        def fetch() -> None:
            try:
                self._tokens.get(path)
            except Exception as exc:  # the real call will surface it
                log.debug("token prefetch for %s failed: %s", path, type(exc).__name__)

        thread = threading.Thread(target=fetch, name="token-prefetch", daemon=True)
        thread.start()
        return thread

    def key_hash(self) -> str:
        """A keyed hash of the account key that identifies the account in the state: never the
        key, and not a plain digest that a table of common keys would reverse."""
        return hmac.new(KEY_HASH_LABEL, self._key.encode(), hashlib.sha256).hexdigest()

    # --- workgroups ---
    def list_workgroups(self) -> list[LiveSummary]:
        path = spec.ACCOUNT_WORKGROUPS
        body = self._json(self._call(_Call("GET", path)))
        if isinstance(body, Mapping):
            self.reported_account_id = decode.opaque_id(body, "AccountId") or self.reported_account_id
        return decode.decode_summaries(body, f"GET {path}")

    def get_workgroup(self, workgroup_id: str) -> dict[str, Any]:
        """Canonical fields of one workgroup, plus "Activities": a list of dicts each with
        "WorkgroupActivityId" and canonical member fields (empty when the server embeds none)."""
        call = _Call("GET", spec.WORKGROUPS, params={"WorkgroupId": workgroup_id})
        return decode.decode_workgroup(self._json(self._call(call)), workgroup_id, call.name)

    def create_workgroup(self, fields: Mapping[str, Any]) -> str:
        """POST /workgroups with `fields` (IDs already resolved); returns the WorkgroupId.
        Never retried once the request may have reached the server: raises
        ApiError(ambiguous=True) instead."""
        return self._create(spec.WORKGROUPS, self._body(spec.WORKGROUPS, fields), "WorkgroupId")

    def update_workgroup(self, workgroup_id: str, fields: Mapping[str, Any]) -> None:
        path = spec.WORKGROUP_UPDATE
        body = self._body(path, fields, WorkgroupId=workgroup_id)
        self._checked(_Call("POST", path, body=body))

    def delete_workgroup(self, workgroup_id: str) -> None:
        # The spec's delete takes the ID in the query string and no body; the sandbox (like
        # any ASP.NET model binder) would refuse a body it does not expect.
        self._checked(_Call("POST", spec.WORKGROUP_DELETE, params={"WorkgroupId": workgroup_id},
                            delete=True))

    # --- members (activities) ---
    def create_activity(self, workgroup_id: str, fields: Mapping[str, Any]) -> str:
        body = self._body(spec.ACTIVITY, fields, WorkgroupId=workgroup_id)
        return self._create(spec.ACTIVITY, body, "WorkgroupActivityId", "ActivityId")

    def update_activity(self, activity_id: str, fields: Mapping[str, Any]) -> None:
        path = spec.ACTIVITY_UPDATE
        self._checked(_Call("POST", path, body=self._body(path, fields, WorkgroupActivityId=activity_id)))

    def delete_activity(self, activity_id: str) -> None:
        self._checked(_Call("POST", spec.ACTIVITY_DELETE, body={"WorkgroupActivityId": activity_id},
                            delete=True))

    # --- schedules ---
    def create_schedule(self, fields: Mapping[str, Any]) -> str:
        return self._create(spec.SCHEDULES, self._body(spec.SCHEDULES, fields), "ScheduleId")

    def list_schedules(self) -> list[dict[str, Any]]:
        """The account's schedules as sent, with "ScheduleId" and "Name" under their spec
        spelling whatever case the server used."""
        path = spec.ACCOUNT_SCHEDULES
        out: list[dict[str, Any]] = []
        for item in decode.items_of(self._json(self._call(_Call("GET", path))), f"GET {path}"):
            entry = dict(item)
            for name in ("ScheduleId", "Name"):
                value = decode.opaque_id(item, name)
                if value is not None:
                    entry[name] = value
            out.append(entry)
        return out

    # --- internals ---
    def _body(self, path: str, fields: Mapping[str, Any], **ids: str) -> dict[str, Any]:
        """Request body: the IDs, then the set fields (None = not set), plus AccountId when
        configured and the endpoint's schema accepts it (a distributor acting for an account)."""
        body: dict[str, Any] = dict(ids)
        body.update({k: v for k, v in fields.items() if v is not None and k not in ids})
        if self.account_id and "AccountId" not in body:
            schema = spec.request_schema("POST", path) or {}
            if "AccountId" in schema.get("properties", {}):
                body["AccountId"] = self.account_id
        return body

    def _create(self, path: str, body: Mapping[str, Any], *id_names: str) -> str:
        response = self._call(_Call("POST", path, body=body, repeatable=False))
        return decode.decode_created_id(self._json(response), *id_names, endpoint=f"POST {path}")

    def _checked(self, call: _Call) -> None:
        """A call whose answer carries nothing but may still say Successful: false."""
        response = self._call(call)
        if response is not None:
            decode.unwrap(self._json(response), call.name)

    @staticmethod
    def _json(response: Reply | None) -> Any:
        if response is None or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def _fetch_token(self, path: str) -> tuple[str, object]:
        body = {"AccountKey": self._key, "AccountSecret": self._secret, "ApiEndpoint": self.base_url + path}
        response = self._call(_Call("POST", spec.TOKENS, body=body, auth=False))
        assert response is not None
        token, expiry, error = decode.decode_token(self._json(response), f"POST {spec.TOKENS}")
        if token is not None:
            secrets.register(token)  # before anything could print or log it
            if not (token.isascii() and token.isprintable()) or " " in token:
                raise AuthError(f"token request for {path}: the token has characters an HTTP header cannot "
                                "carry (control, space or non-ASCII); refusing it", status=response.status_code,
                                endpoint=f"POST {spec.TOKENS}")
        if token is None:
            raise AuthError(f"token request for {path} refused: {error}", status=response.status_code,
                            endpoint=f"POST {spec.TOKENS}")
        return token, expiry

    def _send_once(self, call: _Call, token: str | None) -> Reply:
        """One paced HTTP exchange, read whole within the deadline and the size cap; counts it,
        logs it and reports it to on_request."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        status: int | None = None
        self._acquire_slot(call)
        started = time.perf_counter()
        _deadline.at = time.monotonic() + self.timeout
        try:
            with self._counts_lock:
                self._counts[call.path] += 1
            with self._http.stream(
                call.method, self.base_url + call.path, params=call.params,
                json=call.body, headers=headers,
            ) as response:
                status = response.status_code
                reply = Reply(status, response.headers, self._read_body(response))
        finally:
            _deadline.at = None
            # Stamped after the response completed (or failed): see pacing.py for why.
            self.limiter.release()
            elapsed = time.perf_counter() - started
            log.debug("%s %s -> %s in %.3fs", call.method, call.path, status or "no response", elapsed)
            if self._on_request is not None:
                try:
                    self._on_request(call.method, call.path, status, elapsed)
                except Exception:  # a broken observer must not mask the request's own outcome
                    log.exception("on_request callback failed")
        return reply

    def _read_body(self, response: httpx.Response) -> bytes:
        """The body, refused as soon as it passes the cap (never buffered whole first) and cut
        off at the deadline however slowly it trickles in."""
        cap = self.max_response_bytes
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(f"the response announces {int(declared):,} bytes")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > cap:
                raise ResponseTooLarge(f"the response passed {cap:,} bytes")
            at = getattr(_deadline, "at", None)
            if at is not None and time.monotonic() > at:  # bytes keep coming, but too slowly
                raise httpx.ReadTimeout("the total deadline for the response has passed")
        return bytes(body)

    def _acquire_slot(self, call: _Call) -> None:
        def announce(seconds: float) -> None:
            self._announce(f"Waiting about {seconds:.0f}s for the account's rate limit "
                           f"({self.limiter.limit} requests a minute) before {call.name}...")

        self.limiter.acquire(announce if self._on_wait is not None else None, notice=WAIT_NOTICE)

    def _announce(self, message: str) -> None:
        if self._on_wait is None:
            return
        try:
            self._on_wait(message)
        except Exception:  # a broken observer must not stop the run
            log.exception("on_wait callback failed")

    def _wait(self, seconds: float, why: str = "") -> None:
        if seconds <= 0:
            return
        if seconds > WAIT_NOTICE:
            self._announce(f"Waiting {seconds:.0f}s {why}...")
        self._sleep(seconds)

    def _call(self, call: _Call) -> Reply | None:
        """Send `call` with its token, retrying what may be retried; the 2xx response, or
        None for a delete whose earlier attempt evidently worked (404 afterwards)."""
        retries = 0  # transient failures retried
        throttled = 0  # 429s waited out
        refreshed = False
        maybe_done = False  # an earlier attempt may have taken effect
        while True:
            token = self._tokens.get(call.path) if call.auth else None
            try:
                response = self._send_once(call, token)
            except ResponseTooLarge as exc:
                # Not retried: the same request would get the same answer. A mutating call may
                # have taken effect before its answer was refused.
                raise ApiError(f"{exc}, more than the {self.max_response_bytes:,}-byte cap ({ENV_MAX_RESPONSE}); "
                               f"refused unread" + ("; the request may have taken effect" if call.mutating else ""),
                               endpoint=call.name, ambiguous=call.mutating) from None
            except httpx.TransportError as exc:
                outcome = classify_exception(exc, repeatable=call.repeatable)
                sent = not request_not_sent(exc)
                if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
                    what = f"no complete response within {self.timeout:g}s ({ENV_TIMEOUT})"
                else:
                    what = f"no response ({type(exc).__name__})"
                if outcome is Outcome.AMBIGUOUS:
                    raise ApiError(f"{what}; the request may have taken effect",
                                   endpoint=call.name, ambiguous=True) from None
                maybe_done = maybe_done or sent
                if retries < self.max_retries:
                    self._wait(self._backoff(retries), f"before retrying {call.name} ({what})")
                    retries += 1
                    continue
                raise ApiError(f"{what} after {retries + 1} attempts", endpoint=call.name,
                               ambiguous=maybe_done and call.mutating) from None

            status = response.status_code
            if 200 <= status < 300:
                return response
            message = decode.error_message(response.text, status)
            if status in REFRESH_STATUSES:
                if call.auth and not refreshed and token is not None:
                    # Expired or refused token: a 401/403 means nothing happened, so even a
                    # create may be sent again with a fresh token - once.
                    self._tokens.invalidate(call.path, token)
                    refreshed = True
                    continue
                raise AuthError(message, status=status, endpoint=call.name)
            if status == 404:
                if call.delete and maybe_done:
                    log.debug("%s: 404 after an attempt that may have worked: deleted", call.name)
                    return None
                raise NotFoundError(message, status=status, endpoint=call.name)
            if status == 429:
                self.limiter.throttled()
                if throttled < self.max_throttle_retries:
                    wait = parse_retry_after(response.headers.get("Retry-After"))
                    if wait is not None and wait > self.max_retry_after:
                        raise ApiError(
                            f"rate limited, and the server asks to wait {wait:.0f}s (Retry-After), more than "
                            f"{self.max_retry_after:g}s ({ENV_MAX_RETRY_AFTER}); stopped instead of waiting. "
                            f"Run again later", status=status, endpoint=call.name,
                            ambiguous=maybe_done and call.mutating)
                    self._wait(self._backoff(throttled) if wait is None else wait,
                               f"as the server asks (HTTP 429, rate limited) before retrying {call.name}")
                    throttled += 1
                    continue
                raise ApiError(f"{message} (still rate limited after {throttled} waits)",
                               status=status, endpoint=call.name, ambiguous=maybe_done and call.mutating)
            outcome = classify_status(status, repeatable=call.repeatable)
            if outcome is Outcome.AMBIGUOUS:
                raise ApiError(f"{message}; the request may have taken effect", status=status,
                               endpoint=call.name, ambiguous=True)
            if outcome is Outcome.RETRY:
                maybe_done = True
                if retries < self.max_retries:
                    self._wait(self._backoff(retries), f"before retrying {call.name} (HTTP {status})")
                    retries += 1
                    continue
                raise ApiError(f"{message} (after {retries + 1} attempts)", status=status,
                               endpoint=call.name, ambiguous=call.mutating)
            raise ApiError(message, status=status, endpoint=call.name)

    def _backoff(self, attempt: int) -> float:
        return backoff(attempt, base=self._backoff_base, cap=self._backoff_cap, rng=self._rng)
