"""Drift seen by a full refresh, restored by apply, or accepted by refresh-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.workspace import LIST, TOKENS, Workspace, base, make_workspace

DETAIL = "/v1.0/workgroups"


def _drift_change(ws: Workspace) -> str:
    sales = ws.wid("sales")
    ws.direct("/v1.0/workgroups/update", {"WorkgroupId": sales, "AnnouncementText": "Changed in the portal."})
    ws.clear()
    return sales


def test_summary_refresh_does_not_read_details(applied: Workspace) -> None:
    ws = applied
    _drift_change(ws)
    assert "No changes." in ws.plan("--detailed-exitcode").stdout  # one list call sees no drift
    assert [r["path"] for r in ws.requests()] == [TOKENS, LIST]


def test_full_refresh_shows_exactly_the_outside_change_and_plans_to_restore_it(applied: Workspace) -> None:
    ws = applied
    sales = _drift_change(ws)
    body = ws.plan_json("--refresh=full", "--detailed-exitcode", code=2)
    assert body["drift"] == [{
        "address": "sales", "field": "AnnouncementText",
        "recorded": "Connecting you to sales.", "live": "Changed in the portal.",
    }]
    changes = {c["address"]: c for c in body["resource_changes"]}
    assert changes["sales"]["actions"] == ["update"]
    assert [a for a, c in changes.items() if c["actions"] != ["no-op"]] == ["sales"]
    # One detail read per managed workgroup, and no write.
    reads = [r for r in ws.requests() if r["method"] == "GET" and r["path"] == DETAIL]
    assert len(reads) == 4
    assert ws.writes() == []

    text = ws.plan("--refresh=full").stdout
    drift_at = text.index("Changes made outside telegent-iac")
    assert 'AnnouncementText' in text[drift_at:]
    assert "Changed in the portal." in text
    assert "4/4 workgroups read" in ws.plan("--refresh=full").stderr  # progress

    ws.clear()
    ws.apply("--refresh=full")
    assert [w["path"] for w in ws.writes()] == ["/v1.0/workgroups/update"]
    assert ws.writes()[0]["body"] == {"WorkgroupId": sales, "AnnouncementText": "Connecting you to sales."}
    assert ws.live(sales)["AnnouncementText"] == "Connecting you to sales."
    ws.plan("--refresh=full", "--detailed-exitcode")


def test_member_drift_is_reported_and_restored(applied: Workspace) -> None:
    ws = applied
    member_id = ws.state()["workgroups"]["sales"]["members"]["user:USER-b"]["id"]
    ws.direct("/v1.0/workgroups/activity/delete", {"WorkgroupActivityId": member_id})
    body = ws.plan_json("--refresh=full", code=0)
    assert [(d["address"], d["field"], d["live"]) for d in body["drift"]] == [("sales", "member user:USER-b", None)]
    ws.clear()
    ws.apply("--refresh=full")
    assert [w["path"] for w in ws.writes()] == ["/v1.0/workgroups/activity"]
    ws.plan("--refresh=full", "--detailed-exitcode")


def test_refresh_only_accepts_live_values_without_a_write(applied: Workspace) -> None:
    ws = applied
    _drift_change(ws)
    plan = ws.plan("--refresh-only")
    assert "accept live values" in plan.stdout
    ws.clear()
    ws.apply("--refresh-only")
    assert ws.writes() == []
    assert ws.state()["workgroups"]["sales"]["fields"]["AnnouncementText"] == "Changed in the portal."
    # The configuration still says otherwise: a normal plan now shows the change to make.
    body = ws.plan_json("--detailed-exitcode", code=2)
    sales = next(c for c in body["resource_changes"] if c["address"] == "sales")
    assert sales["actions"] == ["update"]
    assert body["drift"] == []


@pytest.fixture
def quirky(tmp_path: Path) -> Iterator[Workspace]:
    yield from make_workspace(tmp_path, read_quirks=True)


def test_read_quirks_never_show_drift_after_a_fresh_apply(quirky: Workspace) -> None:
    ws = quirky
    ws.write(base())
    ws.apply()
    body = ws.plan_json("--refresh=full", "--detailed-exitcode")
    assert body["drift"] == [] and body["has_changes"] is False
    ws.run("plan", str(ws.config_path), "--refresh-only", "--detailed-exitcode")
