"""The rate limit: N requests per rolling window per account, token requests included."""

from __future__ import annotations

import time

from telegent_sandbox.ratelimit import RollingWindowLimiter
from tests.support.clock import FakeClock
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory, get_token, http_client

HTTP = http_client()


def test_limiter_rolling_window_and_retry_after() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(3, 60.0, clock)
    for step in (0.0, 10.0, 20.0):
        clock.now += step
        assert limiter.admit("a") is None
    clock.now += 5  # t=35: the first request (t=0) leaves the window at t=60
    assert limiter.admit("a") == 25
    assert limiter.admit("b") is None  # keys are separate
    clock.now += 24.5  # t=59.5: refused requests were not counted, still waiting on t=0
    assert limiter.admit("a") == 1
    clock.now += 0.5  # t=60: one slot free, exactly one admitted
    assert limiter.admit("a") is None
    assert limiter.admit("a") == 10


def test_limiter_off_and_lowered() -> None:
    clock = FakeClock()
    assert all(RollingWindowLimiter(0, 60.0, clock).admit("a") is None for _ in range(1000))
    limiter = RollingWindowLimiter(4, 60.0, clock)
    for _ in range(4):
        clock.now += 1
        assert limiter.admit("a") is None
    limiter.limit = 2  # lowered at run time: three of the four must leave before one slot frees
    assert limiter.admit("a") == 59  # the third arrived at t=3 and leaves at t=63; now t=4


def test_429_with_retry_after_and_tokens_counted(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=3)
    api = Api(server)
    assert api.get("/v1.0/account/workgroups").status_code == 200  # request 2 (the token was 1)
    assert api.get("/v1.0/account/workgroups").status_code == 200  # 3
    refused = api.get("/v1.0/account/workgroups")
    assert refused.status_code == 429
    assert refused.json()["StatusCode"] == 429
    assert 58 <= int(refused.headers["Retry-After"]) <= 60
    token_refused = HTTP.post(f"{server.url}/v1.0/oauth2/tokens", json={
        "AccountKey": "DID-sandbox-demo", "AccountSecret": "sandbox-demo-secret", "ApiEndpoint": "/v1.0/x"})
    assert token_refused.status_code == 429
    statuses = [e["status"] for e in server.control.requests()]
    assert statuses == [200, 200, 200, 429, 429]


def test_limit_is_per_account(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=2, accounts=(("DID-b", "b-secret"),))
    a, b = Api(server), Api(server, key="DID-b", secret="b-secret")
    assert a.get("/v1.0/account/workgroups").status_code == 200
    assert a.get("/v1.0/account/workgroups").status_code == 429
    assert b.get("/v1.0/account/workgroups").status_code == 200


def test_requests_without_an_account_count_per_client(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=2)
    url = f"{server.url}/v1.0/account/workgroups"
    assert [HTTP.get(url).status_code for _ in range(3)] == [401, 401, 429]


def test_rolling_window_frees_slots(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=2)
    server.control.set_config(rate_window=1.0)  # 60 s in production; shortened to test quickly
    token = get_token(server, "/v1.0/account/workgroups")
    url, headers = f"{server.url}/v1.0/account/workgroups", {"Authorization": f"Bearer {token}"}
    assert HTTP.get(url, headers=headers).status_code == 200
    refused = HTTP.get(url, headers=headers)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert HTTP.get(url, headers=headers).status_code == 200


def test_rate_limit_can_change_at_run_time(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=1)
    api = Api(server)
    assert api.get("/v1.0/account/workgroups").status_code == 429
    server.control.set_config(rate_limit=0)
    assert all(api.get("/v1.0/account/workgroups").status_code == 200 for _ in range(5))
