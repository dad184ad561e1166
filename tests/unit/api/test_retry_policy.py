"""Retry classification and waits, and the client's policy driven by a fake transport.

These are narrow unit tests of the timing/classification logic (the sandbox integration
tests show the same behaviour over real HTTP)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from telegent_iac import spec
from telegent_iac.api import ApiError, AuthError, ConfigError, NotFoundError, TelegentClient
from telegent_iac.api.retry import (
    Outcome,
    backoff,
    classify_exception,
    classify_status,
    parse_retry_after,
)

REQ = httpx.Request("POST", "http://127.0.0.1/x")


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_transient_statuses_retry_when_repeatable_and_are_ambiguous_for_creates(status: int) -> None:
    assert classify_status(status, repeatable=True) is Outcome.RETRY
    assert classify_status(status, repeatable=False) is Outcome.AMBIGUOUS


def test_429_is_retried_even_for_creates() -> None:
    assert classify_status(429, repeatable=False) is Outcome.RETRY


@pytest.mark.parametrize("status", [400, 409, 415, 422])
def test_other_4xx_fail(status: int) -> None:
    assert classify_status(status, repeatable=True) is Outcome.FAIL


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused", request=REQ),
                                 httpx.ConnectTimeout("slow", request=REQ),
                                 httpx.PoolTimeout("pool", request=REQ)])
def test_not_sent_errors_are_retried_even_for_creates(exc: Exception) -> None:
    assert classify_exception(exc, repeatable=False) is Outcome.RETRY


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow", request=REQ),
                                 httpx.RemoteProtocolError("dropped", request=REQ),
                                 httpx.ReadError("reset", request=REQ),
                                 httpx.WriteError("broken", request=REQ),
                                 httpx.WriteTimeout("slow", request=REQ)])
def test_maybe_sent_errors_are_ambiguous_for_creates(exc: Exception) -> None:
    assert classify_exception(exc, repeatable=False) is Outcome.AMBIGUOUS
    assert classify_exception(exc, repeatable=True) is Outcome.RETRY


def test_backoff_is_full_jitter_with_cap() -> None:
    rng = random.Random(1)
    waits = [backoff(5, base=0.5, cap=30, rng=rng) for _ in range(200)]
    assert all(0 <= w <= 16 for w in waits)
    assert max(waits) > 8  # spread over the whole range, not a fixed value
    assert all(0 <= backoff(20, rng=rng) <= 30 for _ in range(50))


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after(" 1.5 ") == 1.5
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=12), usegmt=True), now=now) == 12
    assert parse_retry_after(format_datetime(now - timedelta(seconds=12), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("99999") == 99999  # the client refuses it (test_hostile_server.py)


# --- the client with a scripted transport ----------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers token requests itself; hands API requests to `api` (a function of the
    request and how many API requests came before it)."""

    def __init__(self, api: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.api = api
        self.tokens = 0
        self.api_calls: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == spec.TOKENS:
            with self.lock:
                self.tokens += 1
                n = self.tokens
            return httpx.Response(200, json={"token": f"tok{n}", "successful": True,
                                             "tokenExpiry": "12/31/2099 11:59:59 PM"})
        with self.lock:
            self.api_calls.append(request)
            n = len(self.api_calls) - 1
        return self.api(request, n)


def client(script: Script, **kw: Any) -> tuple[TelegentClient, list[float]]:
    sleeps: list[float] = []
    kw.setdefault("rate_limit", 0)
    c = TelegentClient("http://127.0.0.1:1", "DID-k", "s3cret", transport=httpx.MockTransport(script),
                       sleep=sleeps.append, rng=random.Random(0), **kw)
    return c, sleeps


def seq(*steps: Any) -> Callable[[httpx.Request, int], httpx.Response]:
    def api(request: httpx.Request, n: int) -> httpx.Response:
        step = steps[min(n, len(steps) - 1)]
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, httpx.Response)
        return step
    return api


def ok_list() -> httpx.Response:
    return httpx.Response(200, json={"Workgroups": []})


def test_get_retries_5xx_and_connection_errors_then_succeeds() -> None:
    script = Script(seq(httpx.Response(503), httpx.ReadTimeout("t"), httpx.Response(500), ok_list()))
    c, sleeps = client(script)
    assert c.list_workgroups() == []
    assert len(script.api_calls) == 4
    assert len(sleeps) == 3


def test_get_gives_up_after_max_retries() -> None:
    script = Script(seq(httpx.Response(500, json={"StatusCode": 500, "Message": "boom"})))
    c, _ = client(script, max_retries=2)
    with pytest.raises(ApiError, match="boom") as info:
        c.list_workgroups()
    assert info.value.status == 500
    assert not info.value.ambiguous  # a GET changes nothing
    assert len(script.api_calls) == 3


@pytest.mark.parametrize("failure", [httpx.Response(500), httpx.Response(502), httpx.Response(503),
                                     httpx.Response(504), httpx.Response(408),
                                     httpx.ReadTimeout("t"), httpx.RemoteProtocolError("dropped")])
