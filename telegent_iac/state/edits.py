"""Edits of a state that keep it consistent: renaming a workgroup or schedule address (state
mv, `moved:` entries, import) carries every reference to it along.

Free of I/O and of the planner, so the planner, the applier and the lifecycle commands all use
the same rename.
"""

from __future__ import annotations

from telegent_iac.model.workgroups import member_key, member_refs, workgroup_refs
from telegent_iac.state.records import State


def rename_address(state: State, old: str, new: str) -> None:
    """Move `old` to `new` in `state`, and every reference to it along.

    References in the state hold addresses (OffHoursId/OnHoursId, a member's
    ReferenceWorkgroupId), and a member's derived key names its target ("workgroup:old"):
    left alone they would plan a spurious update, or delete and re-create the member.
    """
    if old not in state.workgroups:
        raise KeyError(old)
    if new in state.workgroups:
        raise ValueError(f"{new} is already in the state")
    state.workgroups[new] = state.workgroups.pop(old)
    retarget(state, old, new)


def rename_schedule(state: State, old: str, new: str) -> None:
    """Move schedule `old` to `new` in `state`; workgroups that name it (ScheduleId holds the
    schedule's address in the state) follow, or they would plan a spurious update."""
    if old not in state.schedules:
        raise KeyError(old)
    if new in state.schedules:
        raise ValueError(f"schedule {new} is already in the state")
    state.schedules[new] = state.schedules.pop(old)
    for ws in state.workgroups.values():
        if ws.fields.get("ScheduleId") == old:
            ws.fields["ScheduleId"] = new


def retarget(state: State, old: str, new: str) -> None:
    """Make every reference in `state` that holds `old` (an address, or a raw WorkgroupId of a
    workgroup just imported) hold `new`, and re-derive member keys that came from it."""
    for ws in state.workgroups.values():
        for name, target in workgroup_refs(ws.fields):
            if target == old:
                ws.fields[name] = new
        renamed = {}
        for key, ms in ws.members.items():
            refs = member_refs(ms.fields)
            if any(target == old for _, target in refs):
                derived = member_key(ms.fields)
                ms.fields = {**ms.fields, **{name: new for name, target in refs if target == old}}
                if key == derived:  # the key came from the target: follow it
                    key = member_key(ms.fields)
            renamed[key] = ms
        ws.members = renamed
