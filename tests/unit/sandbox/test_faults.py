"""Injected faults: latency, 5xx with no side effect, commit-then-drop creates."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import httpx
import pytest

from telegent_sandbox import SandboxServer
from telegent_sandbox import app as sandbox_app
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory, http_client

HTTP = http_client()


def test_latency_applies_and_parallel_clients_overlap(sandbox_factory: SandboxFactory,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = sandbox_factory(rate_limit=0)
    clients = [Api(server) for _ in range(6)]
    for client in clients:
        client.token("/v1.0/account/workgroups")
    server.control.set_faults(latency_ms=300)
    start = time.perf_counter()
    assert clients[0].get("/v1.0/account/workgroups").status_code == 200
    assert time.perf_counter() - start >= 0.3  # at least the latency: load only adds to it
    # Overlap: all six requests must be inside their latency wait at once. Were the wait
    # serialised (a lock held while sleeping), the barrier would never fill and break.
    barrier = threading.Barrier(6, timeout=60)
    real_sleep = time.sleep

    def sleep_together(seconds: float) -> None:
        barrier.wait()
        real_sleep(seconds)

    monkeypatch.setattr(sandbox_app, "time", SimpleNamespace(sleep=sleep_together))
    results: list[int] = []
    threads = [threading.Thread(target=lambda c=c: results.append(c.get("/v1.0/account/workgroups").status_code))
               for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 6
    assert not barrier.broken


def test_jitter_stays_in_range(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, latency_ms=50, latency_jitter_ms=100, seed=1)
    faults = server._app.faults  # noqa: SLF001 - the delays the server draws, not how long a busy machine took
    delays = [faults.delay_seconds() for _ in range(200)]
    assert all(0.05 <= d <= 0.15 for d in delays)
    assert max(delays) - min(delays) > 0.05  # the jitter is really drawn, not a constant
    api = Api(server)
    api.token("/v1.0/account/workgroups")
    start = time.perf_counter()
    api.get("/v1.0/account/workgroups")
    assert time.perf_counter() - start >= 0.05  # at least the latency: load only adds to it


def test_errors_have_no_side_effect(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, error_rate=1.0, seed=7)
    api = Api(server)
    statuses = set()
    for _ in range(30):
        response = api.http.post("/v1.0/workgroups", json={"Name": "A", "Type": "IVR"})
        assert response.status_code in (500, 503, 504)
        assert response.json()["StatusCode"] == response.status_code
        statuses.add(response.status_code)
    assert statuses == {500, 503, 504}
    server.control.set_faults(error_rate=0.0)
    assert api.summaries() == []


def test_error_rate_is_a_probability(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, error_rate=0.5, seed=3)
    codes = [HTTP.get(f"{server.url}/v1.0/nowhere").status_code for _ in range(60)]
    failures = sum(code >= 500 for code in codes)
    assert 10 <= failures <= 50 and set(codes) - {500, 503, 504} == {404}


def test_seed_makes_faults_repeatable(sandbox_factory: SandboxFactory) -> None:
    runs = []
    for _ in range(2):
        server = sandbox_factory(rate_limit=0, error_rate=0.5, seed=42)
        runs.append([HTTP.get(f"{server.url}/v1.0/nowhere").status_code for _ in range(20)])
    assert runs[0] == runs[1]


def test_commit_then_drop(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, drop_creates=(2,))
    api = Api(server)
    api.create_workgroup(Name="first")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1.0/workgroups", {"Name": "second", "Type": "IVR"})
    api.create_workgroup(Name="third")
    assert [s["Name"] for s in api.summaries()] == ["first", "second", "third"]
    creates = [e for e in server.control.requests() if e["path"] == "/v1.0/workgroups"]
    assert [e["status"] for e in creates] == [200, None, 200]


def test_drop_set_at_run_time_counts_from_now(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    api.create_workgroup(Name="before")
    faults = sandbox.control.set_faults(drop_next_creates=1)
    assert faults["drop_creates"] == [1]
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1.0/workgroups", {"Name": "dropped", "Type": "IVR"})
    api.create_workgroup(Name="after")
    sandbox.control.set_faults(drop_creates=[2])
    api.create_workgroup(Name="one")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1.0/workgroups", {"Name": "two", "Type": "IVR"})
    assert [s["Name"] for s in api.summaries()] == ["before", "dropped", "after", "one", "two"]


def test_failed_creates_do_not_count_toward_drops(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, drop_creates=(1,))
    api = Api(server)
    assert api.post("/v1.0/workgroups", {"Name": "A"}).status_code == 400
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1.0/workgroups", {"Name": "A", "Type": "IVR"})
    assert len(api.summaries()) == 1
