"""Routing lints: call-flow mistakes in a valid config, each with a rule id and a severity.

Errors fail `validate` (and so `plan` and `apply`); warnings are printed and do not. A
workgroup accepts a finding reported on it with `lint_ignore: [rule-id]`. The rules are
written out, with their reasons, in docs/routing.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from telegent_iac.errors import ERROR, WARNING, Finding, Position
from telegent_iac.model.workgroups import Desired, Workgroup, member_refs, workgroup_refs
from telegent_iac.routing.flow import NUMBER_FIELDS
from telegent_iac.routing.numbers import country_of, is_valid

# rule id -> (severity, what it means). `routing-loop` is reported by the config loader with
# its reference cycles (apply cannot order a cycle, so it cannot be accepted).
RULES: dict[str, tuple[str, str]] = {
    "duplicate-phone": (ERROR, "the same number is on two workgroups"),
    "invalid-phone": (ERROR, "a phone number that is not valid for its country"),
    "ivr-no-options": (WARNING, "an IVR menu with no options"),
    "empty-target": (WARNING, "a digit or route leads to a group with no members"),
    "empty-hunt-group": (WARNING, "a ring group with no members"),
    "unreachable": (WARNING, "no number and no route reaches the workgroup"),
    "off-hours-without-schedule": (WARNING, "off-hours routing on a workgroup without a schedule"),
}
IGNORABLE = tuple(sorted(RULES))
RING_TYPES = ("simultaneous", "round-robin")


def lint(desired: Desired) -> list[Finding]:
    """Every finding not accepted by its workgroup's `lint_ignore:`, sorted by place."""
    workgroups = desired.workgroups
    found = [
        *_duplicate_phones(workgroups),
        *_invalid_phones(workgroups),
        *_empty_menus_and_groups(workgroups),
        *_empty_targets(workgroups),
        *_unreachable(workgroups),
        *_off_hours_without_schedule(workgroups),
    ]
    kept = [f for f in found if f.rule not in workgroups[f.address].lint_ignore]
    # a key of plain values: comparing the dataclasses costs ~20x more at 10,000 findings
    return sorted(kept, key=lambda f: (f.position.file, f.position.line, f.position.column, f.rule, f.message))


def _finding(rule: str, wg: Workgroup, message: str, position: Position | None = None) -> Finding:
    where = position or wg.position or Position("?", 1, 1)
    return Finding(where, rule, RULES[rule][0], message, wg.address)


def _at(wg: Workgroup, name: str) -> Position | None:
    return wg.field_positions.get(name, wg.position)


def _duplicate_phones(workgroups: Mapping[str, Workgroup]) -> Iterator[Finding]:
    first: dict[str, tuple[Workgroup, str]] = {}
    for wg in workgroups.values():
        for name in NUMBER_FIELDS:
            number = wg.fields.get(name)
            if not number:
                continue
            if number in first and first[number][0].address != wg.address:
                other, other_field = first[number]
                yield _finding(
                    "duplicate-phone", wg,
                    f"{number} is also the {other_field} of '{other.address}' (at {_at(other, other_field)}); "
                    "a call to it can reach only one workgroup",
                    _at(wg, name),
                )
            else:
                first.setdefault(str(number), (wg, name))


def _invalid_phones(workgroups: Mapping[str, Workgroup]) -> Iterator[Finding]:
    for wg in workgroups.values():
        for name in NUMBER_FIELDS:
            number = wg.fields.get(name)
            if number and not is_valid(str(number)):
                yield _finding("invalid-phone", wg, f"{name} {number} is not a valid number for "
                               f"{country_of(str(number))}", _at(wg, name))
        for member in wg.members:
            number = member.fields.get("PhoneNumber")
            if number and not is_valid(str(number)):
                yield _finding("invalid-phone", wg, f"member PhoneNumber {number} is not a valid number for "
                               f"{country_of(str(number))}", member.position)


def _rings_nobody(wg: Workgroup) -> bool:
    """A group that, when reached, has no one to ring and routes nowhere else on hours."""
    return not wg.members and not wg.fields.get("OnHoursId")


def _empty_menus_and_groups(workgroups: Mapping[str, Workgroup]) -> Iterator[Finding]:
    for wg in workgroups.values():
        if not _rings_nobody(wg):
            continue
        if wg.fields.get("Type") == "IVR":
            yield _finding("ivr-no-options", wg, f"IVR menu '{wg.address}' has no members: every digit leads nowhere")
        elif wg.fields.get("Type") in RING_TYPES:
            yield _finding("empty-hunt-group", wg,
                           f"{wg.fields['Type']} group '{wg.address}' has no members: a call to it rings nobody")


def _empty_targets(workgroups: Mapping[str, Workgroup]) -> Iterator[Finding]:
    for wg in workgroups.values():
        for name, target in workgroup_refs(wg.fields):
            if target in workgroups and _rings_nobody(workgroups[target]):
                route = "off-hours" if name == "OffHoursId" else "on-hours"
                yield _finding("empty-target", wg,
                               f"the {route} route leads to '{target}', which has no members", _at(wg, name))
        if wg.fields.get("Type") != "IVR":
            continue
        for member in wg.members:
            for _, target in member_refs(member.fields):
                if target in workgroups and _rings_nobody(workgroups[target]):
                    digit = member.fields.get("DigitOrder")
                    yield _finding("empty-target", wg,
                                   f"digit {digit} leads to '{target}', which has no members", member.position)


def _unreachable(workgroups: Mapping[str, Workgroup]) -> Iterator[Finding]:
    """Walk from every workgroup that has a number along routes and members."""
    todo = [a for a, wg in workgroups.items() if any(wg.fields.get(name) for name in NUMBER_FIELDS)]
    reached = set(todo)
    while todo:
        wg = workgroups[todo.pop()]
        targets = [t for _, t in workgroup_refs(wg.fields)]
        targets += [t for member in wg.members for _, t in member_refs(member.fields)]
        for target in targets:
            if target in workgroups and target not in reached:
                reached.add(target)
                todo.append(target)
    for wg in workgroups.values():
        if wg.address not in reached:
            yield _finding("unreachable", wg, f"no number reaches '{wg.address}': it has no TelegentPhone or "
                           "TollFreeNumber, and no route or member leads to it from a workgroup that has one")


def _off_hours_without_schedule(workgroups: Mapping[str, Workgroup]) -> Iterator[Finding]:
    for wg in workgroups.values():
        if (wg.fields.get("OffHoursId") or wg.fields.get("OffHoursType")) and not wg.fields.get("ScheduleId"):
            yield _finding(
                "off-hours-without-schedule", wg,
                f"'{wg.address}' routes off hours but has no ScheduleId: without a schedule it is never "
                "off hours, so the route is never used",
                _at(wg, "OffHoursType") if wg.fields.get("OffHoursType") else _at(wg, "OffHoursId"),
            )
