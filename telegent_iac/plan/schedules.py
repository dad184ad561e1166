"""Planning schedules: desired (`schedules:`) x known (state) x live (the account's list).

Telegent documents creating and listing schedules, and no update or delete. So a schedule is
created once; when its declared hours change, a new one is created and every workgroup that
uses it is re-pointed; the old one stays in the account, reported as no longer used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from telegent_iac import spec
from telegent_iac.model.workgroups import Desired, canonical_schedule
from telegent_iac.plan.changes import CREATE, IMPORT, NOOP, UPDATE, Conflict, Drift, Plan, ScheduleChange
from telegent_iac.state.records import State

NOT_DELETED = (
    "it is not deleted: Telegent documents no way to delete (or change) a schedule; remove it "
    "in the Telegent portal once nothing uses it"
)


def live_known_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The schedule fields a live record states, canonical; a field it leaves out is unknown
    (absent from the result), a field it gives as "" is a closed day (None)."""
    names = {name.lower(): name for name in spec.schedule_fields()}
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = names.get(str(key).lower())
        if name is not None:
            out[name] = canonical_schedule({name: value}).get(name)
    return out


def plan_schedules(desired: Desired, state: State, live: Sequence[Mapping[str, Any]], plan: Plan) -> None:
    """Add a ScheduleChange per declared schedule, conflicts, drift and notes to `plan`."""
    live_by_id = {str(r["ScheduleId"]): r for r in live if r.get("ScheduleId")}
    known_ids = {s.id for s in state.schedules.values() if s.id}
    imports = {i.address: i.workgroup_id for i in desired.imports if i.address in desired.schedules}
    for address, schedule in desired.schedules.items():
        after = dict(schedule.fields)
        ss = state.schedules.get(address)
        if address in imports and not (ss and ss.id == imports[address]):
            plan.schedules.append(_plan_import(address, after, imports[address], live_by_id, known_ids, plan))
            continue
        if ss is None or not ss.id:
            same_name = [r for r in live
                         if r.get("Name") == schedule.name and str(r.get("ScheduleId")) not in known_ids]
            if same_name:
                found = str(same_name[0]["ScheduleId"])
                plan.conflicts.append(Conflict(address, (
                    f"the account already has a schedule named {schedule.name!r} (ID {found}) that the state does "
                    f"not know. Creating another would make a duplicate. Adopt it instead: add "
                    f"`import: [{{address: {address}, id: {found}}}]` to the config."
                )))
            plan.schedules.append(ScheduleChange(address, [CREATE], after=after, changed=sorted(after),
                                                 reason="declared, not yet created"))
            continue
        record = live_by_id.get(ss.id)
        if record is None:
            plan.schedules.append(ScheduleChange(
                address, [CREATE], schedule_id=ss.id, before=dict(ss.fields), after=after, changed=sorted(after),
                reason=f"deleted outside telegent-iac (ID {ss.id} is no longer in the account)",
            ))
            continue
        stated = live_known_fields(record)
        known = {**ss.fields, **{k: v for k, v in stated.items() if v is not None}}
        for name, value in stated.items():
            if value is None:
                known.pop(name, None)
            if ss.fields.get(name) != value:
                plan.drift.append(Drift(f"schedule {address}", name, ss.fields.get(name), value))
        changed = sorted(n for n in set(known) | set(after) if known.get(n) != after.get(n))
        if not changed:
            plan.schedules.append(ScheduleChange(address, [NOOP], schedule_id=ss.id, before=known, after=after))
            continue
        plan.schedules.append(ScheduleChange(
            address, [CREATE], schedule_id=ss.id, before=known, after=after, changed=changed,
            reason=f"{', '.join(changed)} changed and a schedule cannot be updated: a new one is created",
        ))
        plan.warnings.append(f"schedule {address}: the current schedule {ss.id} will no longer be used; {NOT_DELETED}")
    for address in sorted(set(state.schedules) - set(desired.schedules)):
        ss = state.schedules[address]
        if ss.id:
            plan.kept.append(f"schedule {address} ({ss.id}): no longer declared, kept; {NOT_DELETED}")


def _plan_import(address: str, after: dict[str, Any], import_id: str, live_by_id: Mapping[str, Mapping[str, Any]],
                 known_ids: set[str], plan: Plan) -> ScheduleChange:
    change = ScheduleChange(address, [IMPORT], after=after, import_id=import_id,
                            reason=f"adopt live schedule {import_id} (import: entry)")
    if import_id in known_ids:
        plan.errors.append(f"schedule {address}: cannot import {import_id}: the state already manages it")
    elif import_id not in live_by_id:
        plan.errors.append(f"schedule {address}: cannot import {import_id}: no such schedule in the account")
    else:
        stated = live_known_fields(live_by_id[import_id])
        change.before = {k: v for k, v in stated.items() if v is not None}
        differs = sorted(n for n, v in stated.items() if after.get(n) != v)
        unstated = sorted(set(after) - set(stated))
        if unstated and not differs:
            plan.warnings.append(f"schedule {address}: the account's list does not state {', '.join(unstated)} of "
                                 f"{import_id}; adopted as declared, unchecked")
        if differs:
            plan.errors.append(
                f"schedule {address}: cannot import {import_id}: it differs in {', '.join(differs)}, and a schedule "
                "cannot be updated. Declare it as it is, or drop the import to have a new one created."
            )
    return change


def schedule_addressed(detail: Mapping[str, Any], state: State) -> Mapping[str, Any]:
    """A live workgroup detail with a ScheduleId the state knows read back as its address
    (the form the config and the state hold), so it is compared like for like."""
    schedule_id = detail.get("ScheduleId")
    for address, ss in state.schedules.items():
        if ss.id and ss.id == schedule_id:
            return {**detail, "ScheduleId": address}
    return detail


def repoint_schedules(desired: Desired, plan: Plan) -> None:
    """A schedule created anew has a new ID: workgroups that use it must be updated."""
    renewed = {s.address for s in plan.schedules if CREATE in s.actions and s.schedule_id}
    if not renewed:
        return
    for change in plan.changes:
        wg = desired.workgroups.get(change.address)
        if wg is None or CREATE in change.actions or wg.fields.get("ScheduleId") not in renewed:
            continue
        if "ScheduleId" not in change.changed:
            change.changed = sorted({*change.changed, "ScheduleId"})
        if change.actions == [NOOP]:
            change.actions = [UPDATE]
        note = f"re-point to the new schedule {wg.fields['ScheduleId']}"
        change.reason = f"{change.reason}; {note}" if change.reason else note
