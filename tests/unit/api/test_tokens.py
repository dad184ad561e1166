"""Token expiry parsing, refresh margin and the single-flight per-path cache."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime

import pytest

from telegent_iac.api.tokens import (
    TokenCache,
    jwt_expiry,
    parse_token_expiry,
    refresh_at,
    token_expiry,
)


def jwt(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


def test_documented_expiry_format_is_utc() -> None:
    # The reference's example: tokenExpiry "05/02/2025 06:36:13 PM" == JWT exp 1746210973.
    assert parse_token_expiry("05/02/2025 06:36:13 PM") == 1746210973
    assert parse_token_expiry("05/02/2025 06:36:13 am") == 1746210973 - 12 * 3600
    assert parse_token_expiry("12/31/2025 12:00:00 AM") == datetime(2025, 12, 31, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("text", ["", "soon", None, 42, "13/45/2025 01:00:00 PM"])
def test_unreadable_expiry_is_none(text: object) -> None:
    assert parse_token_expiry(text) is None


def test_tolerates_24_hour_and_iso_forms() -> None:
    assert parse_token_expiry("05/02/2025 18:36:13") == 1746210973
    assert parse_token_expiry("2025-05-02T18:36:13Z") == 1746210973


def test_jwt_exp_is_preferred_over_token_expiry() -> None:
    token = jwt({"exp": 1746210973, "sub": "DID-x"})
    assert jwt_expiry(token) == 1746210973
    assert token_expiry(token, "01/01/2030 01:00:00 AM", now=0) == 1746210973


def test_not_a_jwt_falls_back_to_token_expiry_then_60_seconds() -> None:
    assert jwt_expiry("opaque-token") is None
    assert jwt_expiry("a.!!!.c") is None
    assert jwt_expiry(jwt({"exp": "soon"})) is None
    assert token_expiry("opaque", "05/02/2025 06:36:13 PM", now=0) == 1746210973
    assert token_expiry("opaque", "garbage", now=1000.0) == 1060.0


def test_refresh_margin_is_30s_or_10_percent_whichever_smaller() -> None:
    assert refresh_at(0.0, 3600.0) == 3570.0  # 10 % would be 360 s: 30 s wins
    assert refresh_at(0.0, 100.0) == 90.0  # 10 % of 100 s
    assert refresh_at(0.0, 1.0) == pytest.approx(0.9)
    assert refresh_at(50.0, 40.0) == 50.0  # already expired by our clock: use once only


class Fetcher:
    def __init__(self, ttl: float, clock: list[float], delay: float = 0.0) -> None:
        self.ttl = ttl
        self.clock = clock
        self.delay = delay
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, path: str) -> tuple[str, object]:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.calls.append(path)
            n = len(self.calls)
        expires = datetime.fromtimestamp(self.clock[0] + self.ttl, UTC)
        return f"tok-{n}", expires.strftime("%m/%d/%Y %I:%M:%S %p")


def test_cache_reuses_per_path_and_refreshes_before_expiry() -> None:
    now = [1_700_000_000.0]
    fetch = Fetcher(300, now)
    cache = TokenCache(fetch, clock=lambda: now[0])
    a = cache.get("/v1.0/workgroups")
    assert cache.get("/v1.0/workgroups") == a
    b = cache.get("/v1.0/account/workgroups")
    assert b != a
    assert fetch.calls == ["/v1.0/workgroups", "/v1.0/account/workgroups"]
    now[0] += 269  # 300 s lifetime, refresh 30 s before: still good at 269 s
    assert cache.get("/v1.0/workgroups") == a
    now[0] += 2
    assert cache.get("/v1.0/workgroups") != a
    assert len(fetch.calls) == 3


def test_invalidate_drops_only_the_refused_token() -> None:
    now = [1_700_000_000.0]
    fetch = Fetcher(300, now)
    cache = TokenCache(fetch, clock=lambda: now[0])
    old = cache.get("/p")
    cache.invalidate("/p", old)
    new = cache.get("/p")
    assert new != old
    cache.invalidate("/p", old)  # a late thread reporting the old token: no new fetch
    assert cache.get("/p") == new
    assert len(fetch.calls) == 2


def test_single_flight_per_path_across_threads() -> None:
    now = [time.time()]
    fetch = Fetcher(300, now, delay=0.05)
    cache = TokenCache(fetch)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker(path: str) -> None:
        barrier.wait()
        results.append(cache.get(path))

    threads = [threading.Thread(target=worker, args=("/same",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fetch.calls == ["/same"]
    assert set(results) == {"tok-1"}


def test_repr_never_shows_a_token() -> None:
    now = [1_700_000_000.0]
    cache = TokenCache(Fetcher(300, now), clock=lambda: now[0])
    token = cache.get("/p")
    assert token not in repr(cache)
    assert token not in repr(cache._entries)  # noqa: SLF001
