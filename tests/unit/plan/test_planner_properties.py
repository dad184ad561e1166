"""Property tests of the canonical form and the planner (pure functions, no server)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from telegent_iac.model.workgroups import (
    Desired,
    LiveSummary,
    Workgroup,
    canonical_bool,
    canonical_member,
    canonical_type,
    canonical_workgroup,
)
from telegent_iac.plan.changes import CREATE, DELETE, NOOP
from telegent_iac.plan.planner import PlanOptions, make_plan
from telegent_iac.state.records import MemberState, State, WorkgroupState
from tests.support.models import TYPES, desired_configs


def applied_state(desired: Desired) -> tuple[State, list[LiveSummary]]:
    """The state and live list as a successful apply of `desired` leaves them."""
    state = State.new()
    live = []
    for wg in desired:
        state.workgroups[wg.address] = WorkgroupState(
            id=f"WID-{wg.address}",
            fields=dict(wg.fields),
            members={m.key: MemberState(id=f"WAID-{wg.address}-{m.key}", fields=dict(m.fields)) for m in wg.members},
        )
        live.append(LiveSummary(f"WID-{wg.address}", wg.name, wg.type, True))
    return state, live


@settings(max_examples=150, deadline=None)
@given(desired_configs())
def test_a_fresh_apply_plans_no_changes(desired: Desired) -> None:
    state, live = applied_state(desired)
    plan = make_plan(desired, state, live)
    assert not plan.has_changes, plan.summary_line()
    assert plan.ok and not plan.kept


@settings(max_examples=150, deadline=None)
@given(desired_configs(), st.randoms(use_true_random=False))
def test_reordering_members_changes_nothing(desired: Desired, rnd: Any) -> None:
    state, live = applied_state(desired)
    shuffled = {}
    for wg in desired:
        members = list(wg.members)
        rnd.shuffle(members)
        shuffled[wg.address] = Workgroup(wg.address, wg.fields, tuple(members))
    assert not make_plan(Desired(shuffled), state, live).has_changes


@settings(max_examples=150, deadline=None)
@given(desired_configs())
def test_an_empty_state_plans_one_create_per_workgroup_and_nothing_else(desired: Desired) -> None:
    plan = make_plan(desired, State.new(), [])
    assert [c.address for c in plan.changes] == list(desired.workgroups)
    assert all(c.actions == [CREATE] for c in plan.changes)
    assert plan.to_add == len(desired.workgroups) and plan.to_destroy == 0


@settings(max_examples=100, deadline=None)
@given(desired_configs(), st.data())
def test_removed_workgroups_are_kept_unless_deletes_are_allowed(desired: Desired, data: Any) -> None:
    state, live = applied_state(desired)
    referenced = {a for wg in desired for a in wg.references()}
    removable = [a for a in desired.workgroups if a not in referenced]
    removed = set(data.draw(st.lists(st.sampled_from(removable), unique=True)) if removable else [])
    remaining = Desired({a: wg for a, wg in desired.workgroups.items() if a not in removed})
    kept = make_plan(remaining, state, live)
    assert not any(DELETE in c.actions for c in kept.changes)
    assert len(kept.kept) == len(removed)
    deleting = make_plan(remaining, state, live, PlanOptions(allow_delete=True, force=True))
    assert {c.address for c in deleting.changes if c.actions == [DELETE]} == removed
    assert all(c.actions == [NOOP] for c in deleting.changes if c.address not in removed)


@given(st.sampled_from(TYPES), st.sampled_from(["lower", "upper", "title", "squash"]))
def test_type_spellings_read_back_are_canonical(declared: str, style: str) -> None:
    spelled = {"lower": declared.lower(), "upper": declared.upper(), "title": declared.title(),
               "squash": declared.replace("-", "")}[style]
    assert canonical_type(spelled) == declared


@given(st.booleans())
def test_booleans_read_back_as_strings_are_canonical(value: bool) -> None:
    for spelled in (value, str(value), str(value).lower(), str(value).upper(), int(value)):
        assert canonical_bool(spelled) is value


@given(desired_configs())
def test_canonical_form_is_idempotent(desired: Desired) -> None:
    for wg in desired:
        assert canonical_workgroup(wg.fields) == dict(wg.fields)
        for m in wg.members:
            assert canonical_member(m.fields) == dict(m.fields)
