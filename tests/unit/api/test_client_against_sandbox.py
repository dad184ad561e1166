"""The client against the real sandbox over loopback HTTP (no mocks)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from telegent_iac import spec
from telegent_iac.api import ApiError, AuthError, NotFoundError, TelegentClient
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from tests.support.sandbox_http import SandboxFactory, statuses


def make_client(server: SandboxServer, **kw: Any) -> TelegentClient:
    kw.setdefault("rate_limit", 0)
    kw.setdefault("backoff_base", 0.01)  # keep retries quick; the policy is what is tested
    return TelegentClient(server.url, DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, **kw)


def test_every_method_round_trips(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as c:
        assert c.list_workgroups() == []
        target = c.create_workgroup({"Name": "Overflow", "Type": "simultaneous"})
        wid = c.create_workgroup({"Name": "Support", "Type": "round-robin", "RecordCalls": True,
                                  "AnnouncementText": "Hello", "TelegentPhone": "+15551230000"})
        summaries = {s.name: s for s in c.list_workgroups()}
        assert summaries["Support"].workgroup_id == wid
        assert summaries["Support"].type == "round-robin"
        assert summaries["Overflow"].workgroup_id == target

        c.update_workgroup(wid, {"Name": "Support Team", "RecordCalls": False})
        aid = c.create_activity(wid, {"Type": "Workgroup", "ReferenceWorkgroupId": target, "DigitOrder": 1})
        details = c.get_workgroup(wid)
        assert details["Name"] == "Support Team"
        assert details["RecordCalls"] is False
        assert details["AnnouncementText"] == "Hello"
        assert details["Activities"] == [{"WorkgroupActivityId": aid, "Type": "Workgroup",
                                          "ReferenceWorkgroupId": target, "DigitOrder": 1}]
        c.update_activity(aid, {"DigitOrder": 2})
        assert c.get_workgroup(wid)["Activities"][0]["DigitOrder"] == 2
        c.delete_activity(aid)
        assert c.get_workgroup(wid)["Activities"] == []
        with pytest.raises(NotFoundError):
            c.delete_activity(aid)

        sid = c.create_schedule({"Name": "Office", "MondayStartTime": "8:00 AM", "MondayEndTime": "5:00 PM"})
        assert [s["ScheduleId"] for s in c.list_schedules()] == [sid]

        c.delete_workgroup(wid)
        with pytest.raises(NotFoundError):
            c.get_workgroup(wid)
        with pytest.raises(NotFoundError):
            c.delete_workgroup(wid)
        assert [s.name for s in c.list_workgroups()] == ["Overflow"]
    # Nothing the client sent was refused for its shape (the sandbox validates bodies).
    assert not [r for r in sandbox.control.requests() if r["status"] == 400]


def test_one_token_per_path_reused_across_calls(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as c:
        wid = c.create_workgroup({"Name": "A", "Type": "IVR"})
        for _ in range(3):
            c.list_workgroups()
            c.get_workgroup(wid)
        counts = c.request_counts()
    # Create and GET share /v1.0/workgroups; the list has its own token.
    assert counts == {spec.TOKENS: 2, spec.WORKGROUPS: 4, spec.ACCOUNT_WORKGROUPS: 3}
    assert sandbox.control.request_count(spec.TOKENS) == 2
    assert statuses(sandbox)[401] == 0


def test_short_token_ttl_keeps_working_on_fresh_tokens(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(token_ttl=1.0, rate_limit=0)
    with make_client(server) as c:
        deadline = time.monotonic() + 120  # three TTLs, however slow the machine
        calls = 0
        while c.token_fetches < 3:
            assert time.monotonic() < deadline, f"{c.token_fetches} tokens after {calls} calls"
            c.list_workgroups()
            calls += 1
            time.sleep(0.1)
        assert c.token_fetches < calls  # still reused within a token's life
    # Any 401 (a token expiring in flight) was followed by a fresh token and success.
    assert statuses(server)[200] >= calls


@pytest.mark.parametrize(("limit", "window", "creates"), [
    (10, 3.0, 25),  # the 60 s window, shrunk to keep this fast
    pytest.param(20, 60.0, 50, marks=pytest.mark.slow),  # the documented window (~2 min)
])
def test_pacing_against_the_same_limit_gets_no_429(sandbox_factory: SandboxFactory, limit: int,
                                                  window: float, creates: int) -> None:
    server = sandbox_factory(rate_limit=limit)
    server.control.set_config(rate_window=window)
    with make_client(server, rate_limit=limit, rate_window=window) as c:
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda i: c.create_workgroup({"Name": f"wg{i}", "Type": "IVR"}),
                                range(creates)))
        elapsed = time.monotonic() - started
        requests = sum(c.request_counts().values())
    assert len(set(ids)) == creates
    assert requests == creates + 1  # one token
    assert statuses(server)[429] == 0  # (the time it takes is the benchmark's budget item)
    assert elapsed >= (requests // limit) * window  # it really was paced


def test_server_limit_lower_than_configured_completes_via_retry_after(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=4)
    server.control.set_config(rate_window=2.0)
    with make_client(server, rate_limit=50) as c:
        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(lambda i: c.create_workgroup({"Name": f"wg{i}", "Type": "IVR"}), range(10)))
        live = c.list_workgroups()
    assert statuses(server)[429] > 0
    assert len(set(ids)) == 10
    assert sorted(s.name for s in live) == sorted(f"wg{i}" for i in range(10))  # no duplicates


def test_error_faults_retried_for_safe_calls_and_ambiguous_for_creates(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, seed=7)
    with make_client(server, max_retries=8) as c:
        wid = c.create_workgroup({"Name": "base", "Type": "IVR"})
        server.control.set_faults(error_rate=0.3)
        for _ in range(15):
            c.list_workgroups()
            c.get_workgroup(wid)
        c.update_workgroup(wid, {"AnnouncementText": "changed"})
        created, ambiguous = [], 0
        for i in range(20):
            try:
                created.append(c.create_workgroup({"Name": f"x{i}", "Type": "IVR"}))
            except ApiError as exc:
                assert exc.ambiguous
                assert exc.status in (500, 503, 504)
                ambiguous += 1
        server.control.set_faults(error_rate=0.0)
        assert c.get_workgroup(wid)["AnnouncementText"] == "changed"
        live = c.list_workgroups()
    log = server.control.requests()
    assert sum(1 for r in log if r["status"] in (500, 503, 504)) > 0
    assert ambiguous > 0
    # Each create was sent exactly once, never repeated after a 5xx.
    assert sum(1 for r in log if r["method"] == "POST" and r["path"] == spec.WORKGROUPS) == 21
    assert len(live) == 1 + len(created)  # the sandbox's 5xx has no side effect


def test_dropped_create_response_is_ambiguous_but_the_workgroup_exists(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, drop_creates=(2,))
    with make_client(server) as c:
        c.create_workgroup({"Name": "first", "Type": "IVR"})
        with pytest.raises(ApiError) as info:
            c.create_workgroup({"Name": "second", "Type": "IVR"})
        assert info.value.ambiguous
        assert [s.name for s in c.list_workgroups()].count("second") == 1
    creates = [r for r in server.control.requests() if r["path"] == spec.WORKGROUPS and r["method"] == "POST"]
    assert len(creates) == 2  # not retried


def test_delete_and_update_retry_through_faults(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, seed=3)
    with make_client(server, max_retries=10) as c:
        ids = [c.create_workgroup({"Name": f"d{i}", "Type": "IVR"}) for i in range(8)]
        server.control.set_faults(error_rate=0.4)
        for wid in ids:
            c.update_workgroup(wid, {"CallOrder": "2"})
            c.delete_workgroup(wid)
        server.control.set_faults(error_rate=0.0)
        assert c.list_workgroups() == []


def test_wrong_credentials_are_an_auth_error(sandbox: SandboxServer) -> None:
    with TelegentClient(sandbox.url, DEMO_ACCOUNT_KEY, "wrong-secret", rate_limit=0) as c, \
            pytest.raises(AuthError) as info:
        c.list_workgroups()
    assert "wrong-secret" not in str(info.value)


def test_eight_threads_cause_one_token_request(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as c:
        barrier = threading.Barrier(8)

        def work() -> None:
            barrier.wait()
            c.list_workgroups()

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sandbox.control.request_count(spec.TOKENS) == 1
    assert sandbox.control.request_count(spec.ACCOUNT_WORKGROUPS) == 8


DIALECTS = [
    {},
    {"envelope": "wrapped"},
    {"list_key": "Results"},
    {"id_prefix": "WG-"},
    {"read_quirks": True},
    {"envelope": "wrapped", "list_key": "Results", "id_prefix": "WG-", "read_quirks": True},
]


def _observe(server: SandboxServer) -> tuple[list[tuple[str, str | None, bool | None]], list[dict[str, Any]]]:
    with make_client(server) as c:
        ring = c.create_workgroup({"Name": "Ring", "Type": "simultaneous", "RecordCalls": True})
        menu = c.create_workgroup({"Name": "Menu", "Type": "IVR", "RecordCalls": False,
                                   "AnnouncementText": "Press 1"})
        c.create_activity(menu, {"Type": "Workgroup", "ReferenceWorkgroupId": ring, "DigitOrder": 1,
                                 "SmsNotification": True})
        summaries = sorted((s.name, s.type, s.active) for s in c.list_workgroups())
        details = []
        for wid in (ring, menu):
            d = c.get_workgroup(wid)
            for a in d["Activities"]:
                a.pop("WorkgroupActivityId")
                a["ReferenceWorkgroupId"] = "ring" if a.get("ReferenceWorkgroupId") == ring else "?"
            details.append(d)
    return summaries, details


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()) or "default")
def test_each_dialect_decodes_to_the_same_results(sandbox_factory: SandboxFactory, dialect: dict[str, Any]) -> None:
    expected_summaries, expected_details = _observe(sandbox_factory(rate_limit=0))
    summaries, details = _observe(sandbox_factory(rate_limit=0, **dialect))
    if dialect.get("read_quirks"):
        # The summary list spells ring types "ring": known only as "some ring type".
        expected_summaries = [(n, None if t in ("simultaneous", "round-robin") else t, a)
                              for n, t, a in expected_summaries]
    assert summaries == expected_summaries
    assert details == expected_details
    assert expected_details[1]["Type"] == "IVR"
    assert expected_details[1]["Activities"] == [{"Type": "Workgroup", "ReferenceWorkgroupId": "ring",
                                                  "DigitOrder": 1, "SmsNotification": True}]


def test_secret_and_tokens_never_logged_or_shown(sandbox_factory: SandboxFactory,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    server = sandbox_factory(rate_limit=0, seed=5, drop_creates=(1,), error_rate=0.2)
    seen: list[tuple[str, str, int | None, float]] = []
    caplog.set_level("DEBUG")
    messages: list[str] = []
    with make_client(server, on_request=lambda *a: seen.append(a)) as c:
        for i in range(6):
            try:
                c.create_workgroup({"Name": f"s{i}", "Type": "IVR"})
            except ApiError as exc:
                messages.append(f"{exc} {exc!r}")
        c.list_workgroups()
        tokens = [e.token for e in c._tokens._entries.values() if e.token]  # noqa: SLF001
        messages.append(repr(c))
    assert tokens
    text = caplog.text + "\n".join(messages) + repr(seen)
    assert "telegent_iac.api" in {r.name for r in caplog.records}
    for secret in [DEMO_ACCOUNT_SECRET, *tokens]:
        assert secret not in text
    assert len(seen) == sum(c.request_counts().values())
