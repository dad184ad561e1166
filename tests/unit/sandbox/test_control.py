"""The control endpoint over HTTP, the request log, persistence, reset, the CLI's guard rails."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from telegent_sandbox import DEMO_ACCOUNT_SECRET, SandboxOptions, SandboxServer
from telegent_sandbox.command import sandbox_command
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory, http_client

HTTP = http_client()


def test_request_log_over_http(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    api.create_workgroup()
    api.get("/v1.0/nowhere", token="x")
    control = http_client(f"{sandbox.url}/_sandbox")
    assert control.get("/requests").json()["requests"] == [
        {"method": "POST", "path": "/v1.0/oauth2/tokens", "status": 200},
        {"method": "POST", "path": "/v1.0/workgroups", "status": 200},
        {"method": "GET", "path": "/v1.0/nowhere", "status": 404},
    ]
    assert control.get("/requests/count", params={"path": "/v1.0/workgroups"}).json() == {"count": 1}
    assert control.get("/requests/count").json() == {"count": 3}
    assert sandbox.control.request_count("/V1.0/Workgroups") == 1
    assert control.delete("/requests").json() == {"cleared": True}
    assert sandbox.control.requests() == []  # control calls themselves are never logged
    api.get("/v1.0/account/workgroups")
    assert control.post("/requests/clear").status_code == 200
    assert sandbox.control.request_count() == 0


def test_log_has_no_secrets_and_query_strings_are_dropped(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, log_bodies=True)
    api = Api(server)
    wid = api.create_workgroup(Name="Logged")["WorkgroupId"]
    api.workgroup(wid)
    log = server.control.requests()
    text = repr(log) + HTTP.get(f"{server.url}/_sandbox/requests").text
    assert DEMO_ACCOUNT_SECRET not in text
    assert all(token not in text for token in api.tokens.values())
    assert log[0]["body"]["AccountSecret"] == "<redacted>"
    assert log[1]["body"] == {"Name": "Logged", "Type": "IVR"}
    assert log[-1]["path"] == "/v1.0/workgroups"  # no ?WorkgroupId=


def test_faults_and_config_over_http(sandbox: SandboxServer) -> None:
    control = http_client(f"{sandbox.url}/_sandbox")
    # Control requests get no latency: with an hour of it, this one would time out.
    assert control.post("/faults", json={"latency_ms": 3_600_000}).status_code == 200
    assert control.get("/faults").json()["latency_ms"] == 3_600_000
    faults = control.post("/faults", json={"latency_ms": 200, "error_rate": 0.0, "drop_next_creates": 2})
    assert faults.status_code == 200
    assert faults.json()["latency_ms"] == 200 and faults.json()["drop_creates"] == [1, 2]
    start = time.perf_counter()
    HTTP.get(f"{sandbox.url}/v1.0/account/workgroups")
    assert time.perf_counter() - start >= 0.2
    config = control.post("/config", json={"rate_limit": 1, "token_ttl": 10})
    assert config.json() == {"rate_limit": 1, "rate_window": 60.0, "token_ttl": 10.0}
    assert control.get("/config").json()["rate_limit"] == 1
    for _ in range(3):  # control requests are not rate-limited
        assert control.get("/requests").status_code == 200
    assert control.post("/faults", json={"error_rate": 2}).status_code == 400
    assert control.post("/faults", json={"bogus": 1}).status_code == 400
    assert control.post("/config", content=b"{nope").status_code == 400
    assert control.get("/nothing").status_code == 404
    assert control.get("/reset").status_code == 405
    info = control.get("/").json()
    assert "not Telegent" in info["emulator"] and "DID-sandbox-demo" in info["accounts"]
    assert DEMO_ACCOUNT_SECRET not in control.get("/").text


def test_reset_in_process_and_over_http(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, accounts=(("DID-b", "b-secret"),))
    a, b = Api(server), Api(server, key="DID-b", secret="b-secret")
    wid = a.create_workgroup()["WorkgroupId"]
    a.post("/v1.0/workgroups/activity", {"WorkgroupId": wid, "Type": "User"})
    b.create_workgroup()
    b.post("/v1.0/schedules", {"Name": "S"})
    server.control.reset()
    assert a.summaries() == [] and b.summaries() == []
    assert b.get("/v1.0/account/schedules").json()["TotalSchedules"] == 0
    a.create_workgroup()
    assert HTTP.post(f"{server.url}/_sandbox/reset").json() == {"reset": True}
    assert a.summaries() == []


def test_file_db_persists_across_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    with SandboxServer(SandboxOptions(db=db, rate_limit=0)) as first:
        api = Api(first)
        wid = api.create_workgroup(Name="Kept", RecordCalls=True)["WorkgroupId"]
        api.post("/v1.0/workgroups/activity", {"WorkgroupId": wid, "Type": "User", "DigitOrder": 1})
        api.post("/v1.0/schedules", {"Name": "Hours"})
        old_token = api.token("/v1.0/account/workgroups")
        api.close()
    with SandboxServer(SandboxOptions(db=db, rate_limit=0)) as second:
        api = Api(second)
        # Tokens live in memory only: a restart logs every client out.
        assert api.get("/v1.0/account/workgroups", token=old_token).status_code == 401
        assert [s["Name"] for s in api.summaries()] == ["Kept"]
        detail = api.workgroup(wid).json()
        assert detail["RecordCalls"] is True and detail["Activities"][0]["DigitOrder"] == 1
        assert api.get("/v1.0/account/schedules").json()["Results"][0]["Name"] == "Hours"
        api.create_workgroup(Name="Later")
        assert [s["Name"] for s in api.summaries()] == ["Kept", "Later"]


def test_server_lifecycle(sandbox_factory: SandboxFactory) -> None:
    server = SandboxServer(SandboxOptions())
    with pytest.raises(RuntimeError):
        _ = server.control
    server.start()
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}"
    with http_client() as client:  # a keep-alive connection open while the server stops
        assert client.get(f"{server.url}/_sandbox/").status_code == 200
        server.stop()
        server.stop()  # idempotent
        with pytest.raises(httpx.TransportError):
            client.get(f"{server.url}/_sandbox/")
    with pytest.raises(ValueError, match="loopback"):
        SandboxOptions(host="0.0.0.0")
    with pytest.raises(ValueError):
        SandboxOptions(envelope="xml")  # type: ignore[arg-type]


def test_keep_alive_and_content_length(sandbox: SandboxServer) -> None:
    with http_client(sandbox.url) as client:
        first = client.get("/_sandbox/requests")
        second = client.get("/v1.0/nowhere")
        assert first.headers["Content-Length"] == str(len(first.content))
        assert second.headers["Content-Length"] == str(len(second.content))
        assert client._transport._pool.connections.__len__() == 1  # type: ignore[attr-defined]


def test_cli_help_and_guard_rails() -> None:
    runner = CliRunner()
    help_text = runner.invoke(sandbox_command, ["--help"]).output
    assert "not Telegent" in help_text.replace("NOT", "not")
    for flag in ("--host", "--port", "--db", "--reset", "--token-ttl", "--rate-limit", "--latency-ms",
                 "--latency-jitter-ms", "--error-rate", "--drop-create", "--envelope", "--list-key",
                 "--id-prefix", "--read-quirks", "--seed", "--account"):
        assert flag in help_text
    remote = runner.invoke(sandbox_command, ["--host", "192.168.1.10"])
    assert remote.exit_code == 2 and "loopback" in remote.output
    bad_account = runner.invoke(sandbox_command, ["--account", "no-colon"])
    assert bad_account.exit_code == 2 and "KEY:SECRET" in bad_account.output


@pytest.mark.slow
def test_ten_thousand_workgroups(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    token = api.token("/v1.0/workgroups")
    for i in range(10_000):
        response = api.http.post("/v1.0/workgroups", json={"Name": f"W{i}", "Type": "IVR"},
                                 headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    summaries = api.summaries()
    assert len(summaries) == 10_000 and summaries[-1]["Name"] == "W9999"
