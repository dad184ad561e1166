"""Import (command and `import:` entries) and export for onboarding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.workspace import Workspace, base, make_workspace

CREATE = "/v1.0/workgroups"


def _create_directly(ws: Workspace, fields: dict[str, Any], members: Sequence[dict[str, Any]] = ()) -> str:
    """A workgroup made outside telegent-iac (say, in the Telegent portal)."""
    with ws.client() as client:
        wid = client.create_workgroup(fields)
        for member in members:
            client.create_activity(wid, member)
    return wid


SUPPORT = {"Name": "Support", "Type": "round-robin", "AnnouncementText": "Please hold.",
           "CallerIdName": "Acme Support"}
SUPPORT_MEMBERS = [{"Type": "User", "PhoneNumber": "+14155550123"}]


def _support_only() -> dict[str, Any]:
    return {"workgroups": {"support": base()["workgroups"]["support"]}}


# --- import ---------------------------------------------------------------------------------------


def test_import_command_adopts_a_live_workgroup(ws: Workspace) -> None:
    wid = _create_directly(ws, SUPPORT, SUPPORT_MEMBERS)
    ws.write(_support_only())
    conflict = ws.plan(code=1)
    assert "telegent-iac import support" in conflict.output and wid in conflict.output

    ws.clear()
    result = ws.run("import", "support", wid)
    assert f"Imported {wid} as support" in result.stdout and "telegent-iac plan" in result.stdout
    assert ws.writes() == []  # nothing in the account changed
    entry = ws.state()["workgroups"]["support"]
    assert entry["id"] == wid
    assert entry["fields"] == {k: v for k, v in SUPPORT.items()}
    assert list(entry["members"]) == ["phone:+14155550123"]
    assert "No changes." in ws.plan("--detailed-exitcode").stdout
    ws.plan("--refresh=full", "--detailed-exitcode")


def test_import_maps_references_to_managed_addresses(applied: Workspace) -> None:
    ws = applied
    night = ws.wid("night")
    sales = ws.wid("sales")
    wid = _create_directly(ws, {"Name": "Overflow", "Type": "simultaneous", "OffHoursType": "Workgroup",
                                "OffHoursId": night},
                           [{"Type": "Workgroup", "ReferenceWorkgroupId": sales}])
    ws.run("import", "overflow", wid)
    entry = ws.state()["workgroups"]["overflow"]
    assert entry["fields"]["OffHoursId"] == "night"
    assert entry["members"]["workgroup:sales"]["fields"]["ReferenceWorkgroupId"] == "sales"
    config = base()
    config["workgroups"]["overflow"] = {"Name": "Overflow", "Type": "simultaneous", "OffHoursType": "Workgroup",
                                        "OffHoursId": "night",
                                        "members": [{"Type": "Workgroup", "ReferenceWorkgroupId": "sales"}]}
    ws.write(config)
    ws.plan("--detailed-exitcode")


def test_import_with_config_keeps_declared_member_keys(ws: Workspace) -> None:
    wid = _create_directly(ws, SUPPORT, SUPPORT_MEMBERS)
    config = _support_only()
    config["workgroups"]["support"]["members"][0]["key"] = "mobile"
    config["workgroups"]["support"]["prevent_destroy"] = True
    ws.write(config)
    ws.run("import", "support", wid, str(ws.config_path))
    entry = ws.state()["workgroups"]["support"]
    assert list(entry["members"]) == ["mobile"]
    assert entry["prevent_destroy"] is True
    ws.plan("--detailed-exitcode")


def test_import_refusals(applied: Workspace) -> None:
    ws = applied
    sales = ws.wid("sales")
    stray = _create_directly(ws, {"Name": "Stray", "Type": "simultaneous"})
    before = ws.state_path.read_bytes()

    taken = ws.run("import", "sales", stray, code=1)
    assert "sales is already in the state" in taken.output and "state rm sales" in taken.output
    twice = ws.run("import", "other", sales, code=1)
    assert f"{sales} is already managed as sales" in twice.output
    missing = ws.run("import", "ghost", "WID-does-not-exist", code=1)
    assert "no workgroup WID-does-not-exist in the account" in missing.output
    bad = ws.run("import", "Bad Address", stray, code=1)
    assert "invalid address" in bad.output
    assert ws.state_path.read_bytes() == before  # nothing was written


def test_import_entries_go_through_the_plan(ws: Workspace) -> None:
    wid = _create_directly(ws, SUPPORT, SUPPORT_MEMBERS)
    config = _support_only()
    config["workgroups"]["support"]["AnnouncementText"] = "Hold on, please."
    config["import"] = [{"address": "support", "id": wid}]
    ws.write(config)

    plan = ws.plan()
    assert "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy." in plan.stdout
    assert wid in plan.stdout
    ws.clear()
    result = ws.apply()
    assert "1 imported" in result.output
    writes = ws.writes()
    assert CREATE not in [w["path"] for w in writes]
    assert [w["path"] for w in writes] == ["/v1.0/workgroups/update"]  # the declared difference only
    assert writes[0]["body"] == {"WorkgroupId": wid, "AnnouncementText": "Hold on, please."}
    entry = ws.state()["workgroups"]["support"]
    assert entry["id"] == wid and list(entry["members"]) == ["phone:+14155550123"]
    # The import: entry may stay: once imported it is a no-op.
    assert "No changes." in ws.plan("--detailed-exitcode").stdout


def test_import_entry_for_a_missing_id_is_an_error(ws: Workspace) -> None:
    config = _support_only()
    config["import"] = [{"address": "support", "id": "WID-missing"}]
    ws.write(config)
    result = ws.plan(code=1)
    assert "cannot import WID-missing" in result.output


# --- export ---------------------------------------------------------------------------------------


def test_export_then_plan_shows_no_changes(applied: Workspace, tmp_path: Path) -> None:
    ws = applied
    # Extra live workgroups that are awkward to express.
    _create_directly(ws, {"Name": "Ventes & Après-vente!", "Type": "simultaneous",
                          "AnnouncementText": "Literal ${env.HOME} and $${x} text", "WaitBetween": "5"})
    _create_directly(ws, {"Name": "sales", "Type": "simultaneous", "RecordCalls": False},  # slug clashes
                     [{"Type": "User", "PhoneNumber": "+14155550111"}, {"Type": "User", "PhoneNumber": "+14155550111"}])
    ws.state_path.rename(tmp_path / "old-state.json")  # onboarding starts with no state
    out = tmp_path / "exported.yaml"
    result = ws.run("export", "--out", str(out))
    assert "Exported 6 workgroups" in result.stderr

    ws.run("validate", str(out))
    exported = yaml.safe_load(out.read_text())["workgroups"]
    assert set(exported) == {"menu", "night", "sales", "sales-2", "support", "ventes-apres-vente"}
    assert exported["menu"]["OffHoursId"] == "night"  # references as addresses
    assert {m["ReferenceWorkgroupId"] for m in exported["menu"]["members"]} == {"sales", "support"}
    assert exported["ventes-apres-vente"]["AnnouncementText"] == "Literal $${env.HOME} and $$${x} text"
    keys = [m.get("key") for m in exported["sales-2"]["members"]]
    assert keys == [None, "phone:+14155550111#2"]  # two identical members need a key
    ws.clear()
    plan = ws.run("plan", str(out), "--detailed-exitcode")
    assert "No changes." in plan.stdout
    ws.run("plan", str(out), "--refresh=full", "--detailed-exitcode")
    assert ws.writes() == []


def test_export_skips_what_the_format_cannot_express(ws: Workspace, tmp_path: Path) -> None:
    first = _create_directly(ws, {"Name": "Twin", "Type": "simultaneous"})
    second = _create_directly(ws, {"Name": "Twin", "Type": "simultaneous"})
    _create_directly(ws, {"Name": "Points at twin", "Type": "simultaneous"},
                     [{"Type": "Workgroup", "ReferenceWorkgroupId": max(first, second)}])
    _create_directly(ws, {"Name": "Menu", "Type": "IVR"},  # an IVR member without a digit
                     [{"Type": "User", "PhoneNumber": "+14155550100"}])
    _create_directly(ws, {"Name": "Fine", "Type": "round-robin"})
    out = tmp_path / "exported.yaml"
    result = ws.run("export", "--out", str(out))
    kept_twin, dropped_twin = sorted([first, second])
    assert f"skipped {dropped_twin} (Name 'Twin'): another workgroup, {kept_twin}" in result.stderr
    assert "needs DigitOrder" in result.stderr
    exported = yaml.safe_load(out.read_text())["workgroups"]
    assert dropped_twin == max(first, second)  # the first by ID is kept
    assert "points-at-twin" not in exported  # it rang the skipped twin
    assert "which is not exported" in result.stderr
    assert {"twin", "fine"} <= set(exported) and "menu" not in exported
    assert ws.run("plan", str(out), "--detailed-exitcode").exit_code == 0


def test_export_refuses_to_overwrite(applied: Workspace, tmp_path: Path) -> None:
    ws = applied
    out = tmp_path / "exported.yaml"
    refused = ws.run("export", "--out", str(out), code=1)
    assert "already manages 4 workgroups" in refused.output and "--force" in refused.output
    assert ws.requests() == [] and not out.exists()
    ws.run("export", "--out", str(out), "--force")
    again = ws.run("export", "--out", str(out), "--force")
    assert again.exit_code == 0
    out.write_text("keep me")
    ws.state_path.unlink()
    exists = ws.run("export", "--out", str(out), code=1)
    assert "already exists" in exists.output and out.read_text() == "keep me"
    ws.run("plan", str(ws.config_path), code=1)  # no state: the old config now conflicts


def test_export_to_stdout(applied: Workspace, tmp_path: Path) -> None:
    ws = applied
    ws.env["TELEGENT_STATE"] = str(tmp_path / "fresh" / "state.json")
    result = ws.run("export", "--out", "-")
    assert yaml.safe_load(result.stdout)["workgroups"]["menu"]["Name"] == "Menu"


@pytest.fixture
def quirky(tmp_path: Path) -> Iterator[Workspace]:
    yield from make_workspace(tmp_path, read_quirks=True, envelope="wrapped", list_key="Results", id_prefix="WG-")


def test_export_with_read_quirks_then_plan_shows_no_changes(quirky: Workspace, tmp_path: Path) -> None:
    ws = quirky
    ws.write(base())
    ws.apply()
    ws.state_path.unlink()
    out = tmp_path / "exported.yaml"
    ws.run("export", "--out", str(out))
    exported = yaml.safe_load(out.read_text())["workgroups"]
    assert exported["sales"]["Type"] == "simultaneous" and exported["sales"]["RecordCalls"] is True
    ws.run("plan", str(out), "--refresh=full", "--detailed-exitcode")
