"""Bounded by the server, never by hope: the client against a hostile server on 127.0.0.1
(trickling bodies and headers, huge bodies, absurd Retry-After, repeated IDs). Assertions are
on events (what the server managed to send, what the client reported), never on durations."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from telegent_iac.api.client import ENV_MAX_RESPONSE, ENV_MAX_RETRY_AFTER, ENV_TIMEOUT, TelegentClient
from telegent_iac.api.failures import ApiError, ConfigError
from telegent_iac.api.pacing import RateLimiter
from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, run
from tests.support.hostile_server import Behaviour, HostileServer, hostile_server


def client_for(server: HostileServer, **kw: object) -> TelegentClient:
    options: dict[str, object] = {"rate_limit": 0, "max_retries": 0, **kw}
    return TelegentClient(server.url, "key", "secret", **options)  # type: ignore[arg-type]


def settled(server: HostileServer, timeout: float = 60.0) -> int:
    """The bytes the server sent, once its handler stopped sending (the client hung up)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        now = server.counters.body_bytes_sent
        if now == last:
            return now
        last = now
        time.sleep(0.3)
    raise AssertionError("the server never stopped sending")


@pytest.mark.parametrize("mode", ["trickle", "trickle-headers"])
def test_a_trickling_server_fails_within_the_total_deadline(mode: str) -> None:
    # 200 bytes, one every 0.2 s: 40 s to finish, while every single read is quick.
    behaviour = Behaviour(mode=mode, trickle_interval=0.2, trickle_bytes=200)
    with hostile_server(behaviour) as server, client_for(server, timeout=1.5) as client:
        with pytest.raises(ApiError) as info:
            client.list_workgroups()
        assert f"no complete response within 1.5s ({ENV_TIMEOUT})" in str(info.value)
        sent = settled(server)
        assert server.counters.finished == 0
        assert sent < 200  # cut off part-way, not read to the end


def test_a_create_cut_off_by_the_deadline_is_ambiguous_not_retried() -> None:
    behaviour = Behaviour(mode="trickle", trickle_interval=0.2, trickle_bytes=200)
    with hostile_server(behaviour) as server, client_for(server, timeout=1.0, max_retries=5) as client:
        with pytest.raises(ApiError) as info:
            client.create_workgroup({"Name": "A", "Type": "simultaneous"})
        assert info.value.ambiguous
        assert server.counters.requests.count("POST /v1.0/workgroups") == 1


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_a_huge_body_is_refused_while_streaming(declared: bool) -> None:
    behaviour = Behaviour(mode="huge-declared" if declared else "huge", huge_bytes=256 * 1024 * 1024)
    with hostile_server(behaviour) as server, client_for(server, max_response_bytes=1024 * 1024) as client:
        with pytest.raises(ApiError) as info:
            client.list_workgroups()
        message = str(info.value)
        assert "more than the 1,048,576-byte cap" in message and ENV_MAX_RESPONSE in message
        assert ("announces 268,435,456 bytes" in message) if declared else ("passed 1,048,576 bytes" in message)
        sent = settled(server)
        assert server.counters.finished == 0
        # Refused while streaming: far less than the 256 MiB on offer reached the socket (what
        # was sent is the cap plus the kernel's socket buffers).
        assert sent < 64 * 1024 * 1024


def test_json_nested_100000_deep_is_an_api_error_not_a_crash() -> None:
    with hostile_server(Behaviour(mode="deep")) as server, client_for(server) as client:
        with pytest.raises(ApiError):
            client.list_workgroups()  # 200 with the body
        with pytest.raises(ApiError) as info:
            client.create_workgroup({"Name": "A", "Type": "simultaneous"})  # 400 with the body
        assert info.value.status == 400


def test_the_default_cap_is_16_mib() -> None:
    with TelegentClient("http://127.0.0.1:9", "k", "s") as client:
        assert client.max_response_bytes == 16 * 1024 * 1024
        assert client.max_retry_after == 120


def test_retry_after_above_the_cap_ends_the_run_with_a_message() -> None:
    slept: list[float] = []
    with (
        hostile_server(Behaviour(mode="retry-after", retry_after="100000")) as server,
        client_for(server, sleep=slept.append) as client,
        pytest.raises(ApiError) as info,
    ):
        client.list_workgroups()
    message = str(info.value)
    assert "asks to wait 100000s (Retry-After)" in message and f"more than 120s ({ENV_MAX_RETRY_AFTER})" in message
    assert slept == []
    assert server.counters.requests.count("GET /v1.0/account/workgroups") == 1


