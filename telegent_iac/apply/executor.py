"""Turning a plan's changes into steps (the calls, in dependency order) and carrying out
each: the create protocol, updates, deletes, imports, and the state-only effects."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from telegent_iac import spec
from telegent_iac.api.failures import ApiError, NotFoundError
from telegent_iac.apply.events import ApplyResult, Event, EventKind, Tally
from telegent_iac.apply.scheduler import Step, run_steps
from telegent_iac.apply.writer import IdOwners, RecordFailed, StateWriter, StepFailed, reason
from telegent_iac.model.workgroups import member_refs, workgroup_refs
from telegent_iac.plan.changes import (
    CREATE,
    DELETE,
    IMPORT,
    NOOP,
    UPDATE,
    MemberChange,
    Plan,
    ResourceChange,
    ScheduleChange,
)
from telegent_iac.state.edits import rename_address, rename_schedule
from telegent_iac.state.records import MemberState, PendingCreate, ScheduleState, State, WorkgroupState, utc_now
from telegent_iac.state.recovery import (
    ADOPTED,
    AMBIGUOUS,
    IN_FLIGHT,
    adopt_schedule,
    adopt_workgroup,
    age_seconds,
    resolve_member,
    resolve_schedule,
    resolve_workgroup,
    uncertain_member,
)
from telegent_iac.state.store import StateStore

T = TypeVar("T")
log = logging.getLogger("telegent_iac.apply")

# How often an ambiguous create is re-checked and, if it certainly did not happen, tried again.
MAX_CREATE_ATTEMPTS = 4


class Client(Protocol):
    """The part of api.client.TelegentClient that apply uses."""

    timeout: float  # seconds a request may take: how long a lost one may still be in flight

    def list_workgroups(self) -> Any: ...
    def get_workgroup(self, workgroup_id: str) -> dict[str, Any]: ...
    def create_workgroup(self, fields: Mapping[str, Any]) -> str: ...
    def create_schedule(self, fields: Mapping[str, Any]) -> str: ...
    def list_schedules(self) -> list[dict[str, Any]]: ...
    def update_workgroup(self, workgroup_id: str, fields: Mapping[str, Any]) -> None: ...
    def delete_workgroup(self, workgroup_id: str) -> None: ...
    def create_activity(self, workgroup_id: str, fields: Mapping[str, Any]) -> str: ...
    def update_activity(self, activity_id: str, fields: Mapping[str, Any]) -> None: ...
    def delete_activity(self, activity_id: str) -> None: ...


_GONE_NEXT_TIME = ("The next apply finds it already deleted (a repeated delete answered 'not found' counts as "
                   "done) and drops it from the state.")
def _empty_value(name: str, schema: Mapping[str, Mapping[str, Any]]) -> Any:
    """How a field removed from the YAML is cleared through a partial update."""
    return False if schema.get(name, {}).get("type") == "boolean" else ""


_PENDING_KEPT = ("The state still holds the pending create for {what} (written before the call), so the next "
                 "apply finds and adopts it without making a duplicate; should the state be lost or replaced, "
                 "adopt it with:")


@dataclass(frozen=True)
class Creation:
    """One create, as _create_with_intent carries it out (workgroup, member or schedule)."""

    what: str  # the address in events and messages
    dirty: str | None  # the workgroup address the state writes touch (None: any)
    noun: str
    endpoint: str
    body: Mapping[str, Any]
    create: Callable[[], str]
    record_intent: Callable[[State], None]  # the pending record, durable before the POST
    forget_intent: Callable[[State], None]  # the create certainly failed
    record_created: Callable[..., None]  # (state, new_id=...): the returned ID replaces the intent
    recheck: Callable[[], str | None]  # after an ambiguous failure: the ID if it was made, else None
    done: Callable[[str], str]  # what succeeded, should recording it fail
    advice: Callable[[str], str]  # how the next run picks it up then
    logged_body: Mapping[str, Any] | None = None  # the audit log's fields, when not the body


class Applier:
    def __init__(
        self,
        plan: Plan,
        state: State,
        store: StateStore,
        client: Client,
        *,
        parallelism: int = 4,
        on_event: Callable[[Event], None] | None = None,
        stop: threading.Event | None = None,
        audit: Callable[[dict[str, Any]], None] | None = None,
        lock_lost: Callable[[], str | None] | None = None,
    ) -> None:
        self.plan = plan
        self.writer = StateWriter(store, state)
        self.state = state
        self.client = client
        self.parallelism = max(1, parallelism)
        self.on_event = on_event or (lambda e: None)
        self.stop = stop or threading.Event()
        self.result = ApplyResult()
        self.audit = audit or (lambda record: None)
        self.lock_lost = lock_lost or (lambda: None)
        self._live_lock = threading.Lock()
        self._completed = 0
        self._total = 0
        self._creating = {c.address for c in plan.changes if CREATE in c.actions}
        self._owners = IdOwners()
        # ScheduleId holds one of these addresses, or the ID of a schedule made elsewhere
        self._schedule_addresses = {s.address for s in plan.schedules} | set(state.schedules)

    # --- calls ---------------------------------------------------------------------------------------

    def _call(self, endpoint: str, address: str, fields: Mapping[str, Any], fn: Callable[[], T]) -> T:
        """Make one mutating call and append it to the audit log, whatever its outcome."""
        started = time.monotonic()
        record: dict[str, Any] = {"time": utc_now(), "address": address, "endpoint": endpoint, "fields": dict(fields)}
        try:
            result = fn()
        except ApiError as exc:
            record.update(status=exc.status, error=exc.message, ambiguous=exc.ambiguous)
            raise
        else:
            record.update(status=200, returned_id=result if isinstance(result, str) else None)
            return result
        finally:
            record["duration_s"] = round(time.monotonic() - started, 4)
            try:
                self.audit(record)
            except Exception as exc:
                # Never let a failed audit append hide the call's own outcome (a returned ID
                # must still be recorded): the run fails, and starts nothing new, afterwards.
                returned = f" (returned ID {record['returned_id']})" if record.get("returned_id") else ""
                self.result.errors.append(
                    f"{address}: the audit log could not be written ({reason(exc)}); the call {endpoint}{returned} is "
                    f"missing from it"
                )

    # --- ID resolution ------------------------------------------------------------------------

    def _id_of(self, address: str) -> str:
        ws = self.state.workgroups.get(address)
        if ws is None or not ws.id:
            raise StepFailed(f"{address} has no WorkgroupId yet (its create did not complete)")
        return ws.id

    def _resolve_refs(self, fields: Mapping[str, Any], member: bool) -> dict[str, Any]:
        out = dict(fields)
        for name, target in member_refs(fields) if member else workgroup_refs(fields):
            out[name] = self._id_of(target)
        schedule = fields.get("ScheduleId")
        if not member and schedule in self._schedule_addresses:
            ss = self.state.schedules.get(str(schedule))
            if ss is None or not ss.id:
                raise StepFailed(f"schedule {schedule} has no ScheduleId yet (its create did not complete)")
            out["ScheduleId"] = ss.id
        return out

    # --- steps ----------------------------------------------------------------------------------

    def build_steps(self) -> list[Step]:
        steps: list[Step] = []
        creating = {c.address for c in self.plan.changes if CREATE in c.actions}
        importing = {c.address for c in self.plan.changes if IMPORT in c.actions}

        def ready(address: str) -> set[str]:
            if address in creating:
                return {f"create:{address}"}
            if address in importing:
                return {f"import:{address}"}
            return set()

        repoint_steps: dict[str, set[str]] = {}  # replaced address -> steps that re-point to it
        # address -> steps that drop a reference to it (an update, a member update or delete):
        # a workgroup is deleted only after whatever pointed at it has let go.
        unreferencing: dict[str, set[str]] = {}
        replaced = {c.address for c in self.plan.changes if c.is_replace}
        deleting = {c.address: c for c in self.plan.changes if c.actions == [DELETE] and c.before is not None}

        schedule_steps = {}
        for sc in self.plan.schedules:
            if CREATE in sc.actions:
                schedule_steps[sc.address] = f"schedule-create:{sc.address}"
                steps.append(Step(schedule_steps[sc.address], "schedule create", f"schedule {sc.address}",
                                  self._schedule_create_step(sc), counts_as=Tally.ADDED))
            elif IMPORT in sc.actions:
                schedule_steps[sc.address] = f"schedule-import:{sc.address}"
                steps.append(Step(schedule_steps[sc.address], "schedule import", f"schedule {sc.address}",
                                  self._schedule_import_step(sc), counts_as=Tally.IMPORTED))

        def schedule_ready(fields: Mapping[str, Any] | None) -> set[str]:
            step = schedule_steps.get(str((fields or {}).get("ScheduleId")))
            return {step} if step else set()

        for change in self.plan.changes:
            a = change.address
            base: set[str] = set()
            if IMPORT in change.actions:
                steps.append(Step(f"import:{a}", "import", a, self._import_step(change), counts_as=Tally.IMPORTED))
                base = {f"import:{a}"}
            if CREATE in change.actions:
                deps = set().union(*(ready(r) for r in change.depends_on if r != a)) | schedule_ready(change.after)
                steps.append(
                    Step(f"create:{a}", "create", a, self._create_step(change), deps=deps, counts_as=Tally.ADDED)
                )
                base = {f"create:{a}"}
            elif UPDATE in change.actions and change.changed:
                refs = {t for _, t in workgroup_refs(change.after or {})}
                deps = base.union(*(ready(r) for r in refs if r != a)) | schedule_ready(change.after)
                steps.append(
                    Step(f"update:{a}", "update", a, self._update_step(change), deps=deps, counts_as=Tally.CHANGED)
                )
                for target in refs & replaced:
                    repoint_steps.setdefault(target, set()).add(f"update:{a}")
                for _, target in workgroup_refs(change.before or {}):
                    unreferencing.setdefault(target, set()).add(f"update:{a}")
            if change.actions == [DELETE] and a in deleting:
                member_deletes = {f"member-delete:{a}:{m.key}" for m in change.members}
                # Workgroups (being deleted) that refer to this one go first.
                referrers = {
                    f"delete:{o}"
                    for o, oc in deleting.items()
                    if o != a and a in {t for _, t in workgroup_refs(oc.before or {})}
                }
                steps.append(
                    Step(
                        f"delete:{a}", "delete", a, self._delete_step(change),
                        deps=member_deletes | referrers, counts_as=Tally.DESTROYED,
                    )
                )
            for old_id in change.deposed:
                steps.append(Step(f"deposed:{a}:{old_id}", "delete old", a, self._deposed_step(a, old_id),
                                  counts_as=Tally.DESTROYED))
            for mc in change.members:
                if mc.actions == [NOOP]:
                    continue
                refs = {t for _, t in member_refs(mc.after or {})}
                deps = base.union(*(ready(r) for r in refs if r != a))
                if a in refs and CREATE in change.actions:
                    deps.add(f"create:{a}")
                step_id = f"member-{mc.actions[0]}:{a}:{mc.key}"
                steps.append(Step(step_id, f"member {mc.actions[0]}", a, self._member_step(change, mc),
                                  member=mc.key, deps=deps))
                for target in refs & replaced:
                    repoint_steps.setdefault(target, set()).add(step_id)
                for _, target in member_refs(mc.before or {}):
                    unreferencing.setdefault(target, set()).add(step_id)
        for step in steps:
            if step.id.startswith("delete:"):
                step.deps |= unreferencing.get(step.address, set()) - {step.id}
        # The old object of a replacement is deleted only once nothing points at it any more.
        for change in self.plan.changes:
            if change.is_replace:
                deps = {f"create:{change.address}"} | repoint_steps.get(change.address, set())
                steps.append(
                    Step(f"replace-delete:{change.address}", "delete old", change.address,
                         self._replaced_delete_step(change.address), deps=deps, counts_as=Tally.DESTROYED)
                )
        known = {s.id for s in steps}
        for s in steps:
            s.deps &= known
        return steps

    def _create_step(self, change: ResourceChange) -> Callable[[], str | None]:
        a = change.address

        def run() -> str | None:
            desired = dict(change.after or {})
            pending = PendingCreate(desired["Name"], desired["Type"], utc_now(), desired)

            def record_intent(state: State) -> None:
                ws = state.workgroups.setdefault(a, WorkgroupState())
                ws.pending_create = pending
                ws.prevent_destroy = change.prevent_destroy
                if ws.id and not change.is_replace:
                    ws.id, ws.members = None, {}  # deleted outside: the old ID is gone for good

            def forget_intent(state: State) -> None:
                state.workgroups[a].pending_create = None

            def record_created(state: State, new_id: str) -> None:
                self._owners.claim(state, new_id, (a, None))
                adopt_workgroup(state.workgroups[a], new_id)

            body = self._resolve_refs(desired, member=False)
            return self._create_with_intent(Creation(
                what=a, dirty=a, noun="workgroup", endpoint=spec.WORKGROUPS, body=body,
                create=lambda: self.client.create_workgroup(body),
                record_intent=record_intent, forget_intent=forget_intent, record_created=record_created,
                recheck=partial(self._recheck_create, a),
                done=lambda new_id: f"the create succeeded: workgroup {new_id} exists in the account",
                advice=lambda new_id: _PENDING_KEPT.format(what=a) + f" telegent-iac import {a} {new_id}",
            ))

        return run

    def _create_with_intent(self, creation: Creation) -> str | None:
        """The one create protocol, for workgroups, members and schedules: the intent is
        durable before the POST, the returned ID replaces it in one write, and an ambiguous
        failure is resolved against the account (`recheck`) before the create is tried again."""
        c = creation
        self.writer.commit(c.record_intent, c.dirty)
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            try:
                new_id = self._call(c.endpoint, c.what, c.logged_body or c.body, c.create)
            except ApiError as exc:
                if not exc.ambiguous:
                    self.writer.commit(c.forget_intent, c.dirty)
                    raise
                outcome = c.recheck()
                if outcome is not None:
                    return outcome
                if attempt == MAX_CREATE_ATTEMPTS:
                    raise
                self._note(c.what, f"the create got no clear answer ({exc.message}); the account shows "
                                   f"no such {c.noun}, so it did not take effect: trying again")
                self.writer.commit(c.record_intent, c.dirty)
                continue
            record = partial(c.record_created, new_id=new_id)
            self._recorded(partial(self.writer.commit, record, c.dirty), c.done(new_id), c.advice(new_id))
            return new_id
        return None

    def _schedule_create_step(self, change: ScheduleChange) -> Callable[[], str | None]:
        a = change.address

        def run() -> str | None:
            fields = dict(change.after or {})
            pending = PendingCreate(str(fields["Name"]), "schedule", utc_now(), fields)

            def record_intent(state: State) -> None:
                state.schedules.setdefault(a, ScheduleState()).pending_create = pending

            def forget_intent(state: State) -> None:
                state.schedules[a].pending_create = None

            def record_created(state: State, new_id: str) -> None:
                adopt_schedule(state, a, new_id)

            # Schedules live in the state's head, not per address: their writes are full ones.
            return self._create_with_intent(Creation(
                what=f"schedule {a}", dirty=None, noun="schedule", endpoint=spec.SCHEDULES, body=fields,
                create=lambda: self.client.create_schedule(fields),
                record_intent=record_intent, forget_intent=forget_intent, record_created=record_created,
                recheck=lambda: self._recheck_schedule(a),
                done=lambda new_id: f"the create succeeded: schedule {new_id} exists in the account",
                advice=lambda new_id: _PENDING_KEPT.format(what=f"schedule {a}")
                + f" import: [{{address: {a}, id: {new_id}}}]",
            ))

        return run

    def _recheck_schedule(self, address: str) -> str | None:
        """After an ambiguous schedule create, as _recheck_create does for a workgroup."""
        while True:
            with self._live_lock:
                live = self.client.list_schedules()
            resolution = self.writer.commit(
                partial(resolve_schedule, address=address, live=live, min_age=self.client.timeout))
            if resolution.outcome != IN_FLIGHT:
                break
            self._wait_in_flight(f"schedule {address}", self.state.schedules[address].pending_create)
        if resolution.outcome == ADOPTED:
            self._note(f"schedule {address}", resolution.describe())
            return str(resolution.resource_id)
        if resolution.outcome == AMBIGUOUS:
            raise StepFailed(resolution.message)
        return None

    def _schedule_import_step(self, change: ScheduleChange) -> Callable[[], str | None]:
        def run() -> str | None:
            assert change.import_id is not None
            record = ScheduleState(id=change.import_id, fields=dict(change.after or {}))
            self.writer.commit(lambda s: s.schedules.__setitem__(change.address, record))
            return change.import_id

        return run

    def _delete_workgroup(self, address: str, workgroup_id: str) -> None:
        with contextlib.suppress(NotFoundError):  # already deleted: the goal is reached
            self._call(spec.WORKGROUP_DELETE, address, {"WorkgroupId": workgroup_id},
                       lambda: self.client.delete_workgroup(workgroup_id))

    def _delete_member(self, address: str, member_id: str) -> None:
        with contextlib.suppress(NotFoundError):  # already gone: the goal is reached
            self._call(spec.ACTIVITY_DELETE, address, {"WorkgroupActivityId": member_id},
                       lambda: self.client.delete_activity(member_id))

    def _recorded(self, commit: Callable[[], object], done: str, advice: str) -> None:
        """Record the outcome of a call that succeeded; a failure to write says so."""
        try:
            commit()
        except StepFailed:
            raise
        except Exception as exc:
            raise RecordFailed(f"{done}, but writing it to the state failed ({reason(exc)}). {advice}") from exc

    def _recheck_create(self, address: str) -> str | None:
        """After an ambiguous create: adopt the workgroup if it exists, else clear the intent.
        One not listed yet may still be in flight (the connection broke before the server
        finished): it gets the request timeout from when it was sent before it counts as not
        done, or trying again could make a duplicate."""
        while True:
            with self._live_lock:
                live = self.client.list_workgroups()
            resolution = self.writer.commit(
                partial(resolve_workgroup, address=address, live=live, min_age=self.client.timeout), address)
            if resolution.outcome != IN_FLIGHT:
                break
            self._wait_in_flight(address, self.state.workgroups[address].pending_create)
        if resolution.outcome == ADOPTED:
            self._note(address, resolution.outcome_text())
            return str(resolution.resource_id)
        if resolution.outcome == AMBIGUOUS:
            raise StepFailed(resolution.message)
        return None

    def _update_step(self, change: ResourceChange) -> Callable[[], str | None]:
        def run() -> str | None:
            after = change.after or {}
            schema = spec.workgroup_fields()
            # Resolve over all fields (a changed OffHoursId needs its unchanged OffHoursType to be
            # recognised as a reference), then send only the changed ones; a removed one is cleared.
            resolved = self._resolve_refs(after, member=False)
            body = {n: resolved[n] if n in after else _empty_value(n, schema) for n in change.changed}
            workgroup_id = self._id_of(change.address)
            self._call(spec.WORKGROUP_UPDATE, change.address, {"WorkgroupId": workgroup_id, **body},
                       lambda: self.client.update_workgroup(workgroup_id, body))

            def record(state: State) -> None:
                ws = state.workgroups[change.address]
                ws.fields = dict(after)
                ws.prevent_destroy = change.prevent_destroy

            self._recorded(
                lambda: self.writer.commit(record, change.address),
                f"the update of workgroup {workgroup_id} succeeded",
                "The next plan shows the change again; applying it re-sends the same update.",
            )
            return workgroup_id

        return run

    def _delete_step(self, change: ResourceChange) -> Callable[[], str | None]:
        def run() -> str | None:
            workgroup_id = change.workgroup_id
            gone = change.reason.startswith("already gone")
            if workgroup_id and not gone:
                self._delete_workgroup(change.address, workgroup_id)
            self._recorded(
                lambda: self.writer.commit(lambda s: s.workgroups.pop(change.address, None), change.address),
                f"the delete of workgroup {workgroup_id} succeeded", _GONE_NEXT_TIME,
            )
            return workgroup_id

        return run

    def _deposed_step(self, address: str, old_id: str) -> Callable[[], str | None]:
        def run() -> str | None:
            self._delete_workgroup(address, old_id)
            self._recorded(
                lambda: self.writer.commit(lambda s: s.workgroups[address].deposed.remove(old_id), address),
                f"the delete of the old workgroup {old_id} succeeded", _GONE_NEXT_TIME,
            )
            return old_id

        return run

    def _replaced_delete_step(self, address: str) -> Callable[[], str | None]:
        def run() -> str | None:
            deposed = list(self.state.workgroups[address].deposed)
            for old_id in deposed:
                self._deposed_step(address, old_id)()
            return deposed[0] if deposed else None

        return run

    def _import_step(self, change: ResourceChange) -> Callable[[], str | None]:
        def run() -> str | None:
            assert change.import_id is not None

            def record(state: State) -> None:
                ws = WorkgroupState(id=change.import_id, fields=dict(change.before or {}),
                                    prevent_destroy=change.prevent_destroy)
                for mc in change.members:
                    if mc.member_id and mc.before is not None:
                        ws.members[mc.key] = MemberState(id=mc.member_id, fields=dict(mc.before))
                    elif mc.uncertain:
                        ws.members[mc.key] = uncertain_member(mc.key, mc.after or {})
                state.workgroups[change.address] = ws
                self._owners.note(state, str(change.import_id), (change.address, None))
                for key, member in ws.members.items():
                    if member.id:
                        self._owners.note(state, member.id, (change.address, key))

            self.writer.commit(record, change.address)
            return change.import_id

        return run

    def _member_step(self, change: ResourceChange, mc: MemberChange) -> Callable[[], str | None]:
        a, action = change.address, mc.actions[0]

        def run() -> str | None:
            if action == DELETE:
                ws = self.state.workgroups.get(a)
                member_id = mc.member_id
                if member_id:
                    self._delete_member(a, member_id)
                if ws is not None:
                    self._recorded(
                        lambda: self.writer.commit(lambda s: s.workgroups[a].members.pop(mc.key, None), a),
                        f"the delete of member {mc.key} ({member_id}) succeeded", _GONE_NEXT_TIME,
                    )
                return member_id
            after = dict(mc.after or {})
            body = self._resolve_refs(after, member=True)
            if action == UPDATE:
                member_id = mc.member_id
                assert member_id
                before = mc.before or {}
                changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
                if mc.resend_refs:  # a referenced workgroup got a new ID
                    changed |= {name for name, _ in member_refs(after)}
                schema = spec.member_fields()
                sent = {n: body[n] if n in body else _empty_value(n, schema) for n in sorted(changed)}
                if sent:  # a member only re-keyed needs no call
                    self._call(spec.ACTIVITY_UPDATE, a, {"WorkgroupActivityId": member_id, **sent},
                               lambda: self.client.update_activity(member_id, sent))

                def record(state: State) -> None:
                    members = state.workgroups[a].members
                    ms = members.pop(mc.previous_key) if mc.previous_key in members else members[mc.key]
                    ms.fields = after
                    members[mc.key] = ms

                self._recorded(
                    lambda: self.writer.commit(record, a),
                    f"the update of member {mc.key} ({member_id}) succeeded",
                    "The next plan shows the change again; applying it re-sends the same update.",
                )
                return member_id
            return self._create_member(a, mc.key, after, body)

        return run

    def _create_member(self, address: str, key: str, after: dict[str, Any], body: dict[str, Any]) -> str | None:
        pending = PendingCreate(key, str(after.get("Type", "")), utc_now(), after)

        def record_intent(state: State) -> None:
            state.workgroups[address].members[key] = MemberState(pending_create=pending)

        def forget_intent(state: State) -> None:
            state.workgroups[address].members.pop(key, None)

        def record_created(state: State, new_id: str) -> None:
            self._owners.claim(state, new_id, (address, key))
            ms = state.workgroups[address].members[key]
            ms.id, ms.fields, ms.pending_create = new_id, after, None

        workgroup_id = self._id_of(address)
        return self._create_with_intent(Creation(
            what=address, dirty=address, noun="member", endpoint=spec.ACTIVITY, body=body,
            logged_body={"WorkgroupId": workgroup_id, **body},
            create=lambda: self.client.create_activity(workgroup_id, body),
            record_intent=record_intent, forget_intent=forget_intent, record_created=record_created,
            recheck=lambda: self._recheck_member(address, key, workgroup_id),
            done=lambda new_id: f"the create succeeded: member {key} exists in workgroup {workgroup_id} as {new_id}",
            advice=lambda new_id: "The state still holds its pending create (written before the call), so the next "
            "apply finds and adopts it without making a duplicate.",
        ))

    def _recheck_member(self, address: str, key: str, workgroup_id: str) -> str | None:
        """As _recheck_create, for a member."""
        while True:
            detail = self.client.get_workgroup(workgroup_id)
            resolution = self.writer.commit(
                partial(resolve_member, address=address, key=key, detail=detail, min_age=self.client.timeout), address)
            if resolution.outcome != IN_FLIGHT:
                break
            self._wait_in_flight(address, self.state.workgroups[address].members[key].pending_create)
        if resolution.outcome == ADOPTED:
            return str(resolution.resource_id)
        if resolution.outcome == AMBIGUOUS:
            raise StepFailed(resolution.message)
        return None

    def _wait_in_flight(self, address: str, pending: PendingCreate | None) -> None:
        wait = max(0.5, self.client.timeout - (age_seconds(pending) if pending else 0.0))
        self._note(address, f"the create may still be in flight; checking again in {wait:.0f}s")
        time.sleep(wait)

    def _note(self, address: str, message: str) -> None:
        self.on_event(Event(EventKind.NOTE, "note", address, message=message))

    # --- execution ------------------------------------------------------------------------------

    def run(self) -> ApplyResult:
        self._prepare_state()
        steps = self.build_steps()
        self._total = len(steps)
        changed_addresses: set[str] = set()

        def on_start(step: Step, completed: int) -> None:
            self.on_event(Event(EventKind.START, step.label, step.address, step.member,
                                completed=completed, total=self._total))

        def on_done(step: Step, resource_id: str | None, seconds: float, completed: int) -> None:
            self._count(step, changed_addresses)
            self.on_event(Event(EventKind.DONE, step.label, step.address, step.member, resource_id,
                                seconds=seconds, completed=completed, total=self._total))

        def on_error(step: Step, exc: Exception, completed: int) -> None:
            if not isinstance(exc, ApiError | StepFailed | OSError):
                log.exception("unexpected error in %s of %s", step.label, step.address)
            label = "state write" if isinstance(exc, RecordFailed) else step.label
            self.result.unrecorded += isinstance(exc, RecordFailed)
            self.result.errors.append(f"{step.what}: {label} failed: {exc}")
            self.on_event(Event(EventKind.ERROR, label, step.address, step.member, message=str(exc),
                                completed=completed, total=self._total))

        outcome = run_steps(
            steps, parallelism=self.parallelism, stop=self.stop, failed=lambda: bool(self.result.errors),
            may_start=lambda running: not self._lock_lost(running),
            on_start=on_start, on_done=on_done, on_error=on_error,
        )
        self.result.interrupted = outcome.interrupted
        if outcome.stuck:
            # Never silently skip work: steps left waiting on each other would be a planner bug.
            stuck = outcome.stuck
            self.result.errors.append(f"{len(stuck)} steps could not be ordered: {', '.join(stuck[:5])}")
        return self.result

    def _lock_lost(self, running: Collection[Step]) -> bool:
        """Before every start: without the state lock another run may be changing the same
        account, so nothing new starts; the calls in flight finish and are recorded (the
        state's compare-and-set refuses a write if another run wrote meanwhile)."""
        why = self.lock_lost()
        if why is None:
            return False
        in_flight = sorted(f"{s.what} ({s.label})" for s in running)
        message = (
            f"the state lock was lost: {why}. Started nothing new; "
            + (f"{len(in_flight)} call(s) in flight were let finish and recorded in the state: "
               + ", ".join(in_flight) if in_flight else "no call was in flight")
            + ". Check that no other run is applying, then run apply again"
        )
        self.result.errors.append(message)
        self.on_event(Event(EventKind.NOTE, "lock", "state", message=f"the state lock was lost; starting nothing new, "
                            f"letting {len(in_flight)} call(s) in flight finish"))
        return True

    def _count(self, step: Step, changed_addresses: set[str]) -> None:
        if step.counts_as == Tally.ADDED:
            self.result.added += 1
        elif step.counts_as == Tally.DESTROYED:
            self.result.destroyed += 1
        elif step.counts_as == Tally.IMPORTED:
            self.result.imported += 1
        elif step.address not in changed_addresses and step.address not in self._creating:
            # An update and its member changes count as one changed workgroup.
            changed_addresses.add(step.address)
            self.result.changed += 1

    def _prepare_state(self) -> None:
        """State-only effects that need no call: moves, prevent_destroy, refresh-only accepts."""

        def mutate(state: State) -> None:
            for move in self.plan.moves:
                if move["from"] in state.workgroups and move["to"] not in state.workgroups:
                    rename_address(state, move["from"], move["to"])  # as the planner did
                elif move["from"] in state.schedules and move["to"] not in state.schedules:
                    rename_schedule(state, move["from"], move["to"])
            for change in self.plan.changes:
                ws = state.workgroups.get(change.address)
                if ws is not None and CREATE not in change.actions and DELETE not in change.actions:
                    ws.prevent_destroy = change.prevent_destroy
            for address, accepted in self.plan.accept.items():
                if accepted.get("forget"):
                    state.workgroups.pop(address, None)
                    continue
                ws = state.workgroups[address]
                ws.fields = dict(accepted.get("fields", {}))
                ws.members = {
                    k: MemberState(id=m["id"], fields=dict(m["fields"])) for k, m in accepted.get("members", {}).items()
                }

        before = self.state.to_dict()
        mutate_copy = State.from_dict(before)
        mutate(mutate_copy)
        if mutate_copy.to_dict() != before:
            self.writer.commit(mutate)
