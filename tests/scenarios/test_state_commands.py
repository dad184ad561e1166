"""State list/show/rm/mv/pull/push, and `moved:` entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from telegent_iac.state import FileStateStore
from tests.support.workspace import Workspace, base


def _renamed(config: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`config` with address `old` renamed to `new`, references included."""
    text = yaml.safe_dump(config, sort_keys=False)
    data: dict[str, Any] = yaml.safe_load(text.replace(f"{old}:", f"{new}:").replace(f": {old}\n", f": {new}\n"))
    return data


def test_state_list_and_show(applied: Workspace) -> None:
    ws = applied
    rows = [line.split("\t") for line in ws.run("state", "list").stdout.splitlines()]
    assert [r[0] for r in rows] == ["menu", "night", "sales", "support"]
    sales = next(r for r in rows if r[0] == "sales")
    assert sales[1] == ws.wid("sales") and sales[2] == "Sales" and "3 members" in sales[3]
    shown = yaml.safe_load(ws.run("state", "show", "sales").stdout)["sales"]
    assert shown["id"] == ws.wid("sales")
    assert shown["fields"]["AnnouncementText"] == "Connecting you to sales."
    assert set(shown["members"]) == {"user:USER-a", "user:USER-b", "user:USER-c"}
    assert "not in the state" in ws.run("state", "show", "nope", code=1).output
    assert ws.requests() == []  # no API call at all


def test_state_rm_forgets_without_touching_the_account(applied: Workspace) -> None:
    ws = applied
    night = ws.wid("night")
    result = ws.run("state", "rm", "night")
    assert f"Removed night ({night})" in result.stdout
    assert ws.requests() == []
    assert "night" not in ws.state()["workgroups"]
    assert night in ws.live_ids()
    assert "did you mean 'sales'" in ws.run("state", "rm", "saless", code=1).output
    # The config still declares it: the plan now sees an unknown same-Name workgroup.
    conflict = ws.plan(code=1)
    assert f"telegent-iac import night {night}" in conflict.output
    ws.run("import", "night", night)
    ws.plan("--detailed-exitcode")


def test_state_mv_carries_references_along(applied: Workspace) -> None:
    ws = applied
    support = ws.wid("support")
    members_before = ws.state()["workgroups"]["menu"]["members"]
    ws.run("state", "mv", "support", "helpdesk")
    state = ws.state()["workgroups"]
    assert state["helpdesk"]["id"] == support and "support" not in state
    menu_members = state["menu"]["members"]
    assert "workgroup:helpdesk" in menu_members and "workgroup:support" not in menu_members
    assert menu_members["workgroup:helpdesk"]["id"] == members_before["workgroup:support"]["id"]
    ws.write(_renamed(base(), "support", "helpdesk"))
    ws.clear()
    assert "No changes." in ws.plan("--detailed-exitcode").stdout
    # Refusals
    assert "already in the state" in ws.run("state", "mv", "sales", "menu", code=1).output
    assert "invalid address" in ws.run("state", "mv", "sales", "Sales!", code=1).output
    assert "not in the state" in ws.run("state", "mv", "gone", "here", code=1).output


def test_moved_entries_rename_through_the_plan(applied: Workspace) -> None:
    ws = applied
    support, night = ws.wid("support"), ws.wid("night")
    config = _renamed(_renamed(base(), "support", "helpdesk"), "night", "after-hours")
    config["moved"] = [{"from": "support", "to": "helpdesk"}, {"from": "night", "to": "after-hours"}]
    ws.write(config)
    plan = ws.plan("--detailed-exitcode", code=2)
    assert "support -> helpdesk" in plan.stdout and "night -> after-hours" in plan.stdout
    assert "Plan: 0 to add, 0 to change, 0 to destroy." in plan.stdout  # a rename, nothing else
    ws.clear()
    ws.apply()
    assert ws.writes() == []
    state = ws.state()["workgroups"]
    assert state["helpdesk"]["id"] == support and state["after-hours"]["id"] == night
    assert state["menu"]["fields"]["OffHoursId"] == "after-hours"
    assert "No changes." in ws.plan("--detailed-exitcode").stdout  # the moved: entries may stay


def test_state_commands_wait_for_and_name_the_lock(applied: Workspace) -> None:
    ws = applied
    store = FileStateStore(ws.state_path)
    with store.lock("apply"):
        result = ws.run("state", "rm", "night", code=1)
    assert "locked by" in result.output and "'apply'" in result.output
    assert "night" in ws.state()["workgroups"]


def test_state_pull_and_push(applied: Workspace, tmp_path: Path) -> None:
    ws = applied
    local = tmp_path / "local.json"
    ws.run("state", "pull", "--to", str(local))
    assert json.loads(local.read_text())["workgroups"] == ws.state()["workgroups"]
    # Edit the local copy and push it back.
    ws.env["TELEGENT_STATE"] = str(local)
    ws.run("state", "rm", "night")
    ws.env["TELEGENT_STATE"] = str(ws.state_path)
    ws.run("state", "push", "--from", str(local))
    assert "night" not in ws.state()["workgroups"]
    # Pulling over a newer local state is refused unless forced.
    ws.env["TELEGENT_STATE"] = str(local)
    ws.run("state", "rm", "sales")
    ws.env["TELEGENT_STATE"] = str(ws.state_path)
    refused = ws.run("state", "pull", "--to", str(local), code=1)
    assert "newer" in refused.output
    ws.run("state", "pull", "--to", str(local), "--force")
    assert "sales" in json.loads(local.read_text())["workgroups"]
    assert "same file" in ws.run("state", "pull", "--to", str(ws.state_path), code=1).output
