"""Edits of a state that keep it consistent: renaming a workgroup or schedule address (state
mv, `moved:` entries, import) carries every reference to it along; the `state` commands' edits
(rm, mv, adopt-member, confirm-absent) refuse what would make it inconsistent.

Free of I/O and of the planner, so the planner, the applier and the lifecycle commands all use
the same rename.
"""

from __future__ import annotations

from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE, is_address
from telegent_iac.model.workgroups import member_key, member_refs, workgroup_refs
from telegent_iac.state.records import MemberState, ScheduleState, State, WorkgroupState


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


def forget(state: State, address: str) -> WorkgroupState | ScheduleState:
    """`state rm`: drop `address` (or `schedule.ADDRESS`) from the state; the account is not touched."""
    if address.startswith(SCHEDULE):
        ss = state.schedules.pop(address.removeprefix(SCHEDULE), None)
        if ss is None:
            raise UserError(f"{address} is not in the state")
        return ss
    ws = state.workgroups.pop(address, None)
    if ws is None:
        raise UserError(f"{address} is not in the state{_known_hint(state, address)}")
    return ws


def _uncertain(state: State, address: str, key: str) -> MemberState:
    ws = state.workgroups.get(address)
    if ws is None:
        raise UserError(f"{address} is not in the state{_known_hint(state, address)}")
    ms = ws.members.get(key)
    if ms is None or ms.pending_create is None:
        pending = sorted(k for k, m in ws.members.items() if m.pending_create is not None)
        hint = f" (uncertain members of {address}: {', '.join(pending)})" if pending else ""
        raise UserError(f"{address} has no uncertain member {key!r}{hint}")
    return ms


def adopt_member(state: State, address: str, key: str, activity_id: str) -> MemberState:
    """`state adopt-member`: an uncertain member exists as `activity_id`; record it."""
    ms = _uncertain(state, address, key)
    activity_id = activity_id.strip()
    if not activity_id:
        raise UserError("the activity ID must not be empty")
    for other, ws in state.workgroups.items():
        for other_key, m in ws.members.items():
            if m.id == activity_id:
                raise UserError(f"activity {activity_id} is already recorded as {other} member {other_key}")
    assert ms.pending_create is not None
    ms.id, ms.fields, ms.pending_create = activity_id, dict(ms.pending_create.fields), None
    return ms


def confirm_absent(state: State, address: str, key: str) -> None:
    """`state confirm-absent`: an uncertain member does not exist; forget the record so the
    next apply creates it."""
    ms = _uncertain(state, address, key)
    if ms.id is None:
        del state.workgroups[address].members[key]
    else:
        ms.pending_create = None


def move(state: State, old: str, new: str) -> None:
    """`state mv`: rename an address, with every reference to it."""
    if old.startswith(SCHEDULE) or new.startswith(SCHEDULE):
        old_s, new_s = old.removeprefix(SCHEDULE), new.removeprefix(SCHEDULE)
        if not (old.startswith(SCHEDULE) and new.startswith(SCHEDULE)):
            raise UserError("a schedule moves to a schedule: name both as schedule.ADDRESS")
        if old_s not in state.schedules:
            raise UserError(f"{old} is not in the state")
        if new_s in state.schedules:
            raise UserError(f"{new} is already in the state")
        check_address(new_s)
        rename_schedule(state, old_s, new_s)
        return
    if old not in state.workgroups:
        raise UserError(f"{old} is not in the state{_known_hint(state, old)}")
    if new in state.workgroups:
        raise UserError(f"{new} is already in the state; `telegent-iac state rm {new}` first if it is stale")
    check_address(new)
    rename_address(state, old, new)


def check_address(address: str) -> None:
    if not is_address(address):
        raise UserError(f"invalid address {address!r}: lower-case letters, digits, '-' and '_', starting with a "
                        "letter or digit, at most 63 characters")


def _known_hint(state: State, address: str) -> str:
    import difflib

    close = difflib.get_close_matches(address, list(state.workgroups), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
