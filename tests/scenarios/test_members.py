"""Members become activity calls; identity survives reordering and inserts."""

from __future__ import annotations

from tests.support.workspace import LIST, TOKENS, Workspace, base

ACTIVITY = "/v1.0/workgroups/activity"
ACTIVITY_UPDATE = "/v1.0/workgroups/activity/update"
ACTIVITY_DELETE = "/v1.0/workgroups/activity/delete"


def _member_ids(ws: Workspace, address: str) -> dict[str, str]:
    return {k: m["id"] for k, m in ws.state()["workgroups"][address]["members"].items()}


def test_first_apply_records_every_member(applied: Workspace) -> None:
    ws = applied
    ids = _member_ids(ws, "sales")
    assert set(ids) == {"user:USER-a", "user:USER-b", "user:USER-c"}
    live = {a["WorkgroupActivityId"] for a in ws.live(ws.wid("sales"))["Activities"]}
    assert set(ids.values()) == live
    menu = ws.live(ws.wid("menu"))["Activities"]
    assert {(a["DigitOrder"], a["ReferenceWorkgroupId"]) for a in menu} == {
        (1, ws.wid("sales")), (2, ws.wid("support"))
    }


def test_reordering_members_makes_no_calls(applied: Workspace) -> None:
    ws = applied
    config = base()
    config["workgroups"]["sales"]["members"].reverse()
    config["workgroups"]["menu"]["members"].reverse()
    ws.write(config)
    assert "No changes." in ws.plan("--detailed-exitcode").stdout
    ws.clear()
    result = ws.apply()
    assert "Resources: 0 added, 0 changed, 0 destroyed" in result.output
    assert [r["path"] for r in ws.requests()] == [TOKENS, LIST]


def test_inserting_one_member_makes_exactly_one_create(applied: Workspace) -> None:
    ws = applied
    before = _member_ids(ws, "sales")
    config = base()
    config["workgroups"]["sales"]["members"].insert(1, {"Type": "User", "ReferenceUserId": "USER-new"})
    ws.write(config)
    plan = ws.plan()
    assert '+ member "user:USER-new"' in plan.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout
    ws.apply()
    writes = ws.writes()
    assert [w["path"] for w in writes] == [ACTIVITY]
    assert writes[0]["body"] == {"WorkgroupId": ws.wid("sales"), "Type": "User", "ReferenceUserId": "USER-new"}
    after = _member_ids(ws, "sales")
    assert {k: v for k, v in after.items() if k in before} == before  # the others kept their IDs
    assert len(ws.live(ws.wid("sales"))["Activities"]) == 4
    ws.plan("--detailed-exitcode")


def test_removing_one_member_makes_exactly_one_delete(applied: Workspace) -> None:
    ws = applied
    before = _member_ids(ws, "sales")
    config = base()
    del config["workgroups"]["sales"]["members"][1]  # USER-b
    ws.write(config)
    assert '- member "user:USER-b"' in ws.plan().stdout
    ws.apply()
    writes = ws.writes()
    assert [w["path"] for w in writes] == [ACTIVITY_DELETE]
    assert writes[0]["body"] == {"WorkgroupActivityId": before["user:USER-b"]}
    live = {a["WorkgroupActivityId"] for a in ws.live(ws.wid("sales"))["Activities"]}
    assert live == {before["user:USER-a"], before["user:USER-c"]}
    ws.plan("--detailed-exitcode")


def test_changing_a_member_sends_one_update_with_the_changed_field(applied: Workspace) -> None:
    ws = applied
    before = _member_ids(ws, "sales")
    config = base()
    config["workgroups"]["sales"]["members"][1]["EmailNotification"] = True
    ws.write(config)
    ws.apply()
    writes = ws.writes()
    assert [w["path"] for w in writes] == [ACTIVITY_UPDATE]
    assert writes[0]["body"] == {"WorkgroupActivityId": before["user:USER-b"], "EmailNotification": True}
    assert _member_ids(ws, "sales") == before
    ws.plan("--detailed-exitcode")


def test_explicit_key_survives_a_change_of_number(applied: Workspace) -> None:
    ws = applied
    (derived, original), = _member_ids(ws, "support").items()
    config = base()
    config["workgroups"]["support"]["members"] = [{"Type": "User", "PhoneNumber": "+14155550123", "key": "mobile"}]
    ws.write(config)
    assert f"was member '{derived}'" in ws.plan().stdout
    ws.clear()
    ws.apply()  # the derived key becomes an explicit one: the same activity, re-keyed, no call
    assert ws.writes() == []
    old = _member_ids(ws, "support")["mobile"]
    assert old == original
    config["workgroups"]["support"]["members"][0]["PhoneNumber"] = "+14155550124"
    ws.write(config)
    ws.clear()
    ws.apply()
    assert [w["path"] for w in ws.writes()] == [ACTIVITY_UPDATE]
    assert _member_ids(ws, "support") == {"mobile": old}


def test_ivr_digit_order_must_be_unique(ws: Workspace) -> None:
    config = base()
    config["workgroups"]["menu"]["members"][1]["DigitOrder"] = 1
    ws.write(config)
    for command in ("validate", "plan"):
        args = [command, str(ws.config_path)]
        result = ws.run(*args, code=1)
        assert "DigitOrder 1 is already used in this IVR workgroup" in result.output
        assert f"{ws.config_path.name}:" in result.output
    assert ws.requests() == []  # refused before any request


def test_ivr_members_need_a_digit(ws: Workspace) -> None:
    config = base()
    del config["workgroups"]["menu"]["members"][0]["DigitOrder"]
    ws.write(config)
    result = ws.run("validate", str(ws.config_path), code=1)
    assert "needs DigitOrder" in result.output


def test_members_appear_under_their_workgroup_in_the_plan(ws: Workspace) -> None:
    ws.write(base())
    text = ws.plan().stdout
    sales = text.index('+ workgroup "sales"')
    assert sales < text.index('+ member "user:USER-a"') < text.index('+ workgroup "support"')