def test_create_after_maybe_sent_failure_is_ambiguous_and_not_repeated(failure: Any) -> None:
    script = Script(seq(failure, httpx.Response(200, json={"WorkgroupId": "W"})))
    c, _ = client(script)
    with pytest.raises(ApiError) as info:
        c.create_workgroup({"Name": "A", "Type": "IVR"})
    assert info.value.ambiguous
    assert len(script.api_calls) == 1


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("t"),
                                     httpx.Response(429, headers={"Retry-After": "3"}),
                                     httpx.Response(401), httpx.Response(403)])
def test_create_retried_when_it_certainly_did_not_happen(failure: Any) -> None:
    script = Script(seq(failure, httpx.Response(200, json={"WorkgroupId": "WID-1"})))
    c, sleeps = client(script)
    assert c.create_workgroup({"Name": "A", "Type": "IVR"}) == "WID-1"
    assert len(script.api_calls) == 2
    if isinstance(failure, httpx.Response) and failure.status_code == 429:
        assert sleeps == [3.0]


def test_401_refreshes_the_token_once_then_auth_error() -> None:
    script = Script(seq(httpx.Response(401, json={"StatusCode": 401, "Message": "expired"})))
    c, _ = client(script)
    with pytest.raises(AuthError, match="expired"):
        c.list_workgroups()
    assert script.tokens == 2
    assert [r.headers["Authorization"] for r in script.api_calls] == ["Bearer tok1", "Bearer tok2"]


def test_token_reused_per_path_and_scoped_to_the_path_without_query() -> None:
    endpoints: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == spec.TOKENS:
            endpoints.append(json.loads(request.content)["ApiEndpoint"])
            return httpx.Response(200, json={"Token": "t", "Successful": True})
        if request.url.path == spec.WORKGROUPS:
            return httpx.Response(200, json={"WorkgroupId": "W1", "Name": "A", "Type": "IVR"})
        return httpx.Response(200, json={"WorkgroupId": "W1", "Successful": True})

    c = TelegentClient("http://127.0.0.1:9/v1.0/", "k", "s", rate_limit=0,
                       transport=httpx.MockTransport(handler))
    c.get_workgroup("W1")
    c.get_workgroup("W2")
    c.delete_workgroup("W1")
    assert endpoints == ["http://127.0.0.1:9/v1.0/workgroups", "http://127.0.0.1:9/v1.0/workgroups/delete"]
    assert c.request_counts() == {spec.TOKENS: 2, spec.WORKGROUPS: 2, spec.WORKGROUP_DELETE: 1}


def test_delete_404_after_a_maybe_successful_attempt_is_success() -> None:
    script = Script(seq(httpx.Response(503), httpx.Response(404)))
    c, _ = client(script)
    c.delete_workgroup("W1")
    assert script.api_calls[0].url.params["WorkgroupId"] == "W1"
    assert script.api_calls[0].content == b""  # the spec's delete has no body


def test_delete_404_first_time_is_not_found() -> None:
    script = Script(seq(httpx.Response(404, json={"StatusCode": 404, "Message": "Not found: W1"})))
    c, _ = client(script)
    with pytest.raises(NotFoundError, match="Not found: W1"):
        c.delete_workgroup("W1")


def test_token_refusals_are_auth_errors_without_the_secret() -> None:
    for response in (httpx.Response(401, json={"StatusCode": 401, "Message": "bad key"}),
                     httpx.Response(200, json={"successful": False, "error": "bad key"})):
        c = TelegentClient("http://127.0.0.1:9", "k", "s3cret-value", rate_limit=0,
                           transport=httpx.MockTransport(lambda r, resp=response: resp))
        with pytest.raises(AuthError, match="bad key") as info:
            c.list_workgroups()
        assert "s3cret-value" not in str(info.value)
        assert "s3cret-value" not in repr(c)


def test_successful_false_on_update_is_an_error() -> None:
    script = Script(seq(httpx.Response(200, json={"Successful": False, "Message": "locked"})))
    c, _ = client(script)
    with pytest.raises(ApiError, match="locked"):
        c.update_workgroup("W1", {"Name": "x"})


def test_bodies_carry_ids_and_account_id() -> None:
    script = Script(seq(httpx.Response(200, json={"WorkgroupId": "W9", "WorkgroupActivityId": "A9"})))
    c, _ = client(script, account_id="AID-7")
    c.create_workgroup({"Name": "A", "Type": "IVR", "ScheduleId": None})
    c.update_workgroup("W9", {"Name": "B"})
    c.create_activity("W9", {"Type": "User"})
    c.delete_activity("A9")
    bodies = [json.loads(r.content) for r in script.api_calls]
    assert bodies == [
        {"Name": "A", "Type": "IVR", "AccountId": "AID-7"},
        {"WorkgroupId": "W9", "Name": "B", "AccountId": "AID-7"},
        {"WorkgroupId": "W9", "Type": "User"},  # the activity schema has no AccountId
        {"WorkgroupActivityId": "A9"},
    ]


