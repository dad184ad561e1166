"""`import`: adopt live workgroups and schedules into the state as they are (no call changes
the account); plus the read side of the client that import and export share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from telegent_iac import spec
from telegent_iac.api.failures import NotFoundError
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE
from telegent_iac.model.live import READ_IGNORED, live_fields, live_members
from telegent_iac.model.workgroups import (
    LiveSummary,
    Member,
    Workgroup,
    member_key,
    unsaid_fields,
)
from telegent_iac.ops import run
from telegent_iac.ops.settings import Settings
from telegent_iac.plan.schedules import live_known_fields, schedule_addressed
from telegent_iac.state.edits import check_address, retarget
from telegent_iac.state.records import MemberState, ScheduleState, State, WorkgroupState
from telegent_iac.state.recovery import uncertain_member
from telegent_iac.state.store import StateStore, read_or_new


class ReadClient(Protocol):
    """The read side of api.client.TelegentClient: all that import and export need."""

    def list_workgroups(self) -> list[LiveSummary]: ...
    def get_workgroup(self, workgroup_id: str) -> dict[str, Any]: ...
    def list_schedules(self) -> list[dict[str, Any]]: ...


# --- import ---------------------------------------------------------------------------------------


def member_states(
    detail: Mapping[str, Any],
    id_to_address: Mapping[str, str],
    declared: Sequence[Member] = (),
) -> dict[str, MemberState]:
    """The live activities of a workgroup keyed as the planner will look for them.

    A live activity that rings what a declared member rings takes that member's key (so an
    explicit `key:` in the YAML is honoured); the rest are keyed by `model.member_key` of their
    fields, with "#2", "#3"... when two would otherwise share a key.

    When the detail lists no activities the members are unknown: each declared one is recorded
    as uncertain (the user settles it: `state adopt-member` / `state confirm-absent`), never as
    absent, and none is invented.
    """
    activities = live_members(detail, id_to_address)
    if activities is None:
        return {m.key: uncertain_member(m.key, m.fields) for m in declared}
    by_derived = {member_key(m.fields): m.key for m in declared}
    out: dict[str, MemberState] = {}
    for activity_id, fields in sorted(activities.items(), key=lambda item: _member_sort_key(item[1], item[0])):
        derived = member_key(fields)
        key = by_derived.pop(derived, derived)
        n = 2
        base = key
        while key in out:
            key = f"{base}#{n}"
            n += 1
        out[key] = MemberState(id=activity_id, fields=dict(sorted(fields.items())))
    return out


def _member_sort_key(fields: Mapping[str, Any], activity_id: str) -> tuple[int, str, str]:
    digit = fields.get("DigitOrder")
    return (digit if isinstance(digit, int) else 99, member_key(fields), activity_id)


def workgroup_state_from_detail(
    workgroup_id: str,
    detail: Mapping[str, Any],
    id_to_address: Mapping[str, str],
    declared: Workgroup | None = None,
) -> WorkgroupState:
    """What the state records for a live workgroup it adopts: canonical fields, references to
    managed workgroups as their addresses, members keyed by identity."""
    fields = live_fields(detail, id_to_address)
    if declared is not None:  # as the planner's import does: see plan.planner._plan_import
        unknown = (unsaid_fields(detail) - READ_IGNORED) & set(declared.fields)
        fields.update({k: declared.fields[k] for k in unknown - spec.workgroup_updatable()})
    return WorkgroupState(
        id=workgroup_id,
        fields=dict(sorted(fields.items())),
        members=member_states(detail, id_to_address, declared.members if declared else ()),
        prevent_destroy=bool(declared and declared.prevent_destroy),
    )


def import_schedule(state: State, client: ReadClient, address: str, schedule_id: str) -> ScheduleState:
    """`import schedule.ADDRESS SID`: adopt a live schedule (modified in place). Its fields are
    what the account's list states of it; a field the list leaves out stays unknown."""
    check_address(address)
    current = state.schedules.get(address)
    if current is not None and (current.id or current.pending_create):
        raise UserError(f"{SCHEDULE}{address} is already in the state ({current.id or 'an unfinished create'}); "
                        f"first `telegent-iac state rm {SCHEDULE}{address}`")
    for other, ss in state.schedules.items():
        if ss.id == schedule_id:
            raise UserError(f"schedule {schedule_id} is already managed as {SCHEDULE}{other}")
    record = next((r for r in client.list_schedules() if str(r.get("ScheduleId")) == schedule_id), None)
    if record is None:
        raise UserError(f"there is no schedule {schedule_id} in the account; nothing was imported")
    ss = ScheduleState(id=schedule_id, fields={k: v for k, v in live_known_fields(record).items() if v is not None})
    state.schedules[address] = ss
    return ss


def import_workgroup(
    state: State,
    client: ReadClient,
    address: str,
    workgroup_id: str,
    declared: Workgroup | None = None,
) -> WorkgroupState:
    """Adopt live workgroup `workgroup_id` under `address` in `state` (modified in place).

    Refused when the address is already managed, the ID is already managed (under another
    address, or as the old object of an unfinished replacement) or does not exist. `declared`
    (the address's entry in the YAML, when known) lets members keep their declared keys.
    """
    check_address(address)
    current = state.workgroups.get(address)
    if current is not None and (current.id or current.pending_create):
        what = f"workgroup {current.id}" if current.id else "a workgroup whose create is unfinished"
        raise UserError(
            f"{address} is already in the state ({what}); to adopt another workgroup under this "
            f"address, first `telegent-iac state rm {address}`"
        )
    for other, ws in state.workgroups.items():
        if ws.id == workgroup_id:
            raise UserError(f"workgroup {workgroup_id} is already managed as {other}; use `telegent-iac state mv "
                            f"{other} {address}` to rename the address instead")
        if workgroup_id in ws.deposed:
            raise UserError(f"workgroup {workgroup_id} is the old object of an unfinished replacement of {other}; "
                            "run apply to finish it first")
    try:
        detail = client.get_workgroup(workgroup_id)
    except NotFoundError:
        raise UserError(f"there is no workgroup {workgroup_id} in the account; nothing was imported") from None
    id_to_address = {ws.id: a for a, ws in state.workgroups.items() if ws.id}
    id_to_address[workgroup_id] = address  # a workgroup may route to itself
    ws = workgroup_state_from_detail(workgroup_id, schedule_addressed(detail, state), id_to_address, declared)
    state.workgroups[address] = ws
    # Workgroups already in the state that point at the newly adopted ID by raw ID (imported
    # before it) now point at its address.
    retarget(state, workgroup_id, address)
    return ws


# --- export ---------------------------------------------------------------------------------------


def import_into(store: StateStore, settings: Settings, address: str, resource_id: str,
                declared: Workgroup | None = None) -> WorkgroupState | ScheduleState:
    """`import ADDRESS ID` under the caller's lock on `store`: read the live workgroup (or
    `schedule.ADDRESS`) and record it in the state of this account; the account is unchanged."""
    with run.open_client(settings) as client:
        state = read_or_new(store)
        run.bind_account(state, run.account_binding(client, settings), store.description, settings.progress)
        recorded: WorkgroupState | ScheduleState
        if address.startswith(SCHEDULE):
            recorded = import_schedule(state, client, address.removeprefix(SCHEDULE), resource_id)
        else:
            recorded = import_workgroup(state, client, address, resource_id, declared)
        store.write(state)
    return recorded
