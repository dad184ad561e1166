"""Drift checks that fit the rate limit: parallel full refresh, sampled refresh that rotates
through the workgroups by when each was last verified, and the plan saying what it covered."""

from __future__ import annotations

import json

from telegent_iac.state.file import FileStateStore
from tests.support.workspace import Workspace

DETAIL = "/v1.0/workgroups"


def detail_reads(ws: Workspace) -> int:
    return sum(1 for r in ws.requests() if r["method"] == "GET" and r["path"] == DETAIL)


def verified_times(ws: Workspace) -> dict[str, str | None]:
    state = FileStateStore(ws.state_path).read()
    assert state is not None
    return {a: w.verified for a, w in state.workgroups.items()}


def test_full_refresh_in_parallel_sees_the_same_drift(applied: Workspace) -> None:
    ws = applied
    sales = ws.wid("sales")
    ws.direct("/v1.0/workgroups/update", {"WorkgroupId": sales, "AnnouncementText": "Changed in the portal."})
    one = ws.plan_json("--refresh=full", "--parallelism", "1", code=0)
    eight = ws.plan_json("--refresh=full", "--parallelism", "8", code=0)
    for body in (one, eight):
        assert [(d["address"], d["field"]) for d in body["drift"]] == [("sales", "AnnouncementText")]
        assert body["verified"] == ["menu", "night", "sales", "support"]
        assert body["not_verified"] == []
    assert one["resource_changes"] == eight["resource_changes"]
    assert set(verified_times(ws).values()) == {None}  # a full refresh in a plan writes nothing


def test_sample_reads_the_ones_verified_longest_ago_and_rotates(applied: Workspace) -> None:
    ws = applied
    serial = ws.state()["serial"]
    first = ws.plan_json("--refresh=sample=2")
    assert first["refresh"] == "sample"
    assert first["verified"] == ["menu", "night"]  # never verified: by address
    assert first["not_verified"] == ["sales", "support"]
    assert detail_reads(ws) == 2
    times = verified_times(ws)
    assert times["menu"] and times["night"] and not times["sales"] and not times["support"]
    assert first["state"]["serial"] == ws.state()["serial"] == serial + 1  # recorded, plan current
    ws.clear()
    second = ws.plan_json("--refresh=sample=3")
    # The two never verified, then the oldest of the rest (a tie: by address).
    assert second["verified"] == ["menu", "sales", "support"]
    assert detail_reads(ws) == 3
    # Four runs of one cover all four, each read exactly once.
    seen: list[str] = []
    for _ in range(4):
        seen += ws.plan_json("--refresh=sample=1")["verified"]
    assert sorted(seen) == ["menu", "night", "sales", "support"]


def test_sample_finds_drift_in_what_it_reads_and_says_what_it_did_not_check(applied: Workspace) -> None:
    ws = applied
    ws.plan_json("--refresh=sample=2")  # menu and night verified now
    ws.direct("/v1.0/workgroups/update", {"WorkgroupId": ws.wid("sales"), "AnnouncementText": "Portal."})
    body = ws.plan_json("--refresh=sample=2", "--detailed-exitcode", code=2)
    assert body["verified"] == ["sales", "support"]
    assert [(d["address"], d["field"]) for d in body["drift"]] == [("sales", "AnnouncementText")]
    text = ws.plan("--refresh=sample=1").stdout
    assert "Verified against live details: 1 of 4 managed workgroups (the rest as the state last knew them)." in text


def test_a_saved_sampled_plan_stays_applicable(applied: Workspace) -> None:
    ws = applied
    out = ws.tmp / "drift.plan"
    ws.plan("--refresh=sample=2", "--out", str(out))
    saved = json.loads(out.read_text())["plan"]
    assert saved["serial"] == ws.state()["serial"]
    ws.run("apply", str(out))


def test_a_bad_sample_is_a_usage_error_without_requests(applied: Workspace) -> None:
    ws = applied
    for bad in ("sample=0", "sample=x", "sometimes"):
        result = ws.plan(f"--refresh={bad}", code=1)
        assert "summary, full, sample=N" in result.output
    assert ws.requests() == []


def test_apply_with_a_sample_records_it_too(applied: Workspace) -> None:
    ws = applied
    ws.apply("--refresh=sample=3", "--parallelism", "3")
    assert sum(1 for t in verified_times(ws).values() if t) == 3
