"""The core plan/apply flow against the real sandbox over loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from telegent_sandbox import SandboxServer
from tests.support import FIXTURES
from tests.support.cli import cli_env, live_names, run, state_json
from tests.support.sandbox_http import SandboxFactory, get_token


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "workgroups.yaml"
    shutil.copy(FIXTURES / "three.yaml", target)
    return target


def test_first_apply_creates_exactly_the_declared_workgroups(sandbox: SandboxServer, config: Path,
                                                              tmp_path: Path) -> None:
    env, state = cli_env(sandbox), tmp_path / "state.json"
    result = run(env, "apply", "--auto-approve", "--state", str(state), str(config))
    assert result.exit_code == 0, result.output
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in result.stdout
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in result.stdout
    assert live_names(sandbox) == ["After hours", "Main menu", "Sales"]
    creates = [r for r in sandbox.control.requests() if r["method"] == "POST" and r["path"] == "/v1.0/workgroups"]
    assert len(creates) == 3
    saved = state_json(state)
    assert saved["serial"] > 0 and saved["lineage"]
    assert all(w["id"] for w in saved["workgroups"].values())
    assert not any("pending_create" in w for w in saved["workgroups"].values())
    # the IVR's member refers to sales by its real ID, resolved at apply time
    menu_id = saved["workgroups"]["main-menu"]["id"]
    token = get_token(sandbox, "/v1.0/workgroups")
    detail = httpx.get(f"{sandbox.url}/v1.0/workgroups", params={"WorkgroupId": menu_id},
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert detail["OffHoursId"] == saved["workgroups"]["after-hours"]["id"]
    assert detail["Activities"][0]["ReferenceWorkgroupId"] == saved["workgroups"]["sales"]["id"]
    # There was no state before this run, so there is nothing to back up; the next run that
    # writes keeps this one as the backup.
    assert not Path(str(state) + ".backup").exists()
    changed = config.read_text(encoding="utf-8").replace("Sales", "Sales team", 1)
    config.write_text(changed, encoding="utf-8")
    assert run(env, "apply", "--auto-approve", "--state", str(state), str(config)).exit_code == 0
    backup = state_json(Path(str(state) + ".backup"))
    assert (backup["lineage"], backup["serial"]) == (saved["lineage"], saved["serial"])
    assert backup["workgroups"]["sales"]["fields"]["Name"] == "Sales"


def test_noop_plan_exits_0_with_exactly_two_requests(sandbox: SandboxServer, config: Path, tmp_path: Path) -> None:
    env, state = cli_env(sandbox), str(tmp_path / "state.json")
    assert run(env, "apply", "--auto-approve", "--state", state, str(config)).exit_code == 0
    sandbox.control.clear_requests()
    result = run(env, "plan", "--detailed-exitcode", "--state", state, str(config))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "No changes."
    assert [(r["method"], r["path"]) for r in sandbox.control.requests()] == [
        ("POST", "/v1.0/oauth2/tokens"),
        ("GET", "/v1.0/account/workgroups"),
    ]


def test_detailed_exitcode_is_2_with_changes_and_plan_changes_nothing(sandbox: SandboxServer, config: Path,
                                                                     tmp_path: Path) -> None:
    env = cli_env(sandbox)
    result = run(env, "plan", "--detailed-exitcode", "--state", str(tmp_path / "s.json"), str(config))
    assert result.exit_code == 2
    assert "+ workgroup \"sales\"" in result.stdout
    assert live_names(sandbox) == []


def test_adding_one_workgroup_creates_exactly_one(sandbox: SandboxServer, config: Path, tmp_path: Path) -> None:
    env, state = cli_env(sandbox), str(tmp_path / "state.json")
    assert run(env, "apply", "--auto-approve", "--state", state, str(config)).exit_code == 0
    config.write_text(config.read_text() + "  billing:\n    Name: Billing\n    Type: round-robin\n")
    sandbox.control.clear_requests()
    result = run(env, "apply", "--auto-approve", "--state", state, str(config))
    assert result.exit_code == 0, result.output
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.stdout
    creates = [r for r in sandbox.control.requests() if r["path"] == "/v1.0/workgroups" and r["method"] == "POST"]
    assert len(creates) == 1
    assert live_names(sandbox) == ["After hours", "Billing", "Main menu", "Sales"]


def test_workgroup_deleted_behind_our_back_is_planned_again(sandbox: SandboxServer, config: Path,
                                                           tmp_path: Path) -> None:
    env, state = cli_env(sandbox), tmp_path / "state.json"
    assert run(env, "apply", "--auto-approve", "--state", str(state), str(config)).exit_code == 0
    sales_id = state_json(state)["workgroups"]["sales"]["id"]
    token = get_token(sandbox, "/v1.0/workgroups/delete")
    httpx.post(f"{sandbox.url}/v1.0/workgroups/delete", params={"WorkgroupId": sales_id},
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    result = run(env, "plan", "--state", str(state), str(config))
    assert "deleted outside telegent-iac" in result.stdout
    assert "Plan: 1 to add" in result.stdout
    # The IVR menu's member pointed at sales: it is re-created with the new ID in the same apply.
    assert "re-point" in result.stdout
    assert run(env, "apply", "--auto-approve", "--state", str(state), str(config)).exit_code == 0
    assert live_names(sandbox).count("Sales") == 1
    saved = state_json(state)
    new_id = saved["workgroups"]["sales"]["id"]
    assert new_id != sales_id
    token = get_token(sandbox, "/v1.0/workgroups")
    detail = httpx.get(f"{sandbox.url}/v1.0/workgroups", params={"WorkgroupId": saved["workgroups"]["main-menu"]["id"]},
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert detail["Activities"][0]["ReferenceWorkgroupId"] == new_id
    assert run(env, "plan", "--detailed-exitcode", "--state", str(state), str(config)).exit_code == 0


def test_same_name_unknown_to_state_is_a_conflict_not_a_duplicate(sandbox: SandboxServer, config: Path,
                                                                 tmp_path: Path) -> None:
    env = cli_env(sandbox)
    token = get_token(sandbox, "/v1.0/workgroups")
    made = httpx.post(f"{sandbox.url}/v1.0/workgroups", json={"Name": "Sales", "Type": "simultaneous"},
                      headers={"Authorization": f"Bearer {token}"}).json()
    result = run(env, "apply", "--auto-approve", "--state", str(tmp_path / "s.json"), str(config))
    assert result.exit_code == 1
    assert "already has a workgroup named 'Sales'" in result.stdout
    assert f"telegent-iac import sales {made['WorkgroupId']}" in result.stdout
    assert live_names(sandbox) == ["Sales"]


def test_lost_create_response_leaves_no_duplicate(sandbox: SandboxServer, config: Path, tmp_path: Path) -> None:
    env, state = cli_env(sandbox), tmp_path / "state.json"
    sandbox.control.set_faults(drop_creates=[1, 2])
    result = run(env, "apply", "--auto-approve", "--parallelism", "1", "--state", str(state), str(config))
    assert result.exit_code == 0, result.output
    assert "adopted" in result.stderr
    assert live_names(sandbox) == ["After hours", "Main menu", "Sales"]
    ids = {w["id"] for w in state_json(state)["workgroups"].values()}
    assert len(ids) == 3 and None not in ids


def test_server_limit_lower_than_configured_still_completes(sandbox_factory: SandboxFactory, config: Path,
                                                            tmp_path: Path) -> None:
    server = sandbox_factory(db=":memory:", rate_limit=6)
    server.control.set_config(rate_window=5.0)  # 6 per 5 s: the same pushback, a shorter wait
    env = cli_env(server, TELEGENT_RATE_LIMIT="1000")  # the client believes it may go much faster
    result = run(env, "apply", "--auto-approve", "--state", str(tmp_path / "s.json"), str(config))
    assert result.exit_code == 0, result.output
    statuses = [r["status"] for r in server.control.requests()]
    assert 429 in statuses  # the server did push back, and Retry-After was honoured
    assert live_names(server) == ["After hours", "Main menu", "Sales"]


def test_bad_input_reports_every_problem_with_place_and_sends_nothing(sandbox: SandboxServer,
                                                                      tmp_path: Path) -> None:
    env = cli_env(sandbox)
    bad = str(FIXTURES / "bad.yaml")
    for command in (["validate", bad], ["plan", "--state", str(tmp_path / "s.json"), bad],
                    ["apply", "--auto-approve", "--state", str(tmp_path / "s.json"), bad]):
        result = run(env, *command)
        assert result.exit_code == 1
        assert "bad.yaml:4:" in result.stderr and "Type" in result.stderr
        assert "bad.yaml:5:" in result.stderr and "did you mean 'Name'" in result.stderr
        assert "bad.yaml:6:" in result.stderr and "TelegentPhone" in result.stderr
        assert "Traceback" not in result.output
    assert sandbox.control.requests() == []


def test_apply_without_terminal_needs_auto_approve(sandbox: SandboxServer, config: Path, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    result = run(env, "apply", "--state", str(tmp_path / "s.json"), str(config))
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert live_names(sandbox) == []


def test_secrets_never_in_state_or_output(sandbox_factory: SandboxFactory, config: Path, tmp_path: Path) -> None:
    secret = "canary-secret-7f3a91"
    server = sandbox_factory(db=":memory:", rate_limit=0, accounts=(("DID-canary", secret),))
    env = cli_env(server, key="DID-canary", secret=secret)
    state = tmp_path / "state.json"
    outputs = [run(env, "apply", "--auto-approve", "--state", str(state), str(config)).output,
               run(env, "plan", "--state", str(state), str(config)).output]
    written = "".join(p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file())
    for text in outputs + [written]:
        assert secret not in text
        assert "Bearer" not in text


def test_plain_http_to_a_remote_host_is_refused(config: Path, tmp_path: Path) -> None:
    env = {"TELEGENT_API_URL": "http://api.telegent.example", "TELEGENT_ACCOUNT_KEY": "k",
           "TELEGENT_ACCOUNT_SECRET": "s"}
    result = run(env, "plan", "--state", str(tmp_path / "s.json"), str(config))
    assert result.exit_code == 1
    assert "http" in result.stderr.lower() and "Traceback" not in result.output


def test_missing_credentials_point_at_sandbox(config: Path, tmp_path: Path) -> None:
    result = run({"TELEGENT_ACCOUNT_KEY": ""}, "plan", "--state", str(tmp_path / "s.json"), str(config))
    assert result.exit_code == 1
    assert "TELEGENT_ACCOUNT_KEY" in result.stderr
