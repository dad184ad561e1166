"""Resolving pending creates against the live account (pure functions, no server)."""

from __future__ import annotations

from typing import Any

from telegent_iac.model.workgroups import LiveSummary
from telegent_iac.state.records import MemberState, PendingCreate, State, WorkgroupState, utc_now
from telegent_iac.state.recovery import (
    ADOPTED,
    AMBIGUOUS,
    IN_FLIGHT,
    NOT_CREATED,
    resolve_member,
    resolve_workgroup,
)

MINUTE = 60.0


def pending_state(name: str = "Sales", kind: str = "simultaneous", started_at: str | None = None) -> State:
    state = State.new()
    state.workgroups["sales"] = WorkgroupState(
        pending_create=PendingCreate(name, kind, started_at or utc_now(), {"Name": name, "Type": kind}))
    return state


def test_a_live_match_is_adopted() -> None:
    state = pending_state()
    r = resolve_workgroup(state, "sales", [LiveSummary("WID-9", "Sales", "simultaneous", True)])
    assert (r.outcome, r.resource_id) == (ADOPTED, "WID-9")
    assert state.workgroups["sales"].id == "WID-9" and state.workgroups["sales"].pending_create is None


def test_a_live_match_whose_name_a_reading_spells_in_another_case_is_adopted() -> None:
    # Clearing the record instead would create the workgroup a second time.
    state = pending_state()
    r = resolve_workgroup(state, "sales", [LiveSummary("WID-9", " SALES", "simultaneous", True)])
    assert (r.outcome, r.resource_id) == (ADOPTED, "WID-9")


def test_an_id_the_state_manages_at_another_address_is_never_adopted() -> None:
    state = pending_state()
    state.workgroups["other"] = WorkgroupState(id="WID-1", fields={"Name": "Sales", "Type": "simultaneous"})
    r = resolve_workgroup(state, "sales", [LiveSummary("WID-1", "Sales", "simultaneous", True)])
    assert r.outcome == NOT_CREATED
    assert state.workgroups["sales"].id is None and state.workgroups["other"].id == "WID-1"


def test_a_workgroup_of_another_type_with_the_same_name_is_not_the_pending_create() -> None:
    state = pending_state(kind="simultaneous")
    r = resolve_workgroup(state, "sales", [LiveSummary("WID-2", "Sales", "IVR", True)])
    assert r.outcome == NOT_CREATED
    assert state.workgroups["sales"].id is None


def test_several_live_candidates_are_ambiguous_not_the_first_adopted() -> None:
    state = pending_state()
    live = [LiveSummary("WID-3", "Sales", "simultaneous", True), LiveSummary("WID-4", "Sales", "simultaneous", True)]
    r = resolve_workgroup(state, "sales", live)
    assert r.outcome == AMBIGUOUS and "WID-3, WID-4" in r.message
    assert state.workgroups["sales"].id is None and state.workgroups["sales"].pending_create is not None


def test_a_young_workgroup_create_with_no_match_may_still_be_in_flight() -> None:
    state = pending_state()
    assert resolve_workgroup(state, "sales", [], min_age=MINUTE).outcome == IN_FLIGHT
    assert state.workgroups["sales"].pending_create is not None  # kept for the next look


def test_an_unreadable_started_at_counts_as_old_not_fresh() -> None:
    state = pending_state(started_at="yesterday-ish")
    assert resolve_workgroup(state, "sales", [], min_age=MINUTE).outcome == NOT_CREATED
    assert state.workgroups["sales"].pending_create is None


def member_state(started_at: str | None = None) -> State:
    state = State.new()
    fields = {"Type": "User", "PhoneNumber": "+14155550123"}
    state.workgroups["sales"] = WorkgroupState(id="WID-1", fields={"Name": "Sales", "Type": "simultaneous"}, members={
        "phone": MemberState(pending_create=PendingCreate("phone", "User", started_at or utc_now(), fields))})
    return state


NO_ACTIVITIES: dict[str, Any] = {"WorkgroupId": "WID-1", "Name": "Sales", "Activities": []}


def test_a_young_member_create_with_no_match_may_still_be_in_flight() -> None:
    state = member_state()
    assert resolve_member(state, "sales", "phone", NO_ACTIVITIES, min_age=MINUTE).outcome == IN_FLIGHT
    assert state.workgroups["sales"].members["phone"].pending_create is not None


def test_an_old_member_create_with_no_match_did_not_happen() -> None:
    state = member_state(started_at="2001-01-01T00:00:00.000000Z")
    assert resolve_member(state, "sales", "phone", NO_ACTIVITIES, min_age=MINUTE).outcome == NOT_CREATED
    assert "phone" not in state.workgroups["sales"].members


PHONE = {"Type": "User", "PhoneNumber": "+14155550123"}


def test_a_member_create_cannot_be_checked_when_the_account_lists_no_activities() -> None:
    state = member_state(started_at="2001-01-01T00:00:00.000000Z")
    r = resolve_member(state, "sales", "phone", {"WorkgroupId": "WID-1", "Name": "Sales"}, min_age=MINUTE)
    assert r.outcome == AMBIGUOUS and "list no activities" in r.message
    assert state.workgroups["sales"].members["phone"].pending_create is not None


def test_a_member_create_is_adopted_from_the_activities() -> None:
    state = member_state()
    detail = {**NO_ACTIVITIES, "Activities": [{"WorkgroupActivityId": "WAID-7", **PHONE}]}
    r = resolve_member(state, "sales", "phone", detail)
    assert (r.outcome, r.resource_id) == (ADOPTED, "WAID-7")
    assert state.workgroups["sales"].members["phone"].id == "WAID-7"


def test_an_activity_the_state_already_holds_is_not_adopted_for_a_pending_member() -> None:
    state = member_state(started_at="2001-01-01T00:00:00.000000Z")
    state.workgroups["sales"].members["twin"] = MemberState(id="WAID-1", fields=dict(PHONE))
    detail = {**NO_ACTIVITIES, "Activities": [{"WorkgroupActivityId": "WAID-1", **PHONE}]}
    assert resolve_member(state, "sales", "phone", detail, min_age=MINUTE).outcome == NOT_CREATED
    assert state.workgroups["sales"].members["twin"].id == "WAID-1"
    assert "phone" not in state.workgroups["sales"].members
