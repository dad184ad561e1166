"""Identity before creation, free drift from the list, replacements shown as replacements."""

from __future__ import annotations

from typing import Any

from tests.support.workspace import LIST, TOKENS, Workspace, base

CREATE = "/v1.0/workgroups"


def _recreate_by_hand(ws: Workspace, address: str, name: str) -> tuple[str, str]:
    """Delete `address`'s workgroup outside telegent-iac and create one named `name`."""
    old = ws.wid(address)
    ws.direct(f"/v1.0/workgroups/delete?WorkgroupId={old}", {})
    new = ws.direct(CREATE, {"Name": name, "Type": "round-robin", "CallerIdName": "Acme Support"})
    body: dict[str, Any] = new.get("Data", new)
    ws.clear()
    return old, str(body["WorkgroupId"])


def test_a_gone_id_with_a_same_name_workgroup_live_is_a_conflict_never_a_duplicate(applied: Workspace) -> None:
    ws = applied
    old, new = _recreate_by_hand(ws, "support", "SUPPORT")  # any case
    body = ws.plan_json(code=1)
    [conflict] = body["conflicts"]
    assert conflict["address"] == "support"
    assert old in conflict["message"] and new in conflict["message"]
    assert f"telegent-iac import support {new}" in conflict["message"]
    assert body["applyable"] is False
    text = ws.plan(code=1).stdout
    assert text.rstrip().endswith("nothing will be applied.")
    assert "to add" not in text.splitlines()[-1]

    ws.apply(code=1)
    assert [w for w in ws.writes() if w["path"] == CREATE] == []
    assert len([i for i in ws.live_ids()]) == 4

    # Following the advice adopts it; the plan then restores the declared Name.
    ws.run("state", "rm", "support")
    ws.run("import", "support", new, str(ws.config_path))
    changes = {c["address"]: c for c in ws.plan_json(code=None)["resource_changes"]}
    assert changes["support"]["actions"] == ["update"] and "Name" in changes["support"]["changed_fields"]


def test_an_import_entry_may_take_over_an_address_whose_id_is_gone(applied: Workspace) -> None:
    ws = applied
    _, new = _recreate_by_hand(ws, "support", "Support")
    config = base()
    config["import"] = [{"address": "support", "id": new}]
    ws.write(config)
    changes = {c["address"]: c for c in ws.plan_json(code=None)["resource_changes"]}
    assert changes["support"]["actions"][0] == "import" and changes["support"]["import_id"] == new
    ws.apply()
    assert ws.wid("support") == new
    assert [w for w in ws.writes() if w["path"] == CREATE] == []
    # The menu's digit for support followed it to the adopted ID (the old one is gone).
    refs = [a.get("ReferenceWorkgroupId") for a in ws.live(ws.wid("menu"))["Activities"]]
    assert new in refs
    ws.plan("--refresh=full", "--detailed-exitcode")


def test_a_name_changed_by_hand_is_drift_in_a_plain_plan_at_no_extra_request(applied: Workspace) -> None:
    ws = applied
    sales = ws.wid("sales")
    ws.direct("/v1.0/workgroups/update", {"WorkgroupId": sales, "Name": "Sales (old)"})
    ws.clear()
    body = ws.plan_json("--detailed-exitcode", code=2)
    assert body["drift"] == [{"address": "sales", "field": "Name", "recorded": "Sales", "live": "Sales (old)"}]
    changes = {c["address"]: c for c in body["resource_changes"]}
    assert changes["sales"]["actions"] == ["update"] and changes["sales"]["changed_fields"] == ["Name"]
    assert [r["path"] for r in ws.requests()] == [TOKENS, LIST]
    ws.apply()
    ws.plan("--detailed-exitcode")


def _replace_config(ws: Workspace) -> None:
    config = base()
    config["workgroups"]["night"]["WaitBetween"] = "10"  # not in the update schema
    ws.write(config)


def test_a_replacement_is_shown_and_counted_as_one_with_or_without_allow_replace(applied: Workspace) -> None:
    ws = applied
    _replace_config(ws)
    for flags, code in (((), 1), (("--allow-replace",), 2)):
        body = ws.plan_json("--detailed-exitcode", *flags, code=code)
        night = next(c for c in body["resource_changes"] if c["address"] == "night")
        assert night["actions"] == ["delete", "create"]
        assert body["summary"]["add"] == 1 and body["summary"]["destroy"] == 1 and body["summary"]["change"] >= 1
        text = ws.plan(*flags, code=None).stdout
        assert '-/+ workgroup "night"' in text and "must be replaced" in text
        assert "WaitBetween" in text and "# forces replacement" in text
        assert "updated in-place" not in text.split('# night')[1].splitlines()[0]
    # The menu's off-hours address stays "night" but gets the new ID: it says so.
    text = ws.plan("--allow-replace").stdout
    assert '"night" -> "night"' not in text
    assert 'OffHoursId = "night" (re-pointed' in text


def test_messages_of_a_lost_create_name_the_address_once(applied: Workspace) -> None:
    ws = applied
    config = base()
    config["workgroups"]["billing"] = {"Name": "Billing", "Type": "round-robin"}
    ws.write(config)
    ws.server.control.set_faults(drop_next_creates=1)
    result = ws.apply()
    assert "billing: an interrupted create had succeeded; adopted" in result.output
    assert "billing: billing:" not in result.output
    assert [r["Name"] for r in ws.server.control.snapshot().values()].count("Billing") == 1
