"""Schedules live in the state's head (beside the account binding): every store keeps them
through whole writes, journaled or row-level writes of workgroups, and a reopen."""

from __future__ import annotations

from telegent_iac.state.records import PendingCreate, ScheduleState, State, WorkgroupState
from tests.support.stores import StoreFactory


def test_schedules_survive_writes_of_workgroups_and_a_reopen(make_store: StoreFactory) -> None:
    store = make_store()
    state = State.new()
    intent = PendingCreate("Office", "schedule", "t", {"Name": "Office"})
    state.schedules["office"] = ScheduleState(pending_create=intent)
    store.write(state)
    state.schedules["office"] = ScheduleState(id="SID-1", fields={"Name": "Office", "MondayStartTime": "9:00 AM"})
    store.write(state)  # a schedule's write names no workgroup: a whole one
    state.workgroups["desk"] = WorkgroupState(id="WID-1", fields={"Name": "Desk", "ScheduleId": "office"})
    store.write(state, changed={"desk"})  # a workgroup's write, journaled or row-level
    state.schedules["office"].id = "SID-2"
    state.workgroups["desk"].fields["Type"] = "IVR"
    store.write(state, changed={"desk"})  # the schedule changed too: it must not be lost
    again = make_store().read()
    assert again is not None
    assert again.schedules["office"].id == "SID-2"
    assert again.schedules["office"].fields["MondayStartTime"] == "9:00 AM"
    assert again.workgroups["desk"].fields["Type"] == "IVR"


def test_a_state_without_schedules_has_no_schedules_key() -> None:
    assert "schedules" not in State.new().to_dict()  # older states read back byte for byte
