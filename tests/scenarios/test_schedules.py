"""Schedules as code against the real sandbox: create, no-op, adopt, same-Name conflict,
replace (a new schedule, the workgroups re-pointed, the old one reported and kept), and a
lost create response that makes no duplicate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, live_schedules, run, state_json

CONFIG = """\
schedules:
  office:
    Name: Office hours
    MondayStartTime: "9:00 AM"
    MondayEndTime: "5:00 PM"
    FridayStartTime: "9:00 AM"
    FridayEndTime: "1:00 PM"
workgroups:
  desk:
    Name: Front desk
    Type: simultaneous
    TelegentPhone: "+14155550100"
    TimeZone: America/New_York
    ScheduleId: office
    OffHoursType: User
    OffHoursId: USER-night
    members:
      - {Type: User, ReferenceUserId: USER-1}
"""


def live_schedule_of(server: SandboxServer, state: dict[str, Any], address: str) -> str:
    with console(server) as c:
        return str(c.get_workgroup(state["workgroups"][address]["id"])["ScheduleId"])


def setup(tmp_path: Path, text: str = CONFIG) -> tuple[Path, Path]:
    config = tmp_path / "wg.yaml"
    config.write_text(text, encoding="utf-8")
    return config, tmp_path / "state.json"


def apply(server: SandboxServer, config: Path, state: Path, *extra: str) -> Any:
    return run(cli_env(server), "apply", "--auto-approve", "--state", state, *extra, config)


def plan(server: SandboxServer, config: Path, state: Path) -> Any:
    return run(cli_env(server), "plan", "--state", state, "--json", config)


def test_create_before_the_workgroup_that_uses_it_then_no_op(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    result = apply(sandbox, config, state)
    assert result.exit_code == 0, result.output
    assert "Resources: 2 added" in result.stdout
    posts = [r["path"] for r in sandbox.control.requests() if r["method"] == "POST" and "tokens" not in r["path"]]
    assert posts.index("/v1.0/schedules") < posts.index("/v1.0/workgroups")
    recorded = state_json(state)["schedules"]["office"]
    (schedule,) = live_schedules(sandbox)
    assert recorded["id"] == schedule["ScheduleId"] and schedule["Name"] == "Office hours"
    assert recorded["fields"]["MondayEndTime"] == "5:00 PM"
    assert live_schedule_of(sandbox, state_json(state), "desk") == recorded["id"]  # the ID went out, not the address
    again = plan(sandbox, config, state)
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert body["has_changes"] is False
    assert [s["actions"] for s in body["schedule_changes"]] == [["no-op"]]


def test_a_changed_schedule_is_a_new_one_and_its_workgroups_are_repointed(sandbox: SandboxServer,
                                                                          tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    old_id = state_json(state)["schedules"]["office"]["id"]
    config.write_text(CONFIG.replace('"1:00 PM"', '"5:00 PM"'), encoding="utf-8")
    planned = json.loads(plan(sandbox, config, state).stdout)
    (sc,) = planned["schedule_changes"]
    assert sc["actions"] == ["create"] and sc["schedule_id"] == old_id and sc["changed_fields"] == ["FridayEndTime"]
    (wg,) = planned["resource_changes"]
    assert wg["actions"] == ["update"] and wg["changed_fields"] == ["ScheduleId"]
    assert any(old_id in w and "no way to delete" in w for w in planned["warnings"])
    result = apply(sandbox, config, state)
    assert result.exit_code == 0, result.output
    new_id = state_json(state)["schedules"]["office"]["id"]
    assert new_id != old_id
    assert live_schedule_of(sandbox, state_json(state), "desk") == new_id
    assert {s["ScheduleId"] for s in live_schedules(sandbox)} == {old_id, new_id}  # the old one is kept
    assert json.loads(plan(sandbox, config, state).stdout)["has_changes"] is False


def test_same_name_in_the_account_is_a_conflict_and_import_adopts_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    with console(sandbox) as c:
        made = c.create_schedule({"Name": "Office hours", "MondayStartTime": "9:00 AM", "MondayEndTime": "5:00 PM",
                                  "FridayStartTime": "9:00 AM", "FridayEndTime": "1:00 PM", "SundayStartTime": ""})
    config, state = setup(tmp_path)
    result = apply(sandbox, config, state)
    assert result.exit_code == 1
    assert f"the account already has a schedule named 'Office hours' (ID {made})" in result.stdout
    assert len(live_schedules(sandbox)) == 1
    config.write_text(CONFIG + f"import:\n  - {{address: office, id: {made}}}\n", encoding="utf-8")
    result = apply(sandbox, config, state)
    assert result.exit_code == 0, result.output
    assert "1 imported" in result.stdout
    assert state_json(state)["schedules"]["office"]["id"] == made
    assert live_schedule_of(sandbox, state_json(state), "desk") == made
    assert len(live_schedules(sandbox)) == 1


def test_an_import_that_differs_is_refused(sandbox: SandboxServer, tmp_path: Path) -> None:
    with console(sandbox) as c:
        made = c.create_schedule({"Name": "Office hours", "MondayStartTime": "8:00 AM", "MondayEndTime": "5:00 PM"})
    config, state = setup(tmp_path, CONFIG + f"import:\n  - {{address: office, id: {made}}}\n")
    result = apply(sandbox, config, state)
    assert result.exit_code == 1
    assert f"cannot import {made}: it differs in MondayStartTime, and a schedule cannot be updated" in result.stdout


def test_a_schedule_deleted_outside_is_created_again(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    sandbox.control.reset()  # the account loses everything, as if deleted in the portal
    planned = json.loads(plan(sandbox, config, state).stdout)
    assert planned["schedule_changes"][0]["actions"] == ["create"]
    assert "deleted outside telegent-iac" in planned["schedule_changes"][0]["reason"]


def test_lost_schedule_create_response_makes_no_duplicate(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    sandbox.control.set_faults(drop_creates=[1])  # the schedule create commits, its answer is lost
    result = apply(sandbox, config, state, "--parallelism", "1")
    assert result.exit_code == 0, result.output
    assert "adopted" in result.stderr
    (schedule,) = live_schedules(sandbox)
    assert state_json(state)["schedules"]["office"]["id"] == schedule["ScheduleId"]
    assert live_schedule_of(sandbox, state_json(state), "desk") == schedule["ScheduleId"]


def test_a_pending_schedule_create_left_by_a_killed_run_is_adopted(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    with console(sandbox) as c:  # the POST a killed run sent: committed, never recorded
        made = c.create_schedule({"Name": "Office hours", "MondayStartTime": "9:00 AM", "MondayEndTime": "5:00 PM",
                                  "FridayStartTime": "9:00 AM", "FridayEndTime": "1:00 PM"})
    fields = {"Name": "Office hours", "MondayStartTime": "9:00 AM", "MondayEndTime": "5:00 PM",
              "FridayStartTime": "9:00 AM", "FridayEndTime": "1:00 PM"}
    state.write_text(json.dumps({
        "format_version": 1, "lineage": "l-1", "serial": 1, "workgroups": {},
        "schedules": {"office": {"id": None, "fields": {}, "pending_create": {
            "name": "Office hours", "type": "schedule", "started_at": "2026-01-01T00:00:00.000000Z",
            "fields": fields}}},
    }), encoding="utf-8")
    result = apply(sandbox, config, state)
    assert result.exit_code == 0, result.output
    assert f"schedule office: an interrupted create had succeeded; adopted {made}" in result.stderr
    assert len(live_schedules(sandbox)) == 1
    assert state_json(state)["schedules"]["office"]["id"] == made


def test_moved_renames_a_schedule_without_a_new_one(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    schedule_id = state_json(state)["schedules"]["office"]["id"]
    renamed = CONFIG.replace("  office:\n", "  hours:\n").replace("ScheduleId: office", "ScheduleId: hours")
    config.write_text(renamed + "moved:\n  - {from: office, to: hours}\n", encoding="utf-8")
    planned = json.loads(plan(sandbox, config, state).stdout)
    assert planned["moves"] == [{"from": "office", "to": "hours"}]
    assert [s["actions"] for s in planned["schedule_changes"]] == [["no-op"]]
    assert [c["actions"] for c in planned["resource_changes"]] == [["no-op"]]  # ScheduleId followed
    assert apply(sandbox, config, state).exit_code == 0
    schedules = state_json(state)["schedules"]
    assert schedules == {"hours": {"id": schedule_id, "fields": schedules["hours"]["fields"]}}
    assert state_json(state)["workgroups"]["desk"]["fields"]["ScheduleId"] == "hours"


def test_state_commands_cover_schedules(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    schedule_id = state_json(state)["schedules"]["office"]["id"]
    env = cli_env(sandbox)
    listed = run(env, "state", "list", "--state", state)
    assert f"schedule.office\t{schedule_id}\tOffice hours\t" in listed.stdout
    shown = run(env, "state", "show", "schedule.office", "--state", state)
    assert shown.exit_code == 0 and f"id: {schedule_id}" in shown.stdout and "MondayEndTime: 5:00 PM" in shown.stdout
    moved = run(env, "state", "mv", "schedule.office", "schedule.hours", "--state", state)
    assert moved.exit_code == 0, moved.output
    assert state_json(state)["workgroups"]["desk"]["fields"]["ScheduleId"] == "hours"
    renamed = CONFIG.replace("  office:\n", "  hours:\n").replace("ScheduleId: office", "ScheduleId: hours")
    config.write_text(renamed, encoding="utf-8")
    assert json.loads(plan(sandbox, config, state).stdout)["has_changes"] is False
    removed = run(env, "state", "rm", "schedule.hours", "--state", state)
    assert removed.exit_code == 0 and "the schedule is untouched in the account" in removed.stdout
    assert "schedules" not in state_json(state)
    # forgotten, it is found again by Name: a conflict, not a duplicate
    again = plan(sandbox, config, state)
    assert again.exit_code == 1
    assert f"already has a schedule named 'Office hours' (ID {schedule_id})" in again.stdout


def test_export_writes_schedules_and_the_plan_after_it_is_empty(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    env = cli_env(sandbox)
    exported, new_state = tmp_path / "exported.yaml", tmp_path / "exported.state.json"
    result = run(env, "export", "--out", exported, "--state", new_state)
    assert result.exit_code == 0, result.output
    text = exported.read_text(encoding="utf-8")
    assert "schedules:\n  office-hours:\n    Name: Office hours\n" in text
    assert "ScheduleId: office-hours" in text
    assert state_json(new_state)["schedules"]["office-hours"]["id"] == state_json(state)["schedules"]["office"]["id"]
    planned = run(env, "plan", "--state", new_state, exported)
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout


def test_a_full_refresh_reads_the_schedule_id_back_as_the_address(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    result = run(cli_env(sandbox), "plan", "--state", state, "--json", "--refresh", "full", config)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["drift"] == [] and body["has_changes"] is False


def test_importing_a_workgroup_reads_its_schedule_as_the_address(sandbox: SandboxServer, tmp_path: Path) -> None:
    config, state = setup(tmp_path)
    assert apply(sandbox, config, state).exit_code == 0
    env = cli_env(sandbox)
    desk_id = state_json(state)["workgroups"]["desk"]["id"]
    assert run(env, "state", "rm", "desk", "--state", state).exit_code == 0
    imported = run(env, "import", "desk", desk_id, "--state", state, config)
    assert imported.exit_code == 0, imported.output
    assert state_json(state)["workgroups"]["desk"]["fields"]["ScheduleId"] == "office"
    assert json.loads(plan(sandbox, config, state).stdout)["has_changes"] is False


def test_import_command_adopts_a_schedule(sandbox: SandboxServer, tmp_path: Path) -> None:
    with console(sandbox) as c:
        made = c.create_schedule({"Name": "Office hours", "MondayStartTime": "9:00 AM", "MondayEndTime": "5:00 PM",
                                  "FridayStartTime": "9:00 AM", "FridayEndTime": "1:00 PM"})
    config, state = setup(tmp_path)
    env = cli_env(sandbox)
    result = run(env, "import", "schedule.office", made, "--state", state)
    assert result.exit_code == 0, result.output
    assert f"Imported schedule {made} as schedule.office: 'Office hours'" in result.stdout
    assert run(env, "import", "schedule.other", made, "--state", state).exit_code == 1  # already managed
    planned = json.loads(plan(sandbox, config, state).stdout)
    assert [s["actions"] for s in planned["schedule_changes"]] == [["no-op"]]
    assert apply(sandbox, config, state).exit_code == 0
    assert live_schedule_of(sandbox, state_json(state), "desk") == made
    assert len(live_schedules(sandbox)) == 1
