"""Unknown is not empty, at the level of pure functions: decoding and planning."""

from __future__ import annotations

from typing import Any

from telegent_iac.api import decode
from telegent_iac.model.workgroups import Desired, LiveSummary, Member, Workgroup
from telegent_iac.plan.changes import NOOP
from telegent_iac.plan.planner import PlanOptions, make_plan
from telegent_iac.state.records import MemberState, State, WorkgroupState

FIELDS = {"Name": "Sales", "Type": "simultaneous", "AnnouncementText": "Hi"}
MEMBER = {"Type": "User", "PhoneNumber": "+14155550100", "SmsNotification": True}


def _plan(detail_body: dict[str, Any]) -> Any:
    desired = Desired({"sales": Workgroup("sales", FIELDS, (Member("phone:+14155550100", MEMBER),))})
    state = State.new()
    state.workgroups["sales"] = WorkgroupState(
        id="W1", fields=dict(FIELDS), members={"phone:+14155550100": MemberState(id="A1", fields=dict(MEMBER))}
    )
    detail = decode.decode_workgroup(detail_body, "W1")
    live = [LiveSummary("W1", "Sales", "simultaneous")]
    return make_plan(desired, state, live, PlanOptions(refresh="full"), {"W1": detail})


def test_an_activity_field_the_detail_does_not_carry_is_unknown_not_drift() -> None:
    plan = _plan({"WorkgroupId": "W1", "Name": "Sales", "Type": "simultaneous", "AnnouncementText": "Hi",
                  "Activities": [{"WorkgroupActivityId": "A1", "Type": "User", "PhoneNumber": "+14155550100"}]})
    assert plan.drift == []
    [change] = plan.changes
    assert change.actions == [NOOP] and [m.actions for m in change.members] == [[NOOP]]
    assert any("SmsNotification (of members)" in u for u in plan.unchecked)


def test_an_activity_field_said_null_is_unset_and_drift() -> None:
    plan = _plan({"WorkgroupId": "W1", "Name": "Sales", "Type": "simultaneous", "AnnouncementText": "Hi",
                  "Activities": [{"WorkgroupActivityId": "A1", "Type": "User", "PhoneNumber": "+14155550100",
                                  "SmsNotification": None}]})
    assert [(d.field, d.recorded, d.live) for d in plan.drift] == [
        ("member phone:+14155550100.SmsNotification", True, None)]


def test_a_workgroup_field_said_null_is_drift_and_one_not_said_is_not() -> None:
    said_null = _plan({"WorkgroupId": "W1", "Name": "Sales", "Type": "simultaneous", "AnnouncementText": None,
                       "Activities": []})
    assert ("AnnouncementText", "Hi", None) in [(d.field, d.recorded, d.live) for d in said_null.drift]
    not_said = _plan({"WorkgroupId": "W1", "Name": "Sales", "Type": "simultaneous", "Activities": []})
    assert all(d.field != "AnnouncementText" for d in not_said.drift)