def test_on_request_reports_every_request() -> None:
    seen: list[tuple[str, str, int | None]] = []
    script = Script(seq(httpx.Response(503), httpx.ConnectError("x"), ok_list()))
    c, _ = client(script, on_request=lambda m, p, s, t: seen.append((m, p, s)))
    c.list_workgroups()
    assert seen == [("POST", spec.TOKENS, 200), ("GET", spec.ACCOUNT_WORKGROUPS, 503),
                    ("GET", spec.ACCOUNT_WORKGROUPS, None), ("GET", spec.ACCOUNT_WORKGROUPS, 200)]


def test_eight_threads_one_token_request() -> None:
    script = Script(seq(ok_list()))
    c, _ = client(script)
    threads = [threading.Thread(target=c.list_workgroups) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert script.tokens == 1
    assert c.request_counts()[spec.ACCOUNT_WORKGROUPS] == 8


@pytest.mark.parametrize("url", ["http://api.telegent.com", "ftp://127.0.0.1", "http://user:pw@127.0.0.1",
                                 "https://", "http://10.0.0.1:8080", "http://127.0.0.1/?x=1"])
def test_refused_base_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        TelegentClient(url, "k", "s")


@pytest.mark.parametrize(("url", "base"), [
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("http://127.9.9.9", "http://127.9.9.9"),
    ("http://[::1]:81", "http://[::1]:81"),
    ("http://localhost:5", "http://localhost:5"),
    ("https://api.telegent.com/v1.0", "https://api.telegent.com"),
])
def test_accepted_base_urls(url: str, base: str) -> None:
    assert TelegentClient(url, "k", "s").base_url == base


def test_from_env() -> None:
    c = TelegentClient.from_env({"TELEGENT_ACCOUNT_KEY": "k", "TELEGENT_ACCOUNT_SECRET": "s",
                                 "TELEGENT_RATE_LIMIT": "0", "TELEGENT_ACCOUNT_ID": "AID-1"})
    assert c.base_url == "https://api.telegent.com"
    assert c.limiter.limit == 0
    assert c.account_id == "AID-1"
    assert TelegentClient.from_env({"TELEGENT_ACCOUNT_KEY": "k", "TELEGENT_ACCOUNT_SECRET": "s"}).limiter.limit == 50
    with pytest.raises(ConfigError, match="TELEGENT_ACCOUNT_KEY and TELEGENT_ACCOUNT_SECRET"):
        TelegentClient.from_env({})
    with pytest.raises(ConfigError, match="TELEGENT_ACCOUNT_SECRET is not set"):
        TelegentClient.from_env({"TELEGENT_ACCOUNT_KEY": "k"})
    with pytest.raises(ConfigError, match="TELEGENT_RATE_LIMIT"):
        TelegentClient.from_env({"TELEGENT_ACCOUNT_KEY": "k", "TELEGENT_ACCOUNT_SECRET": "s",
                                 "TELEGENT_RATE_LIMIT": "fast"})
    with pytest.raises(ConfigError, match="plain http"):
        TelegentClient.from_env({"TELEGENT_ACCOUNT_KEY": "k", "TELEGENT_ACCOUNT_SECRET": "s",
                                 "TELEGENT_API_URL": "http://example.org"})


def _update(c: TelegentClient) -> None:
    c.update_workgroup("WID-1", {"Name": "B"})


def _delete(c: TelegentClient) -> None:
    c.delete_workgroup("WID-1")


@pytest.mark.parametrize("call", [_update, _delete], ids=["update", "delete"])
def test_exhausted_5xx_retries_of_a_change_are_ambiguous(call: Callable[[TelegentClient], None]) -> None:
    script = Script(seq(httpx.Response(503)))
    c, _ = client(script, max_retries=2)
    with pytest.raises(ApiError) as info:
        call(c)
    assert len(script.api_calls) == 3
    assert info.value.ambiguous  # a 5xx may come after the change took effect


@pytest.mark.parametrize("call", [_update, _delete], ids=["update", "delete"])
def test_a_change_whose_request_was_sent_and_then_lost_is_ambiguous(call: Callable[[TelegentClient], None]) -> None:
    script = Script(seq(httpx.ReadTimeout("t")))
    c, _ = client(script, max_retries=2)
    with pytest.raises(ApiError) as info:
        call(c)
    assert len(script.api_calls) == 3
    assert info.value.ambiguous  # the server may have applied it before the answer was lost


def test_a_change_that_was_never_sent_is_not_ambiguous() -> None:
    script = Script(seq(httpx.ConnectError("refused")))
    c, _ = client(script, max_retries=2)
    with pytest.raises(ApiError) as info:
        _update(c)
    assert not info.value.ambiguous


def test_a_429_ends_the_burst_for_the_rest_of_the_run() -> None:
    script = Script(seq(httpx.Response(429, headers={"Retry-After": "0"}), ok_list()))
    c, _ = client(script, rate_limit=6000, rate_burst=5)
    assert c.limiter.burst == 5
    c.list_workgroups()
    assert c.limiter.throttled_seen and c.limiter.burst == 1  # even spacing from now on
