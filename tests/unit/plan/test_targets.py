"""--target: the planner keeps only the targeted addresses and the workgroups they refer to,
says the plan is partial, and refuses an address it does not know."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telegent_iac.errors import UserError
from telegent_iac.model.workgroups import (
    Desired,
    LiveSummary,
)
from telegent_iac.plan.changes import CREATE, DELETE
from telegent_iac.plan.planner import PlanOptions, make_plan
from telegent_iac.state.records import ScheduleState, State, WorkgroupState
from tests.support.models import desired, desired_configs, workgroup


def test_only_the_target_and_what_it_refers_to() -> None:
    config = desired(workgroup("menu", refers_to="sales"), workgroup("sales", OffHoursType="Workgroup",
                     OffHoursId="night"), workgroup("night"), workgroup("other"))
    full = make_plan(config, State.new(), [])
    plan = make_plan(config, State.new(), [], PlanOptions(targets=("menu",)))
    assert sorted(c.address for c in plan.changes) == ["menu", "night", "sales"]  # transitively
    assert plan.targets == ["menu"]
    assert any("partial" in w and "--target menu" in w for w in plan.warnings)
    # What is planned for the kept addresses is exactly what the full plan says.
    by_address = {c.address: c for c in full.changes}
    assert all(c == by_address[c.address] for c in plan.changes)
    assert not full.warnings


def test_problems_of_addresses_not_targeted_do_not_block() -> None:
    config = desired(workgroup("menu"), workgroup("other"))
    live = [LiveSummary("WID-x", "Other", "IVR")]  # "other" would be a duplicate: a conflict
    assert [c.address for c in make_plan(config, State.new(), live).conflicts] == ["other"]
    plan = make_plan(config, State.new(), live, PlanOptions(targets=("menu",)))
    assert plan.ok and [c.address for c in plan.changes] == ["menu"]
    assert plan.conflicts == []


def test_an_undeclared_target_is_deleted_only_with_allow_delete() -> None:
    state = State.new()
    for address in ("old", "older"):
        state.workgroups[address] = WorkgroupState(id=f"WID-{address}", fields={"Name": address, "Type": "IVR"})
    live = [LiveSummary(f"WID-{a}", a, "IVR") for a in ("old", "older")]
    options = PlanOptions(allow_delete=True, targets=("old",))
    plan = make_plan(desired(), state, live, options)
    assert [(c.address, c.actions) for c in plan.changes] == [("old", [DELETE])]
    kept = make_plan(desired(), state, live, PlanOptions(targets=("old",)))
    assert kept.changes == [] and len(kept.kept) == 1 and kept.kept[0].startswith("old (")


def test_an_unknown_target_is_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"--target seles: no workgroup .*did you mean 'sales'"):
        make_plan(desired(workgroup("sales")), State.new(), [], PlanOptions(targets=("seles",)))


def test_a_targeted_workgroup_pulls_in_the_schedule_it_uses() -> None:
    config = desired(workgroup("menu", refers_to="sales", ScheduleId="office"), workgroup("sales"),
                     workgroup("other", ScheduleId="weekend"), schedules=("office", "weekend"))
    full = make_plan(config, State.new(), [])
    plan = make_plan(config, State.new(), [], PlanOptions(targets=("menu",)))
    assert [s.address for s in plan.schedules] == ["office"]  # created first; "weekend" waits
    assert plan.schedules == [s for s in full.schedules if s.address == "office"]
    assert sorted(c.address for c in plan.changes) == ["menu", "sales"]
    assert any("--target menu and what they need (sales, schedule.office)" in w for w in plan.warnings)


def test_a_schedule_is_targeted_as_schedule_address() -> None:
    config = desired(workgroup("menu", ScheduleId="office"), schedules=("office", "weekend"))
    plan = make_plan(config, State.new(), [], PlanOptions(targets=("schedule.weekend",)))
    assert [s.address for s in plan.schedules] == ["weekend"] and plan.changes == []
    assert plan.targets == ["schedule.weekend"]
    assert any("partial: only --target schedule.weekend." in w for w in plan.warnings)
    # Problems of schedules not targeted do not block (an import of an ID the account lacks).
    state = State.new()
    state.schedules["gone"] = ScheduleState(id="SID-gone", fields={"Name": "Gone"})
    plan = make_plan(config, state, [], PlanOptions(targets=("schedule.gone",)))
    assert plan.ok and plan.schedules == [] and [k.split(" (")[0] for k in plan.kept] == ["schedule gone"]


def test_an_unknown_schedule_target_is_a_clear_error() -> None:
    config = desired(workgroup("menu", ScheduleId="office"), schedules=("office",))
    with pytest.raises(UserError, match=r"--target schedule\.ofice: no schedule .*did you mean 'schedule\.office'"):
        make_plan(config, State.new(), [], PlanOptions(targets=("schedule.ofice",)))
    with pytest.raises(UserError, match=r"--target office: no workgroup .*did you mean 'schedule\.office'"):
        make_plan(config, State.new(), [], PlanOptions(targets=("office",)))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(desired_configs(), st.data())
def test_a_targeted_plan_is_the_full_plan_cut_to_a_closed_set(config: Desired, data: st.DataObject) -> None:
    if not config.workgroups:
        return
    targets = data.draw(st.lists(st.sampled_from(sorted(config.workgroups)), min_size=1, unique=True))
    full = make_plan(config, State.new(), [])
    plan = make_plan(config, State.new(), [], PlanOptions(targets=tuple(targets)))
    kept = {c.address for c in plan.changes}
    assert set(targets) <= kept
    for change in plan.changes:
        assert set(change.depends_on) <= kept  # everything it needs is created in the same run
        assert change == next(c for c in full.changes if c.address == change.address)
        assert CREATE in change.actions
