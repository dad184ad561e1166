"""Audit log: every mutating call is one JSON line beside the state, with
time, address, endpoint, fields sent, status, returned ID and duration, and no secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, copy_example, run, state_path

SECRET = "canary-secret-XYZ"
MUTATING = ("/v1.0/schedules", "/v1.0/workgroups", "/v1.0/workgroups/update", "/v1.0/workgroups/delete",
            "/v1.0/workgroups/activity")


def _audit(tmp_path: Path) -> list[dict[str, Any]]:
    path = state_path(tmp_path).with_name(state_path(tmp_path).name + ".audit.jsonl")
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text and "Bearer" not in text
    return [json.loads(line) for line in text.splitlines()]


def test_every_mutating_call_is_one_audit_line(sandbox_factory: Callable[..., SandboxServer],
                                               tmp_path: Path) -> None:
    server = sandbox_factory(rate_limit=0, log_bodies=True, accounts=(("DID-canary", SECRET),))
    env = cli_env(server, key="DID-canary", secret=SECRET)
    config = copy_example(tmp_path)
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config)
    assert result.exit_code == 0, result.output

    records = _audit(tmp_path)
    sent = [r for r in server.control.requests() if r["method"] == "POST" and "oauth2" not in r["path"]]
    assert len(records) == len(sent) == 18  # 1 schedule, 5 workgroups and 12 members, one line per call
    state = json.loads(state_path(tmp_path).read_text())
    ids = {w["id"] for w in state["workgroups"].values()}
    ids |= {m["id"] for w in state["workgroups"].values() for m in w.get("members", {}).values()}
    ids |= {s["id"] for s in state.get("schedules", {}).values()}
    addresses = set(state["workgroups"]) | {f"schedule {a}" for a in state.get("schedules", {})}
    for r in records:
        assert {"time", "address", "endpoint", "fields", "status", "returned_id", "duration_s"} <= set(r)
        assert datetime.fromisoformat(r["time"].replace("Z", "+00:00")).tzinfo is not None
        assert r["endpoint"] in MUTATING
        assert r["status"] == 200
        assert r["returned_id"] in ids
        assert 0 <= r["duration_s"] < 30
        assert r["address"] in addresses
    assert sorted(r["returned_id"] for r in records) == sorted(ids)  # every returned ID, once
    # The fields are what was actually sent: compare with the bodies the sandbox received.
    bodies = sorted(json.dumps(r["body"], sort_keys=True) for r in sent)
    logged = sorted(json.dumps(r["fields"], sort_keys=True) for r in records)
    assert logged == bodies
    # References were resolved to the real IDs before sending, and the log shows the IDs.
    menu = next(r for r in records if r["address"] == "main-menu" and r["endpoint"] == "/v1.0/workgroups")
    assert menu["fields"]["OffHoursId"] == state["workgroups"]["after-hours"]["id"]


def test_updates_deletes_and_failures_are_logged(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = tmp_path / "wg.yaml"
    config.write_text(yaml.safe_dump({"workgroups": {
        "a": {"Name": "A", "Type": "simultaneous", "AnnouncementText": "one"},
        "b": {"Name": "B", "Type": "simultaneous"},
    }}))
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    ids = {a: w["id"] for a, w in json.loads(state_path(tmp_path).read_text())["workgroups"].items()}
    config.write_text(yaml.safe_dump({"workgroups": {
        "a": {"Name": "A", "Type": "simultaneous", "AnnouncementText": "two"},
    }}))
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", "--allow-delete", config)
    assert result.exit_code == 0, result.output
    records = _audit(tmp_path)[2:]
    by_endpoint = {r["endpoint"]: r for r in records}
    assert len(records) == 2
    update = by_endpoint["/v1.0/workgroups/update"]
    assert update["address"] == "a" and update["status"] == 200 and update["returned_id"] is None
    # A partial update: only what changed, and the ID it applies to.
    assert update["fields"] == {"AnnouncementText": "two", "WorkgroupId": ids["a"]}
    delete = by_endpoint["/v1.0/workgroups/delete"]
    assert delete["address"] == "b" and delete["status"] == 200
    assert delete["fields"] == {"WorkgroupId": ids["b"]}

    # A refused call is logged too, with the API's status and message.
    with console(sandbox, env["TELEGENT_ACCOUNT_KEY"], env["TELEGENT_ACCOUNT_SECRET"]) as client:
        other = client.create_workgroup({"Name": "Other", "Type": "simultaneous"})
        client.update_workgroup(ids["a"], {"OffHoursType": "Workgroup", "OffHoursId": other})
        client.delete_workgroup(other)
    config.write_text(config.read_text().replace("two", "three"))
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config)
    assert result.exit_code == 1
    failed = _audit(tmp_path)[-1]
    assert failed["address"] == "a" and failed["status"] == 400
    assert "OffHoursId" in failed["error"]
    assert failed.get("returned_id") is None


def test_plan_makes_no_audit_line(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    result = run(env, "plan", "--state", state_path(tmp_path), copy_example(tmp_path))
    assert result.exit_code == 0
    assert not state_path(tmp_path).with_name("telegent.state.json.audit.jsonl").exists()
