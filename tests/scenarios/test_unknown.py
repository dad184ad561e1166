"""Unknown is not empty: what the account did not say is never planned on as "none"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.workspace import Workspace, base, make_workspace

ACTIVITY = "/v1.0/workgroups/activity"


@pytest.fixture
def no_activities(tmp_path: Path) -> Iterator[Workspace]:
    """An account whose workgroup details carry no activity list (the docs never promise one)."""
    yield from make_workspace(tmp_path, detail="no-activities")


@pytest.fixture
def example_detail(tmp_path: Path) -> Iterator[Workspace]:
    """Details carry only the documented example's fields."""
    yield from make_workspace(tmp_path, detail="example")


def activity_counts(ws: Workspace) -> dict[str, int]:
    """Name -> number of activities stored in the sandbox (its ground truth, not a read)."""
    return {r["Name"]: len(r["Activities"]) for r in ws.server.control.snapshot().values()}


DECLARED = {name: len(wg["members"]) for name, wg in
            ((w["Name"], w) for w in base()["workgroups"].values())}


def test_full_refresh_never_duplicates_members_the_details_do_not_list(no_activities: Workspace) -> None:
    ws = no_activities
    ws.write(base())
    ws.apply()
    assert activity_counts(ws) == DECLARED
    ws.clear()

    body = ws.plan_json("--refresh=full", "--detailed-exitcode")  # exit 0: nothing to do
    assert all(m["actions"] == ["no-op"] for c in body["resource_changes"] for m in c["members"])
    assert body["drift"] == []
    [members_note] = [u for u in body["unchecked"] if u.startswith("members:")]
    assert "member drift cannot be checked on this account" in members_note
    text = ws.plan("--refresh=full").stdout
    assert text.count("member drift cannot be checked") == 1
    assert "No changes." in text

    for _ in range(2):
        ws.apply("--refresh=full")
    assert activity_counts(ws) == DECLARED
    assert [w for w in ws.writes() if w["path"] == ACTIVITY] == []


def test_member_edits_still_apply_from_the_state_when_members_cannot_be_read(no_activities: Workspace) -> None:
    ws = no_activities
    config = base()
    ws.write(config)
    ws.apply()
    config["workgroups"]["sales"]["members"].pop()  # USER-c
    config["workgroups"]["support"]["members"].append({"Type": "User", "PhoneNumber": "+14155550124"})
    ws.write(config)
    body = ws.plan_json("--refresh=full", code=None)
    members = {(c["address"], m["key"]): m["actions"] for c in body["resource_changes"] for m in c["members"]}
    assert members[("sales", "user:USER-c")] == ["delete"]
    assert members[("support", "phone:+14155550124")] == ["create"]
    ws.apply("--refresh=full")
    assert activity_counts(ws)["Sales"] == 2 and activity_counts(ws)["Support"] == 2
    ws.plan("--refresh=full", "--detailed-exitcode")


def test_fields_the_details_omit_are_not_drift(example_detail: Workspace) -> None:
    ws = example_detail
    ws.write(base())
    ws.apply()
    ws.clear()
    body = ws.plan_json("--refresh=full", "--detailed-exitcode")
    assert body["drift"] == []
    assert any(u.startswith("fields ") and "AnnouncementText" in u for u in body["unchecked"])
    ws.apply("--refresh=full")
    assert ws.writes() == []


def test_export_says_what_it_could_not_read_and_the_next_plan_keeps_members(
    no_activities: Workspace, tmp_path: Path
) -> None:
    ws = no_activities
    ws.write(base())
    ws.apply()
    out = tmp_path / "exported.yaml"
    exported_state = tmp_path / "exported" / "state.json"
    result = ws.run("export", "--out", str(out), "--state", str(exported_state))
    assert result.stderr.count("could not read its members") == 4
    text = out.read_text()
    assert text.count("# NOTE: could not read its members") == 4
    config: dict[str, Any] = yaml.safe_load(text)
    assert all("members" not in wg for wg in config["workgroups"].values())
    ws.clear()
    for refresh in ("summary", "full"):
        ws.run("plan", str(out), "--state", str(exported_state), f"--refresh={refresh}", "--detailed-exitcode")
    assert ws.writes() == []
    assert activity_counts(ws) == DECLARED


def test_a_lost_member_create_on_an_account_without_activities_is_uncertain_never_retried(
    no_activities: Workspace,
) -> None:
    ws = no_activities
    config = base()
    ws.write(config)
    ws.apply()
    config["workgroups"]["support"]["members"].append({"Type": "User", "PhoneNumber": "+14155550124"})
    ws.write(config)
    ws.server.control.set_faults(drop_next_activity_creates=1)
    result = ws.apply(code=1)
    assert "support member phone:+14155550124" in result.output and "uncertain" in result.output
    assert "state adopt-member support phone:+14155550124 ACTIVITY_ID" in result.output
    assert "state confirm-absent support phone:+14155550124" in result.output
    assert ws.state()["workgroups"]["support"]["members"]["phone:+14155550124"]["pending_create"]
    assert "uncertain members: phone:+14155550124" in ws.run("state", "list").stdout

    # Neither a plan nor another apply creates it again while it is uncertain.
    assert "uncertain" in ws.plan(code=1).stdout
    ws.apply(code=1)
    assert activity_counts(ws)["Support"] == 2  # the lost create did happen, exactly once

    [created] = [a for a in ws.server.control.snapshot()[ws.wid("support")]["Activities"]
                 if a.get("PhoneNumber") == "+14155550124"]
    ws.run("state", "adopt-member", "support", "phone:+14155550124", created["WorkgroupActivityId"])
    ws.plan("--detailed-exitcode")
    ws.plan("--refresh=full", "--detailed-exitcode")
    assert activity_counts(ws)["Support"] == 2


def test_confirm_absent_lets_the_next_apply_create_the_member(no_activities: Workspace) -> None:
    ws = no_activities
    config = base()
    ws.write(config)
    ws.apply()
    config["workgroups"]["support"]["members"].append({"Type": "User", "PhoneNumber": "+14155550124"})
    ws.write(config)
    ws.server.control.set_faults(drop_next_activity_creates=1)
    ws.apply(code=1)
    # Suppose the user removed the activity in Telegent, then confirms it is absent.
    [created] = [a for a in ws.server.control.snapshot()[ws.wid("support")]["Activities"]
                 if a.get("PhoneNumber") == "+14155550124"]
    ws.direct("/v1.0/workgroups/activity/delete", {"WorkgroupActivityId": created["WorkgroupActivityId"]})
    ws.run("state", "confirm-absent", "support", "phone:+14155550124")
    ws.apply()
    assert activity_counts(ws)["Support"] == 2
    ws.plan("--detailed-exitcode")
    assert ws.run("state", "confirm-absent", "support", "nope", code=1).output.count("no uncertain member") == 1
