"""What happens to one call: the routing model of docs/routing.md, evaluated offline on the
declared config. Each step of the way is recorded in words for the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from telegent_iac.model.workgroups import Desired, Workgroup
from telegent_iac.routing import schedule as hours
from telegent_iac.routing.flow import NUMBER_FIELDS, ordered_members, person

MAX_HOPS = 32  # the config loader refuses loops; this only bounds a malformed model


@dataclass
class Outcome:
    reached: str | None = None  # the workgroup whose members ring (address)
    rings: list[str] = field(default_factory=list)  # users and phone numbers, in ring order
    path: list[str] = field(default_factory=list)  # the steps, in words
    unknown: str = ""  # why the outcome cannot be known offline (then nothing else counts)

    @property
    def nobody(self) -> bool:
        return not self.rings and not self.unknown


def route(desired: Desired, number: str, at: datetime, digits: str = "") -> Outcome:
    """Follow a call to `number` at the aware moment `at`, pressing `digits` at IVR menus."""
    out = Outcome()
    by_number = {
        str(wg.fields[name]): wg for wg in desired.workgroups.values() for name in NUMBER_FIELDS if wg.fields.get(name)
    }
    wg = by_number.get(number)
    out.path.append(f"dial {number}")
    if wg is None:
        out.path.append("no workgroup has this number: nobody")
        return out
    _visit(desired, wg, at, list(digits), out, hops=0)
    return out


def _visit(desired: Desired, wg: Workgroup, at: datetime, digits: list[str], out: Outcome, hops: int) -> None:
    if hops > MAX_HOPS:
        out.unknown = f"the call goes round more than {MAX_HOPS} workgroups"
        return
    out.path.append(f"{wg.address} ({wg.fields.get('Type')})")
    is_open = _is_open(desired, wg, at, out)
    if is_open is None:
        return
    kind, target = ("OnHoursType", "OnHoursId") if is_open else ("OffHoursType", "OffHoursId")
    if wg.fields.get(target):
        _follow(desired, wg, wg.fields.get(kind), str(wg.fields[target]), "on hours" if is_open else "off hours",
                at, digits, out, hops)
        return
    if not is_open:
        out.path.append("off hours, and no off-hours route: nobody")
        return
    if wg.fields.get("Type") == "IVR":
        _menu(desired, wg, at, digits, out, hops)
    else:
        _ring(desired, wg, at, out, hops)


def _is_open(desired: Desired, wg: Workgroup, at: datetime, out: Outcome) -> bool | None:
    schedule_id = wg.fields.get("ScheduleId")
    if not schedule_id:
        return True  # no schedule: always on hours (assumed)
    schedule = desired.schedules.get(str(schedule_id))
    if schedule is None:
        out.unknown = (f"{wg.address} uses schedule {schedule_id}, which is not declared under schedules: "
                       "its hours are unknown offline")
        out.path.append(out.unknown)
        return None
    zone_name = str(wg.fields.get("TimeZone") or "UTC")
    local = at.astimezone(hours.zone(zone_name))
    is_open = hours.is_open(schedule.fields, local)
    out.path.append(f"{local:%a %H:%M} {zone_name}: {'on' if is_open else 'off'} hours ({schedule.address})")
    return is_open


def _follow(desired: Desired, source: Workgroup, kind: object, target: str, words: str, at: datetime,
            digits: list[str], out: Outcome, hops: int) -> None:
    if str(kind).lower() == "workgroup" and target in desired.workgroups:
        out.path.append(f"{words}: to workgroup {target}")
        _visit(desired, desired.workgroups[target], at, digits, out, hops + 1)
    elif str(kind).lower() == "user":
        out.path.append(f"{words}: to user {target}")
        out.reached = source.address
        out.rings.append(target)
    else:
        out.unknown = f"{words} route to {kind} {target}: not declared here, unknown offline"
        out.path.append(out.unknown)


def _menu(desired: Desired, wg: Workgroup, at: datetime, digits: list[str], out: Outcome, hops: int) -> None:
    if not digits:
        out.path.append("menu: no digit pressed: nobody")
        return
    digit = digits.pop(0)
    option = next((m for m in wg.members if str(m.fields.get("DigitOrder")) == digit), None)
    if option is None:
        out.path.append(f"press {digit}: no such option: nobody")
        return
    ref = option.fields.get("ReferenceWorkgroupId")
    if str(option.fields.get("Type", "")).lower() == "workgroup" and ref:
        _follow(desired, wg, "Workgroup", str(ref), f"press {digit}", at, digits, out, hops)
        return
    who = person(option.fields)
    out.path.append(f"press {digit}: ring {who.label if who else 'nobody'}")
    if who is not None:
        out.reached = wg.address
        out.rings.append(who.label)


def _ring(desired: Desired, wg: Workgroup, at: datetime, out: Outcome, hops: int) -> None:
    out.reached = wg.address
    rung: list[str] = []
    for member in ordered_members(wg):
        ref = member.fields.get("ReferenceWorkgroupId")
        if str(member.fields.get("Type", "")).lower() == "workgroup" and ref and str(ref) in desired.workgroups:
            nested = Outcome()  # a nested group rings its own members, by its own hours (assumed)
            _visit(desired, desired.workgroups[str(ref)], at, [], nested, hops + 1)
            out.path.append(f"ring group {ref}: " + " -> ".join(nested.path))
            if nested.unknown:
                out.unknown = nested.unknown
            rung.extend(nested.rings)
            continue
        who = person(member.fields)
        if who is not None:
            rung.append(who.label)
    how = "one at a time" if wg.fields.get("Type") == "round-robin" else "all at once"
    out.path.append(f"ring {how}: {', '.join(rung) if rung else 'nobody'}")
    out.rings.extend(r for r in rung if r not in out.rings)

