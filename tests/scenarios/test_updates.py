"""In-place updates, replacements, deletes, prevent_destroy, the threshold."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.support.workspace import LIST, TOKENS, Workspace, base

UPDATE = "/v1.0/workgroups/update"
DELETE = "/v1.0/workgroups/delete"
CREATE = "/v1.0/workgroups"
ACTIVITY_DELETE = "/v1.0/workgroups/activity/delete"


def test_update_sends_only_the_changed_fields(applied: Workspace) -> None:
    ws = applied
    sales = ws.wid("sales")
    before = ws.live(sales)
    config = base()
    config["workgroups"]["sales"]["AnnouncementText"] = "Sales, one moment."
    ws.write(config)

    plan = ws.plan()
    assert "~ workgroup \"sales\"" in plan.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout
    ws.clear()
    ws.apply()

    writes = ws.writes()
    assert [w["path"] for w in writes] == [UPDATE]
    assert writes[0]["body"] == {"WorkgroupId": sales, "AnnouncementText": "Sales, one moment."}
    after = ws.live(sales)
    assert after == {**before, "AnnouncementText": "Sales, one moment."}
    ws.clear()
    ws.plan("--detailed-exitcode")
    assert [r["path"] for r in ws.requests()] == [TOKENS, LIST]


def test_removing_a_field_clears_only_that_field(applied: Workspace) -> None:
    ws = applied
    config = base()
    del config["workgroups"]["sales"]["RecordCalls"]
    ws.write(config)
    ws.apply()
    [write] = ws.writes()
    assert write["path"] == UPDATE
    assert set(write["body"]) == {"WorkgroupId", "RecordCalls"}
    assert "RecordCalls" not in ws.live(ws.wid("sales")) or ws.live(ws.wid("sales"))["RecordCalls"] is False
    ws.clear()
    ws.plan("--detailed-exitcode")


def test_create_only_field_is_a_replace_only_when_allowed(applied: Workspace) -> None:
    ws = applied
    night_old, menu = ws.wid("night"), ws.wid("menu")
    config = base()
    config["workgroups"]["night"]["CallerIdName"] = "Acme After Hours"
    ws.write(config)

    refused = ws.plan(code=1)
    assert "CallerIdName cannot be changed in place" in refused.output
    assert "--allow-replace" in refused.output and "allow_replace: true" in refused.output
    ws.apply(code=1)
    assert ws.writes() == []  # refused before any call
    assert ws.wid("night") == night_old

    allowed = ws.plan("--allow-replace")
    assert "-/+" in allowed.stdout
    assert "CallerIdName cannot be changed in place" in allowed.stdout
    assert "re-point" in allowed.stdout  # menu follows the new ID
    ws.apply("--allow-replace")

    night_new = ws.wid("night")
    assert night_new != night_old
    live_ids = ws.live_ids()
    assert night_old not in live_ids and night_new in live_ids
    assert ws.live(night_new)["CallerIdName"] == "Acme After Hours"
    assert ws.live(menu)["OffHoursId"] == night_new  # re-pointed in the same apply
    assert ws.wid("menu") == menu  # the referrer was updated, not replaced
    assert ws.state()["workgroups"]["night"].get("deposed", []) == []
    ws.clear()
    ws.plan("--detailed-exitcode")


def test_allow_replace_per_workgroup(applied: Workspace) -> None:
    ws = applied
    old = ws.wid("support")
    config = base()
    config["workgroups"]["support"]["CallerIdName"] = "Support line"
    config["workgroups"]["support"]["allow_replace"] = True
    ws.write(config)
    ws.apply()
    new = ws.wid("support")
    assert new != old
    # The menu's member that rang support now rings the new workgroup.
    menu_members = ws.live(ws.wid("menu"))["Activities"]
    assert new in {m.get("ReferenceWorkgroupId") for m in menu_members}
    assert old not in {m.get("ReferenceWorkgroupId") for m in menu_members}
    ws.plan("--detailed-exitcode")


def test_removed_workgroup_is_kept_unless_deletes_are_allowed(applied: Workspace) -> None:
    ws = applied
    support = ws.wid("support")
    config = base()
    del config["workgroups"]["support"]
    config["workgroups"]["menu"]["members"].pop()  # the menu's digit 2 pointed at support
    ws.write(config)

    kept = ws.plan()
    assert "support" in kept.stdout and "no longer declared, kept" in kept.stdout
    ws.apply()
    assert support in ws.live_ids()
    assert "support" in ws.state()["workgroups"]
    assert DELETE not in [w["path"] for w in ws.writes()]

    ws.clear()
    deleting = ws.plan("--allow-delete")
    assert "support" in deleting.stdout and "1 to destroy" in deleting.stdout
    ws.apply("--allow-delete")
    assert support not in ws.live_ids()
    assert "support" not in ws.state()["workgroups"]
    ws.clear()
    ws.plan("--detailed-exitcode", "--allow-delete")


def test_deletes_run_in_reverse_dependency_order(applied: Workspace) -> None:
    ws = applied
    config = base()
    for address in ("menu", "night"):  # menu routes to night: menu must go first
        del config["workgroups"][address]
    ws.write(config)
    ws.apply("--allow-delete")
    audit = [json.loads(line) for line in ws.state_path.with_name(ws.state_path.name + ".audit.jsonl")
             .read_text().splitlines()]
    deletes = [(r["endpoint"], r["address"]) for r in audit if r["endpoint"].endswith("delete")]
    order = [address for endpoint, address in deletes if endpoint.endswith("workgroups/delete")]
    assert order == ["menu", "night"]
    # The menu's activities went before the menu itself.
    menu_at = deletes.index((DELETE, "menu"))
    assert all(e.endswith("activity/delete") for e, a in deletes[:menu_at] if a == "menu")
    assert {"menu", "night"}.isdisjoint(ws.state()["workgroups"])


def test_a_workgroup_is_deleted_only_after_members_pointing_at_it_are(applied: Workspace) -> None:
    ws = applied
    config = base()
    config["workgroups"]["support"]["members"] = []  # nothing of its own to delete first
    ws.write(config)
    ws.apply()
    del config["workgroups"]["support"]
    config["workgroups"]["menu"]["members"] = config["workgroups"]["menu"]["members"][:1]  # digit 2 -> support
    ws.write(config)
    ws.server.control.set_faults(latency_ms=200)  # calls that may overlap would overlap visibly
    ws.apply("--allow-delete", "--parallelism", "8")
    audit = [json.loads(line) for line in ws.state_path.with_name(ws.state_path.name + ".audit.jsonl")
             .read_text().splitlines()]
    by_call = {(r["endpoint"], r["address"]): r for r in audit}
    member, support = by_call[(ACTIVITY_DELETE, "menu")], by_call[(DELETE, "support")]
    # the menu's digit-2 activity (it rings support) is gone before support's delete starts
    member_done = datetime.fromisoformat(member["time"]) + timedelta(seconds=member["duration_s"])
    assert member_done <= datetime.fromisoformat(support["time"])
    assert [a["DigitOrder"] for a in ws.live(ws.wid("menu"))["Activities"]] == [1]


def test_prevent_destroy_is_remembered_after_the_entry_is_removed(applied: Workspace) -> None:
    ws = applied
    config = base()
    config["workgroups"]["night"]["prevent_destroy"] = True
    ws.write(config)
    ws.apply()
    assert ws.state()["workgroups"]["night"]["prevent_destroy"] is True
    night = ws.wid("night")

    del config["workgroups"]["night"]
    del config["workgroups"]["menu"]["OffHoursType"]
    del config["workgroups"]["menu"]["OffHoursId"]
    ws.write(config)
    plan = ws.plan("--allow-delete")
    assert "prevent_destroy" in plan.stdout and "kept" in plan.stdout
    ws.clear()
    ws.apply("--allow-delete", "--force")
    assert DELETE not in [w["path"] for w in ws.writes()]
    assert night in ws.live_ids()
    assert "night" in ws.state()["workgroups"]


def _many(n: int) -> dict[str, object]:
    return {"workgroups": {f"g{i}": {"Name": f"Group {i}", "Type": "simultaneous"} for i in range(n)}}


def test_destroy_threshold_refuses_and_force_overrides(ws: Workspace) -> None:
    ws.write(_many(10))
    ws.apply()
    ids = {f"g{i}": ws.wid(f"g{i}") for i in range(10)}
    smaller = _many(10)
    for i in range(6, 10):  # 4 of 10 = 40% > 30%
        del smaller["workgroups"][f"g{i}"]  # type: ignore[attr-defined]
    ws.write(smaller)
    ws.clear()

    refused = ws.plan("--allow-delete", code=1)
    assert "4 of 10" in refused.output and "30% threshold" in refused.output and "--force" in refused.output
    ws.apply("--allow-delete", code=1)
    assert ws.writes() == []

    ws.plan("--allow-delete", "--destroy-threshold", "50")  # a higher threshold lets it through
    ws.apply("--allow-delete", "--force")
    live = ws.live_ids()
    assert all(ids[f"g{i}"] not in live for i in range(6, 10))
    assert all(ids[f"g{i}"] in live for i in range(6))


def test_threshold_does_not_apply_below_ten_managed(applied: Workspace) -> None:
    ws = applied
    config = base()
    del config["workgroups"]["menu"]  # 1 of 4 = 25%; 2 of 4 would be 50% but still allowed
    del config["workgroups"]["night"]
    ws.write(config)
    ws.apply("--allow-delete")
    assert {"menu", "night"}.isdisjoint(ws.state()["workgroups"])
    assert CREATE not in [w["path"] for w in ws.writes()]