def test_every_wait_over_5s_says_what_it_waits_for() -> None:
    slept: list[float] = []
    told: list[str] = []
    with (
        hostile_server(Behaviour(mode="retry-after", retry_after="30")) as server,
        client_for(server, sleep=slept.append, on_wait=told.append, max_throttle_retries=2) as client,
        pytest.raises(ApiError, match="still rate limited after 2 waits"),
    ):
        client.list_workgroups()
    assert slept == [30, 30]
    assert told == ["Waiting 30s as the server asks (HTTP 429, rate limited) before retrying "
                    "GET /v1.0/account/workgroups..."] * 2
    # Short waits stay quiet.
    told.clear()
    with (
        hostile_server(Behaviour(mode="retry-after", retry_after="2")) as server,
        client_for(server, sleep=slept.append, on_wait=told.append, max_throttle_retries=1) as client,
        pytest.raises(ApiError),
    ):
        client.list_workgroups()
    assert told == []


def test_a_long_wait_for_the_rate_limit_is_announced() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(1, 60.0, burst=1, clock=lambda: now[0], sleep=sleep)
    heard: list[float] = []
    limiter.acquire(heard.append)
    limiter.release()
    assert heard == []  # no wait, nothing said
    limiter.acquire(heard.append)  # the next slot is a minute away
    limiter.release()
    assert len(heard) == 1 and heard[0] > 5
    # Waiting on the condition variable (no injected sleep): told once as well.
    real = RateLimiter(1, 0.3, burst=1)
    heard.clear()
    real.acquire(heard.append, notice=0.05)
    real.release()
    real.acquire(heard.append, notice=0.05)
    real.release()
    assert len(heard) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [(ENV_MAX_RESPONSE, "lots"), (ENV_MAX_RESPONSE, "0"), (ENV_MAX_RETRY_AFTER, "-1"), (ENV_TIMEOUT, "nan"),
     (ENV_TIMEOUT, "inf")],
)
def test_limits_from_the_environment_are_checked(name: str, value: str) -> None:
    env = {"TELEGENT_ACCOUNT_KEY": "k", "TELEGENT_ACCOUNT_SECRET": "s", name: value}
    with pytest.raises(ConfigError, match=name):
        TelegentClient.from_env(env)
    good = {**env, ENV_MAX_RESPONSE: "2048", ENV_MAX_RETRY_AFTER: "7.5", ENV_TIMEOUT: "3"}
    with TelegentClient.from_env(good) as client:
        assert (client.max_response_bytes, client.max_retry_after, client.timeout) == (2048, 7.5, 3.0)


# --- repeated IDs ------------------------------------------------------------------------------


def test_a_server_repeating_an_id_for_two_creates_is_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "wg.yaml").write_text(
        "workgroups:\n  first:\n    Name: First\n    Type: simultaneous\n"
        "  second:\n    Name: Second\n    Type: simultaneous\n"
    )
    state = tmp_path / "s.json"
    with hostile_server(Behaviour(mode="repeat-id")) as server:
        env = {"TELEGENT_API_URL": server.url, "TELEGENT_ACCOUNT_KEY": "k", "TELEGENT_ACCOUNT_SECRET": "s",
               "TELEGENT_RATE_LIMIT": "0", "NO_COLOR": "1"}
        result = run(env, "apply", "--auto-approve", "--parallelism", "1", "--state", state, tmp_path / "wg.yaml")
    assert result.exit_code == 1, result.output
    assert ("the server answered the create of second with workgroup ID WID-REPEATED, which the state "
            "already records at first; refusing to record one ID at two addresses") in result.stderr
    recorded = json.loads(state.read_text())["workgroups"]
    assert recorded["first"]["id"] == "WID-REPEATED"
    assert recorded["second"].get("id") is None and recorded["second"]["pending_create"]


def test_a_state_with_one_id_at_two_addresses_is_refused_naming_both(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    (tmp_path / "wg.yaml").write_text("workgroups:\n  a:\n    Name: A\n    Type: simultaneous\n")
    state = tmp_path / "s.json"
    env = cli_env(sandbox)
    assert run(env, "apply", "--auto-approve", "--state", state, tmp_path / "wg.yaml").exit_code == 0
    body = json.loads(state.read_text())
    body["workgroups"]["b"] = dict(body["workgroups"]["a"])  # a hand edit gone wrong
    state.write_text(json.dumps(body))
    for command in ("plan", "apply"):
        result = run(env, command, "--auto-approve" if command == "apply" else "--no-color", "--state", state,
                     tmp_path / "wg.yaml")
        assert result.exit_code == 1, result.output
        wid = body["workgroups"]["a"]["id"]
        assert f"workgroup ID {wid} is recorded at both a and b" in result.stderr, result.stderr
        assert "telegent-iac state rm" in result.stderr
    # The way out it names works.
    assert run(env, "state", "rm", "--state", state, "b").exit_code == 0
    assert run(env, "plan", "--state", state, tmp_path / "wg.yaml").exit_code == 0
