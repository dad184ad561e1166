"""The planner's safety rules at their edges (pure functions, no server)."""

from __future__ import annotations

from telegent_iac.model.workgroups import Desired, ImportEntry, LiveSummary, Workgroup, canonical_workgroup
from telegent_iac.plan.changes import DELETE, NOOP
from telegent_iac.plan.planner import THRESHOLD_MIN_MANAGED, PlanOptions, make_plan
from telegent_iac.state.records import State, WorkgroupState


def account(n: int) -> tuple[Desired, State, list[LiveSummary]]:
    """n workgroups declared, applied and live."""
    state = State.new()
    workgroups, live = {}, []
    for i in range(n):
        address, fields = f"wg-{i}", canonical_workgroup({"Name": f"Group {i}", "Type": "simultaneous"})
        workgroups[address] = Workgroup(address, fields, ())
        state.workgroups[address] = WorkgroupState(id=f"WID-{i}", fields=dict(fields))
        live.append(LiveSummary(f"WID-{i}", f"Group {i}", "simultaneous", True))
    return Desired(workgroups), state, live


def without(desired: Desired, n: int) -> Desired:
    """`desired` with its first n workgroups removed from the files."""
    return Desired({a: wg for i, (a, wg) in enumerate(desired.workgroups.items()) if i >= n})


def test_deleting_exactly_the_threshold_share_is_allowed() -> None:
    desired, state, live = account(10)
    plan = make_plan(without(desired, 3), state, live, PlanOptions(allow_delete=True, destroy_threshold=30.0))
    assert plan.ok, plan.errors  # 3 of 10 is 30%: at the threshold, not over it
    assert sum(1 for c in plan.changes if c.actions == [DELETE]) == 3


def test_deleting_more_than_the_threshold_share_is_refused() -> None:
    desired, state, live = account(10)
    plan = make_plan(without(desired, 4), state, live, PlanOptions(allow_delete=True, destroy_threshold=30.0))
    assert not plan.ok
    assert "4 of 10" in plan.errors[0] and "30% threshold" in plan.errors[0]


def test_the_threshold_starts_to_apply_at_its_minimum_account_size() -> None:
    small, state, live = account(THRESHOLD_MIN_MANAGED - 1)
    assert make_plan(without(small, 5), state, live, PlanOptions(allow_delete=True)).ok
    big, state, live = account(THRESHOLD_MIN_MANAGED)
    assert not make_plan(without(big, 5), state, live, PlanOptions(allow_delete=True)).ok


def test_fields_the_server_fills_in_are_not_drift() -> None:
    desired, state, live = account(1)
    # A full refresh reads fields nobody declared or set: the server's own defaults.
    detail = {"WorkgroupId": "WID-0", "Name": "Group 0", "Type": "simultaneous", "TimeZone": "America/New_York",
              "RecordCalls": False, "CallerIdName": "ACME"}
    plan = make_plan(desired, state, live, PlanOptions(refresh="full"), details={"WID-0": detail})
    assert plan.drift == []
    assert [c.actions for c in plan.changes] == [[NOOP]]


def test_a_declared_field_changed_on_the_server_is_drift() -> None:
    desired, state, live = account(1)
    detail = {"WorkgroupId": "WID-0", "Name": "Group 0", "Type": "round-robin"}
    plan = make_plan(desired, state, live, PlanOptions(refresh="full"), details={"WID-0": detail})
    assert [(d.address, d.field) for d in plan.drift] == [("wg-0", "Type")]


def test_a_workgroup_the_state_manages_is_never_an_unknown_same_name_conflict() -> None:
    """Moving a workgroup to a new address without `moved:` plans a create at the new one and
    keeps the old; the live workgroup with that Name is ours, not an unknown one to import."""
    desired, state, live = account(1)
    moved = Desired({"renamed": Workgroup("renamed", desired.workgroups["wg-0"].fields, ())})
    plan = make_plan(moved, state, live)
    assert plan.conflicts == []
    assert [(c.address, c.actions) for c in plan.changes] == [("renamed", ["create"])]
    assert plan.kept and plan.kept[0].startswith("wg-0 (WID-0)")


def test_an_id_managed_at_another_address_cannot_be_imported() -> None:
    desired, state, live = account(1)
    fields = desired.workgroups["wg-0"].fields
    both = Desired({"wg-0": desired.workgroups["wg-0"], "copy": Workgroup("copy", fields, ())},
                   imports=(ImportEntry("copy", "WID-0"),))
    detail = {"WorkgroupId": "WID-0", **fields}
    plan = make_plan(both, state, live, details={"WID-0": detail})
    assert any("cannot import WID-0: it is already managed as wg-0" in e for e in plan.errors), plan.errors


def test_an_interrupted_replacement_deletes_the_old_workgroup() -> None:
    desired, state, live = account(1)
    state.workgroups["wg-0"].deposed = ["WID-old"]  # replaced; the old copy not deleted yet
    live.append(LiveSummary("WID-old", "Group 0", "simultaneous", True))
    plan = make_plan(desired, state, live)
    [change] = plan.changes
    assert change.actions == [DELETE] and change.deposed == ["WID-old"]


def test_refresh_only_plans_no_create() -> None:
    desired, state, live = account(1)
    more = Desired({**desired.workgroups, "new": Workgroup("new", canonical_workgroup(
        {"Name": "New", "Type": "IVR"}), ())})
    plan = make_plan(more, state, live, PlanOptions(refresh="refresh-only"), details={
        "WID-0": {"WorkgroupId": "WID-0", "Name": "Group 0", "Type": "simultaneous"}})
    assert [c.address for c in plan.changes] == ["wg-0"]
    assert not plan.has_changes
