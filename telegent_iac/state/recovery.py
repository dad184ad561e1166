"""Resolving pending creates: intents recorded before a create POST whose outcome is unknown.

A create is not idempotent. When its response was lost (or the process died between the
POST and recording the ID), the live account is the only witness: a workgroup matching the
pending one (Name and Type, not already known to the state) is adopted; if none matches the
create certainly did not happen and the record is cleared so the address is created again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from telegent_iac.model.live import live_members, name_key
from telegent_iac.model.workgroups import ACTIVITIES, LiveSummary, type_matches, unsaid_fields
from telegent_iac.state.records import MemberState, PendingCreate, State, WorkgroupState, utc_now


class Outcome(StrEnum):
    """How an interrupted create was resolved against the live account."""

    ADOPTED = "adopted"
    NOT_CREATED = "not-created"
    AMBIGUOUS = "ambiguous"
    IN_FLIGHT = "in-flight"  # no match yet, but the request may still be committed by the server


ADOPTED, NOT_CREATED, AMBIGUOUS, IN_FLIGHT = Outcome.ADOPTED, Outcome.NOT_CREATED, Outcome.AMBIGUOUS, Outcome.IN_FLIGHT


def age_seconds(pending: PendingCreate, now: datetime | None = None) -> float:
    try:
        started = datetime.strptime(pending.started_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return float("inf")  # unreadable: old enough to decide on
    return ((now or datetime.now(UTC)) - started).total_seconds()


@dataclass(frozen=True)
class Resolution:
    address: str
    member: str | None  # member key, or None for the workgroup itself
    outcome: Outcome
    resource_id: str | None = None
    message: str = ""

    def describe(self) -> str:
        what = self.address if self.member is None else f"{self.address} member {self.member}"
        return f"{what}: {self.outcome_text()}"

    def outcome_text(self) -> str:
        """The outcome in words, without the address (for lines that already name it)."""
        if self.outcome == ADOPTED:
            return f"an interrupted create had succeeded; adopted {self.resource_id}"
        if self.outcome == NOT_CREATED:
            return "an interrupted create had not happened; it will be created"
        if self.outcome == IN_FLIGHT:
            return "an interrupted create is not in the account yet but may still be in flight"
        return self.message


def adopt_workgroup(ws: WorkgroupState, new_id: str) -> None:
    """Record a created workgroup's ID in place of its pending record (a replacement's old
    ID becomes deposed, so it is deleted later rather than lost)."""
    pending = ws.pending_create
    assert pending is not None
    if ws.id and ws.id != new_id:
        ws.deposed.append(ws.id)
        ws.members = {}  # the old workgroup's activities go with it
    ws.id = new_id
    ws.fields = dict(pending.fields)
    ws.pending_create = None


def resolve_workgroup(
    state: State, address: str, live: Sequence[LiveSummary], min_age: float = 0.0
) -> Resolution:
    """Adopt or clear one pending workgroup create. With no match, a record younger than
    `min_age` seconds (the client's request timeout) is kept as IN_FLIGHT: a server may still
    commit a request a killed client sent, and clearing it too early would duplicate it."""
    ws = state.workgroups[address]
    pending = ws.pending_create
    assert pending is not None
    known = {w.id for w in state.workgroups.values() if w.id} | {
        i for w in state.workgroups.values() for i in w.deposed
    }
    matches = [
        s for s in live
        if s.workgroup_id not in known and name_key(s.name) == name_key(pending.name)
        and type_matches(pending.type, s.type)
    ]
    if len(matches) == 1:
        adopt_workgroup(ws, matches[0].workgroup_id)
        return Resolution(address, None, ADOPTED, matches[0].workgroup_id)
    if not matches:
        if age_seconds(pending) < min_age:
            return Resolution(address, None, IN_FLIGHT)
        ws.pending_create = None
        return Resolution(address, None, NOT_CREATED)
    ids = ", ".join(s.workgroup_id for s in matches)
    return Resolution(
        address,
        None,
        AMBIGUOUS,
        message=(
            f"an interrupted create left {len(matches)} workgroups named {pending.name!r} ({ids}); "
            f"adopt the right one with `telegent-iac import {address} ID` and delete the others"
        ),
    )


def uncertain_member_message(address: str, key: str) -> str:
    """What to do about a member whose create may or may not have happened, on an account
    whose workgroup details list no activities (so the tool cannot look)."""
    return (
        "uncertain: telegent-iac cannot tell whether this member exists (a create for it may have "
        "reached Telegent, and this account's workgroup details list no activities). Look in "
        f"Telegent, then either `telegent-iac state adopt-member {address} {key} ACTIVITY_ID` (it "
        f"exists: record its WorkgroupActivityId) or `telegent-iac state confirm-absent {address} {key}` "
        f"(it does not: the next apply creates it)"
    )


def uncertain_member(key: str, fields: Mapping[str, Any]) -> MemberState:
    """A member whose existence is unknown, recorded for the user to settle (see above)."""
    return MemberState(pending_create=PendingCreate(key, str(fields.get("Type", "")), utc_now(), dict(fields)))


def adopt_schedule(state: State, address: str, new_id: str) -> None:
    """Record a created schedule's ID in place of its pending record."""
    ss = state.schedules[address]
    assert ss.pending_create is not None
    ss.id, ss.fields, ss.pending_create = new_id, dict(ss.pending_create.fields), None


def resolve_schedule(
    state: State, address: str, live: Sequence[Mapping[str, Any]], min_age: float = 0.0
) -> Resolution:
    """Adopt or clear one pending schedule create, as resolve_workgroup does for workgroups:
    the witness is a schedule of the same Name that the state does not know."""
    pending = state.schedules[address].pending_create
    assert pending is not None
    known = {s.id for s in state.schedules.values() if s.id}
    matches = [str(r["ScheduleId"]) for r in live
               if r.get("ScheduleId") and str(r["ScheduleId"]) not in known and r.get("Name") == pending.name]
    what = f"schedule {address}"
    if len(matches) == 1:
        adopt_schedule(state, address, matches[0])
        return Resolution(what, None, ADOPTED, matches[0])
    if not matches:
        if age_seconds(pending) < min_age:
            return Resolution(what, None, IN_FLIGHT)
        state.schedules[address].pending_create = None
        return Resolution(what, None, NOT_CREATED)
    return Resolution(what, None, AMBIGUOUS, message=(
        f"an interrupted create left {len(matches)} schedules named {pending.name!r} ({', '.join(matches)}); "
        f"adopt the right one with an `import: [{{address: {address}, id: ID}}]` entry"
    ))


def resolve_member(
    state: State, address: str, key: str, detail: Mapping[str, Any] | None, min_age: float = 0.0
) -> Resolution:
    ws = state.workgroups[address]
    ms = ws.members[key]
    pending = ms.pending_create
    assert pending is not None
    if detail is None or not ws.id:
        ms.pending_create = None
        if ms.id is None:
            del ws.members[key]
        return Resolution(address, key, NOT_CREATED)
    id_to_address = {w.id: a for a, w in state.workgroups.items() if w.id}
    activities = live_members(detail, id_to_address)
    if activities is None:  # never "not created": that would create it again, maybe twice
        return Resolution(address, key, AMBIGUOUS, message=uncertain_member_message(address, key))
    known = {m.id for m in ws.members.values() if m.id}
    unsaid = {str(a.get("WorkgroupActivityId")): unsaid_fields(a) for a in detail[ACTIVITIES]}
    matches = [
        activity_id
        for activity_id, fields in activities.items()
        if activity_id not in known
        and all(fields.get(k) == v for k, v in pending.fields.items() if k not in unsaid.get(activity_id, ()))
    ]
    if matches:
        ms.id, ms.fields, ms.pending_create = matches[0], dict(pending.fields), None
        return Resolution(address, key, ADOPTED, matches[0])
    if age_seconds(pending) < min_age:
        return Resolution(address, key, IN_FLIGHT)
    ms.pending_create = None
    del ws.members[key]
    return Resolution(address, key, NOT_CREATED)


def resolve_all(
    state: State,
    live: Sequence[LiveSummary],
    detail: Callable[[str], Mapping[str, Any] | None],
    min_age: float = 0.0,
) -> list[Resolution]:
    """Resolve every pending record in `state` (mutated). `detail(id)` reads one workgroup."""
    out: list[Resolution] = []
    pending = state.pending()
    for address, key in pending:
        if key is None:
            out.append(resolve_workgroup(state, address, live, min_age))
    details: dict[str, Mapping[str, Any] | None] = {}
    for address, key in pending:
        if key is None or address not in state.workgroups:
            continue
        ws = state.workgroups[address]
        if key not in ws.members or ws.members[key].pending_create is None:
            continue
        if ws.id and ws.id not in details:
            details[ws.id] = detail(ws.id) if any(s.workgroup_id == ws.id for s in live) else None
        out.append(resolve_member(state, address, key, details.get(ws.id) if ws.id else None, min_age))
    return out
