"""A state belongs to one account: it records the API URL and the account, and a run against
another one is refused naming both. The sandbox keeps its own state by default, and a plan
saved with --sandbox is applied there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from telegent_sandbox import DEMO_ACCOUNT_KEY, SandboxServer
from tests.support.cli import cli_env, copy_example, live_names, run, state_path
from tests.support.sandbox_http import SandboxFactory

OTHER_KEY, OTHER_SECRET = "DID-other-account", "other-account-secret"


def recorded_account(path: Path) -> dict[str, object]:
    account = json.loads(path.read_text())["account"]
    assert isinstance(account, dict)
    return account


def test_the_state_records_url_and_a_keyed_hash_never_the_key(tmp_path: Path, sandbox: SandboxServer) -> None:
    config, state = copy_example(tmp_path), state_path(tmp_path)
    assert run(cli_env(sandbox), "apply", config, "--state", state, "--auto-approve").exit_code == 0
    account = recorded_account(state)
    assert account["api_url"] == sandbox.url
    key_hash = str(account["key_hash"])
    assert len(key_hash) == 64 and DEMO_ACCOUNT_KEY not in state.read_text()
    import hashlib

    assert key_hash != hashlib.sha256(DEMO_ACCOUNT_KEY.encode()).hexdigest()  # not a plain digest


def test_another_account_is_refused_naming_both(tmp_path: Path, sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(db=":memory:", rate_limit=0, accounts=((OTHER_KEY, OTHER_SECRET),))
    config, state = copy_example(tmp_path), state_path(tmp_path)
    assert run(cli_env(server), "apply", config, "--state", state, "--auto-approve").exit_code == 0
    before = state.read_bytes()
    mine = str(recorded_account(state)["key_hash"])[:12]
    other = cli_env(server, OTHER_KEY, OTHER_SECRET)
    for args in (["plan", config], ["apply", config, "--auto-approve"], ["import", "x.y", "WID-1"]):
        result = run(other, *args, "--state", state)
        assert result.exit_code == 1, result.output
        assert f"key hash {mine}" in result.stderr and "this run is for the account with key hash" in result.stderr
        assert "--state" in result.stderr
    assert state.read_bytes() == before
    assert live_names(server, OTHER_KEY, OTHER_SECRET) == []  # nothing was created in the other account
    # its own state is fine
    assert run(other, "plan", config, "--state", tmp_path / "other.state.json").exit_code == 0


def test_another_api_url_is_refused(tmp_path: Path, sandbox_factory: SandboxFactory) -> None:
    first = sandbox_factory(db=":memory:", rate_limit=0)
    second = sandbox_factory(db=":memory:", rate_limit=0)
    config, state = copy_example(tmp_path), state_path(tmp_path)
    assert run(cli_env(first), "apply", config, "--state", state, "--auto-approve").exit_code == 0
    result = run(cli_env(second), "apply", config, "--state", state, "--auto-approve")
    assert result.exit_code == 1
    assert first.url in result.stderr and second.url in result.stderr
    assert live_names(second) == []


def test_an_account_id_decides_when_both_sides_know_it(tmp_path: Path, sandbox: SandboxServer) -> None:
    config, state = copy_example(tmp_path), state_path(tmp_path)
    env = cli_env(sandbox, TELEGENT_ACCOUNT_ID="AID-one")
    assert run(env, "apply", config, "--state", state, "--auto-approve").exit_code == 0
    assert recorded_account(state)["account_id"] == "AID-one"
    refused = run(cli_env(sandbox, TELEGENT_ACCOUNT_ID="AID-two"), "plan", config, "--state", state)
    assert refused.exit_code == 1 and "account AID-one" in refused.stderr and "account AID-two" in refused.stderr


def test_an_old_state_is_adopted_on_its_first_write(tmp_path: Path, sandbox: SandboxServer) -> None:
    config, state = copy_example(tmp_path), state_path(tmp_path)
    env = cli_env(sandbox)
    assert run(env, "apply", config, "--state", state, "--auto-approve").exit_code == 0
    body = json.loads(state.read_text())
    del body["account"]  # as an older telegent-iac wrote it
    state.write_text(json.dumps(body))
    planned = run(env, "plan", config, "--state", state)
    assert planned.exit_code == 0 and "records no account" in planned.stderr
    assert "account" not in json.loads(state.read_text())  # plan never writes
    config.write_text(config.read_text().replace("Sales", "Sales team", 1))
    applied = run(env, "apply", config, "--state", state, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "records no account" in applied.stderr
    assert recorded_account(state)["api_url"] == sandbox.url


def test_sandbox_runs_keep_their_own_state(tmp_path: Path, sandbox: SandboxServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = copy_example(tmp_path)
    real = tmp_path / "state" / "telegent.state.json"
    assert run({"NO_COLOR": "1"}, "apply", "--sandbox", config, "--auto-approve").exit_code == 0
    assert (tmp_path / "state" / "sandbox.state.json").exists() and not real.exists()
    assert recorded_account(tmp_path / "state" / "sandbox.state.json")["api_url"] == "sandbox"
    # a real run on the default state, then the sandbox pointed at it explicitly: refused
    assert run(cli_env(sandbox), "apply", config, "--auto-approve").exit_code == 0
    refused = run({"NO_COLOR": "1"}, "plan", "--sandbox", "--state", real, config)
    assert refused.exit_code == 1 and "at sandbox" in refused.stderr and sandbox.url in refused.stderr


def test_a_plan_saved_with_sandbox_is_applied_there(tmp_path: Path, sandbox: SandboxServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = copy_example(tmp_path)
    planned = run({"NO_COLOR": "1"}, "plan", "--sandbox", config, "--out", "sandbox.plan")
    assert planned.exit_code == 0, planned.output
    assert json.loads((tmp_path / "sandbox.plan").read_text())["sandbox"] is True
    # applied without --sandbox and with real credentials in the environment: still the sandbox
    applied = run(cli_env(sandbox), "apply", "sandbox.plan")
    assert applied.exit_code == 0, applied.output
    assert "built-in sandbox" in applied.stderr
    assert live_names(sandbox) == []
    assert (tmp_path / "state" / "sandbox.state.json").exists()
    assert not (tmp_path / "state" / "telegent.state.json").exists()
