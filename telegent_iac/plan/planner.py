"""The planner: desired (YAML) x known (state) x live (account) -> Plan.

A pure function of its inputs: it makes no request and writes nothing. Live details (one GET
per workgroup) are passed in only for a full refresh and for imports.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegent_iac import spec
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE
from telegent_iac.model.live import READ_IGNORED, addressify, live_fields, live_members, name_key
from telegent_iac.model.workgroups import (
    ACTIVITIES,
    Desired,
    LiveSummary,
    Member,
    Workgroup,
    member_key,
    member_refs,
    type_matches,
    unsaid_fields,
    workgroup_refs,
)
from telegent_iac.plan.changes import (
    CREATE,
    DELETE,
    IMPORT,
    NOOP,
    UPDATE,
    Conflict,
    Drift,
    MemberChange,
    Plan,
    ResourceChange,
)
from telegent_iac.plan.schedules import plan_schedules, repoint_schedules, schedule_addressed
from telegent_iac.state.edits import rename_address, rename_schedule
from telegent_iac.state.records import MemberState, State, WorkgroupState
from telegent_iac.state.recovery import AMBIGUOUS, Resolution

REFRESH_MODES = ("summary", "full", "sample", "refresh-only")
# Below this many managed workgroups the destroy threshold does not apply (as octoDNS does):
# deleting 1 of 3 is 33% but hardly a mass deletion.
THRESHOLD_MIN_MANAGED = 10


@dataclass(frozen=True)
class PlanOptions:
    allow_delete: bool = False
    allow_replace: bool = False
    refresh: str = "summary"
    sample: int = 0  # refresh "sample": how many of the workgroups verified longest ago to read
    destroy_threshold: float = 30.0  # percent of managed workgroups
    force: bool = False
    targets: Sequence[str] = ()  # --target: plan only these addresses and what they need


def diff_fields(before: Mapping[str, Any], after: Mapping[str, Any], keys: set[str] | None = None) -> list[str]:
    if before == after:  # the usual answer on a plan, found without a set and a sort
        return []
    names = set(before) | set(after) if keys is None else keys
    return sorted(n for n in names if before.get(n) != after.get(n))


def make_plan(
    desired: Desired,
    state: State,
    live: Sequence[LiveSummary],
    options: PlanOptions = PlanOptions(),
    details: Mapping[str, Mapping[str, Any]] | None = None,
    live_schedules: Sequence[Mapping[str, Any]] = (),
    verified: Sequence[str] = (),
    resolutions: Sequence[Resolution] = (),
) -> Plan:
    """Plan what it takes to make the account match `desired`.

    `state` is not modified. Pending creates must already be resolved (state/recovery.py);
    `resolutions` says how, and the plan reports them (an ambiguous one blocks it).
    `live_schedules` is the account's schedule list (needed when schedules are declared or known).
    `verified` are the addresses whose `details` were read to check them (a refresh).
    """
    if options.refresh not in REFRESH_MODES:
        raise ValueError(f"unknown refresh mode {options.refresh!r}")
    details = details or {}
    as_read = state
    if desired.moved:  # _apply_moves re-keys the state: do that on a copy (nothing else writes it)
        state = copy.deepcopy(state)
    plan = Plan(
        lineage=state.lineage,
        serial=state.serial,
        input_hash=desired.input_hash,
        refresh=options.refresh,
        allow_delete=options.allow_delete,
        allow_replace=options.allow_replace,
    )
    _apply_moves(desired, state, plan)
    plan_schedules(desired, state, live_schedules, plan)
    if state.schedules:
        details = {wid: schedule_addressed(d, state) for wid, d in details.items()}

    id_to_address = {ws.id: a for a, ws in state.workgroups.items() if ws.id}
    known_ids = set(id_to_address) | {i for ws in state.workgroups.values() for i in ws.deposed}
    live_by_id = {s.workgroup_id: s for s in live}
    unknown_by_name: dict[str, list[LiveSummary]] = {}
    for summary in live:
        if summary.workgroup_id not in known_ids:
            unknown_by_name.setdefault(name_key(summary.name), []).append(summary)
    imports = {i.address: i for i in desired.imports}
    full = options.refresh in ("full", "sample", "refresh-only")  # compare what `details` holds
    unchecked = Unchecked()

    for wg in desired:
        ws = state.workgroups.get(wg.address)
        if wg.address in imports and not (ws and ws.id == imports[wg.address].workgroup_id):
            change = _plan_import(wg, ws, imports[wg.address].workgroup_id, live_by_id, details, id_to_address, plan,
                                  unchecked)
        elif ws is None or ws.id is None:
            change = _plan_new(wg, unknown_by_name, plan)
        elif ws.id not in live_by_id:
            change = _plan_recreate(wg, ws, unknown_by_name, plan)
        else:
            known_fields, known_members = ws.fields, ws.members
            if full and ws.id in details:
                known_fields, known_members = _refresh(wg, ws, details[ws.id], id_to_address, plan, unchecked)
            else:
                known_fields = _listed(wg, ws, live_by_id[ws.id], id_to_address, plan)
            change = _plan_existing(wg, ws, known_fields, known_members, options, plan)
        if ws is not None and ws.deposed:
            change.deposed = [i for i in ws.deposed if i in live_by_id]
            if change.deposed and change.actions == [NOOP]:
                change.actions = [DELETE]
                change.reason = "finish an interrupted replacement: delete the old workgroup"
        change.depends_on = sorted(wg.references())
        change.prevent_destroy = wg.prevent_destroy
        if ws is not None and ws.id and ws.prevent_destroy != wg.prevent_destroy:
            plan.protect[wg.address] = wg.prevent_destroy
        plan.changes.append(change)

    _repoint_replacements(desired, state, plan)
    repoint_schedules(desired, plan)
    _plan_undeclared(desired, state, live_by_id, options, plan)
    if options.refresh == "refresh-only":
        _accept_live(state, live_by_id, plan)
    if options.targets:
        _keep_targets(desired, state, options.targets, plan)
    _check_threshold(state, options, plan)
    plan.unchecked = unchecked.describe()
    if options.refresh != "summary":
        chosen = set(verified)
        plan.verified = list(verified)
        plan.not_verified = sorted(
            a for a, ws in as_read.workgroups.items() if ws.id and ws.id in live_by_id and a not in chosen
        )
    plan.resolved = [r.describe() for r in resolutions]
    plan.errors += [r.describe() for r in resolutions if r.outcome == AMBIGUOUS]
    touched = {c.workgroup_id for c in plan.changes if c.workgroup_id and not c.is_noop}
    touched |= {c.import_id for c in plan.changes if c.import_id} | {i for c in plan.changes for i in c.deposed}
    plan.seen = {s.workgroup_id: [s.name, s.type] for s in live if s.workgroup_id in touched}
    return plan


def check_targets(desired: Desired, state: State, targets: Sequence[str]) -> None:
    """--target: every address (a workgroup's, or a schedule's as schedule.ADDRESS) must be
    declared or in the state. Runs check this as soon as both are loaded, before the client is
    opened, so a mistyped address never causes a request."""
    workgroups = set(desired.workgroups) | set(state.workgroups)
    known = workgroups | {SCHEDULE + a for a in (*desired.schedules, *state.schedules)}
    unknown = sorted(set(targets) - known)
    if unknown:
        from telegent_iac.config.loader import did_you_mean

        def hint(address: str) -> str:  # a schedule's bare address is a near miss too
            whole = SCHEDULE + address
            return f" (did you mean '{whole}'?)" if whole in known else did_you_mean(address, known)

        raise UserError("; ".join(
            f"--target {address}: no {'schedule' if address.startswith(SCHEDULE) else 'workgroup'} with that "
            f"address in the configuration or the state{hint(address)}" for address in unknown))


def _keep_targets(desired: Desired, state: State, targets: Sequence[str], plan: Plan) -> None:
    """--target: keep only the targeted addresses and what they need to exist first (the
    workgroups they refer to, the schedules those use), as Terraform's -target does;
    everything else waits for a full plan."""
    check_targets(desired, state, targets)  # again: the planner is called without the CLI too
    known = set(desired.workgroups) | set(state.workgroups)
    selected: set[str] = set()
    pending = [t for t in targets if not t.startswith(SCHEDULE)]
    while pending:
        address = pending.pop()
        if address in selected:
            continue
        selected.add(address)
        wg = desired.workgroups.get(address)
        if wg is not None:
            pending.extend(wg.references())
    others = known - selected
    targeted_schedules = {t.removeprefix(SCHEDULE) for t in targets if t.startswith(SCHEDULE)}
    used = targeted_schedules | {str(desired.workgroups[a].fields["ScheduleId"]) for a in selected
                                 if a in desired.workgroups and desired.workgroups[a].fields.get("ScheduleId")}
    plan.schedules = [s for s in plan.schedules if s.address in used]
    plan.targets = sorted(set(targets))
    plan.changes = [c for c in plan.changes if c.address in selected]
    plan.kept = [k for k in plan.kept if k.split(" ", 1)[0] in selected
                 or (k.startswith("schedule ") and k.split(" ", 2)[1] in used)]
    plan.drift = [d for d in plan.drift if d.address in selected or d.address in {f"schedule {u}" for u in used}]
    plan.conflicts = [c for c in plan.conflicts if c.address in selected or c.address in used]
    plan.errors = [e for e in plan.errors if not _about_others(e, others, used)]
    plan.accept = {a: v for a, v in plan.accept.items() if a in selected}
    plan.moves = [m for m in plan.moves if m["to"] in selected]
    plan.protect = {a: v for a, v in plan.protect.items() if a in selected}
    needed = sorted(selected - set(targets)) + sorted(
        SCHEDULE + s.address for s in plan.schedules if s.address not in targeted_schedules)
    plan.warnings.append(
        "this plan is partial: only --target " + ", ".join(plan.targets)
        + (f" and what they need ({', '.join(needed)})" if needed else "")
        + ". Other changes may be pending; run plan without --target to see the whole picture, "
        "and use --target for exceptions, not as the routine."
    )


def _about_others(error: str, others: set[str], used: set[str]) -> bool:
    """Whether a plan error ("ADDRESS: ..." or "schedule ADDRESS: ...") concerns an address
    left out of a targeted plan."""
    about = error.split(": ", 1)[0]
    if about.startswith("schedule "):
        return about.removeprefix("schedule ") not in used
    return about in others


# --- per-address planning ---------------------------------------------------------------------


def _plan_create(wg: Workgroup, reason: str = "declared, not yet created") -> ResourceChange:
    return ResourceChange(
        address=wg.address,
        actions=[CREATE],
        after=dict(wg.fields),
        changed=sorted(wg.fields),
        reason=reason,
        members=[MemberChange(m.key, [CREATE], after=dict(m.fields), reason="new member") for m in wg.members],
    )


def _named(same_name: Sequence[LiveSummary]) -> str:
    names = sorted({s.name for s in same_name})
    ids = ", ".join(s.workgroup_id for s in same_name)
    return f"named {' / '.join(repr(n) for n in names)} (ID {ids})"


def _plan_new(wg: Workgroup, unknown_by_name: Mapping[str, list[LiveSummary]], plan: Plan) -> ResourceChange:
    same_name = unknown_by_name.get(name_key(wg.name), [])
    if same_name:
        first = same_name[0].workgroup_id
        plan.conflicts.append(
            Conflict(
                wg.address,
                f"the account already has a workgroup {_named(same_name)} that the state does not "
                f"know. Creating another would make a duplicate, so nothing is created. Adopt it "
                f"instead: `telegent-iac import {wg.address} {first}`, or add "
                f"`import: [{{address: {wg.address}, id: {first}}}]` to the config.",
            )
        )
    return _plan_create(wg)


def _plan_recreate(
    wg: Workgroup, ws: WorkgroupState, unknown_by_name: Mapping[str, list[LiveSummary]], plan: Plan
) -> ResourceChange:
    """The state's ID is gone. Created again only when no live workgroup could be it."""
    same_name = unknown_by_name.get(name_key(wg.name), [])
    if same_name:
        first = same_name[0].workgroup_id
        plan.conflicts.append(
            Conflict(
                wg.address,
                f"the state's workgroup {ws.id} is no longer in the account, but a workgroup "
                f"{_named(same_name)} that the state does not know is: it may be the same one, "
                f"deleted and re-created by hand. Creating another would make a duplicate, so nothing "
                f"is created. If it is this one, adopt it: `telegent-iac state rm {wg.address}` then "
                f"`telegent-iac import {wg.address} {first}`, or add "
                f"`import: [{{address: {wg.address}, id: {first}}}]` to the config; if it is not, "
                f"rename one of them.",
            )
        )
    change = _plan_create(wg, f"deleted outside telegent-iac (ID {ws.id} is no longer in the account)")
    change.workgroup_id = ws.id
    return change


def _listed(
    wg: Workgroup,
    ws: WorkgroupState,
    summary: LiveSummary,
    id_to_address: Mapping[str, str],
    plan: Plan,
) -> dict[str, Any]:
    """Free drift: every field the list call carried (Name and Type at least) is compared
    with the state on every plan, at no extra request. Returns the known fields with the
    listed values in place of the recorded ones."""
    known = dict(ws.fields)
    listed = addressify(summary.fields, id_to_address)
    for name in sorted(((set(ws.fields) | set(wg.fields)) & summary.said) - READ_IGNORED):
        recorded = ws.fields.get(name)
        live_value = listed.get(name)
        if name == "Type":
            if summary.type is None and (recorded is None or type_matches(str(recorded), None)):
                continue  # "ring": it may well be the recorded simultaneous or round-robin
            live_value = summary.type or live_value
        if live_value == recorded:
            continue
        plan.drift.append(Drift(wg.address, name, recorded, live_value))
        if live_value is None:
            known.pop(name, None)
        else:
            known[name] = live_value
    return known


def _plan_import(
    wg: Workgroup,
    ws: WorkgroupState | None,
    import_id: str,
    live_by_id: Mapping[str, LiveSummary],
    details: Mapping[str, Mapping[str, Any]],
    id_to_address: Mapping[str, str],
    plan: Plan,
    unchecked: Unchecked,
) -> ResourceChange:
    change = ResourceChange(address=wg.address, actions=[IMPORT], import_id=import_id, after=dict(wg.fields))
    if ws is not None and ws.id and ws.id in live_by_id:  # a gone ID may be replaced by an import
        plan.errors.append(
            f"{wg.address}: cannot import {import_id}: the address already manages workgroup {ws.id}"
        )
        return change
    if import_id in id_to_address:
        plan.errors.append(
            f"{wg.address}: cannot import {import_id}: it is already managed as {id_to_address[import_id]}"
        )
        return change
    if import_id not in live_by_id or import_id not in details:
        plan.errors.append(f"{wg.address}: cannot import {import_id}: no such workgroup in the account")
        return change
    detail = details[import_id]
    before = live_fields(detail, id_to_address)
    # A declared field the detail did not carry is unknown: one the update endpoint accepts is
    # sent anyway (harmless), one it does not is taken as declared, never "replace to be sure".
    unknown = (unsaid_fields(detail) - READ_IGNORED) & set(wg.fields)
    unchecked.fields.update(unknown)
    before.update({k: wg.fields[k] for k in unknown - spec.workgroup_updatable()})
    change.before = before
    change.changed = diff_fields(before, wg.fields)
    actions = [IMPORT]
    if change.changed:
        actions.append(UPDATE)
    members_live = live_members(detail, id_to_address)
    if members_live is None:
        # Whether the declared members exist is unknown: creating them could duplicate them.
        # They are recorded as uncertain, for the user to settle (state adopt-member/...).
        unchecked.members.add(wg.address)
        change.members = [
            MemberChange(m.key, [NOOP], after=dict(m.fields), uncertain=True,
                         reason="cannot be checked (the account lists no activities): recorded as uncertain")
            for m in wg.members
        ]
    else:
        known = {}
        for activity_id, fields in members_live.items():
            known[_key_for_live(fields, wg.members, activity_id)] = MemberState(id=activity_id, fields=fields)
        change.members = diff_members(wg.members, known)
    if any(not m.is_noop for m in change.members) and UPDATE not in actions:
        actions.append(UPDATE)
    change.actions = actions
    change.reason = f"adopt live workgroup {import_id} (import: entry)"
    if _needs_replacement(wg, change, plan, allow_replace=False):
        change.reason = f"adopt live workgroup {import_id} (import: entry); " + change.reason
    return change


def _key_for_live(fields: Mapping[str, Any], members: Sequence[Member], activity_id: str) -> str:
    """Match a live activity to a declared member by what it rings, so import adopts it."""
    derived = member_key(fields)
    for m in members:
        if member_key(m.fields) == derived:
            return m.key
    return f"live:{activity_id}"


def _plan_existing(
    wg: Workgroup,
    ws: WorkgroupState,
    known_fields: Mapping[str, Any],
    known_members: Mapping[str, MemberState],
    options: PlanOptions,
    plan: Plan,
) -> ResourceChange:
    change = ResourceChange(
        address=wg.address,
        actions=[NOOP],
        workgroup_id=ws.id,
        before=dict(known_fields),
        after=dict(wg.fields),
        changed=diff_fields(known_fields, wg.fields),
    )
    members = diff_members(wg.members, known_members)
    if change.changed and _needs_replacement(wg, change, plan, options.allow_replace):
        change.actions = [DELETE, CREATE]
        change.members = [
            MemberChange(m.key, [CREATE], after=dict(m.fields), reason="re-created with the workgroup")
            for m in wg.members
        ]
        return change
    change.members = members
    if change.changed:
        change.actions = [UPDATE]
        change.reason = "declared values differ from the last applied ones"
    elif any(not m.is_noop for m in members):
        change.reason = "members changed"
    return change


def _needs_replacement(wg: Workgroup, change: ResourceChange, plan: Plan, allow_replace: bool) -> bool:
    """True when the change needs a replacement (shown as one whether or not it is allowed);
    records an error when it is not allowed in this run."""
    fixed = sorted(set(change.changed) - spec.workgroup_updatable())
    if not fixed:
        return False
    reason = (
        f"{', '.join(fixed)} cannot be changed in place (the update endpoint does not accept "
        f"{'it' if len(fixed) == 1 else 'them'}), so the workgroup must be deleted and created again"
    )
    change.reason = reason
    if not (allow_replace or wg.allow_replace):
        plan.errors.append(
            f"{wg.address}: {reason}. Replacement is not allowed in this run: rerun with "
            f"--allow-replace, or set `allow_replace: true` on the workgroup."
        )
    return True


def diff_members(desired: Sequence[Member], known: Mapping[str, MemberState]) -> list[MemberChange]:
    if not known:  # nothing recorded (most workgroups have no members): every declared one is new
        return [MemberChange(m.key, [CREATE], after=dict(m.fields), reason="new member") for m in desired]
    out: list[MemberChange] = []
    declared = {m.key for m in desired}
    # A member whose key changed (an explicit `key:` added or renamed) but which still rings
    # the same target is the same activity: re-key it in the state instead of re-creating it.
    unclaimed: dict[str, str] = {}
    if any(m.key not in known for m in desired):
        unclaimed = {member_key(ms.fields): k for k, ms in sorted(known.items()) if k not in declared and ms.id}
    rekeyed: set[str] = set()
    for m in desired:
        ms = known.get(m.key)
        previous = None
        if ms is None and member_key(m.fields) in unclaimed:
            previous = unclaimed.pop(member_key(m.fields))
            ms = known[previous]
            rekeyed.add(previous)
        if ms is None or ms.id is None:
            out.append(MemberChange(m.key, [CREATE], after=dict(m.fields), reason="new member"))
            continue
        changed = diff_fields(ms.fields, m.fields)
        action = UPDATE if changed or previous else NOOP
        reason = f"was member {previous!r} (same target: kept, re-keyed)" if previous else ""
        out.append(MemberChange(m.key, [action], before=dict(ms.fields), after=dict(m.fields), member_id=ms.id,
                                reason=reason, previous_key=previous))
    for key, ms in sorted(known.items()):
        if key not in declared and key not in rekeyed and ms.id:
            out.append(
                MemberChange(key, [DELETE], before=dict(ms.fields), member_id=ms.id, reason="no longer declared")
            )
    return out


# --- drift (full refresh) ----------------------------------------------------------------------


def _refresh(
    wg: Workgroup,
    ws: WorkgroupState,
    detail: Mapping[str, Any],
    id_to_address: Mapping[str, str],
    plan: Plan,
    unchecked: Unchecked,
) -> tuple[dict[str, Any], dict[str, MemberState]]:
    """Compare the live detail with the state; record drift; return the live view as known.
    What the detail did not say is not drift: the state's value is kept for it."""
    live = live_fields(detail, id_to_address)
    # Only fields we set or declare count: what the server adds on its own is not drift.
    keys = set(ws.fields) | set(wg.fields)
    unknown = (unsaid_fields(detail) | READ_IGNORED) & keys
    unchecked.fields.update(unknown - READ_IGNORED)
    known_fields = {k: live[k] for k in keys - unknown if k in live}
    known_fields.update({k: ws.fields[k] for k in unknown if k in ws.fields})
    for name in diff_fields(ws.fields, known_fields, keys - unknown):
        plan.drift.append(Drift(wg.address, name, ws.fields.get(name), known_fields.get(name)))
    activities = live_members(detail, id_to_address)
    if activities is None:  # members unknown: keep what the state knows, plan nothing on them
        unchecked.members.add(wg.address)
        return known_fields, dict(ws.members)
    known_members: dict[str, MemberState] = {}
    by_id = {ms.id: key for key, ms in ws.members.items() if ms.id}
    unsaid_by_id = {str(a.get("WorkgroupActivityId")): unsaid_fields(a) for a in detail[ACTIVITIES]}
    for activity_id, fields in activities.items():
        key = by_id.get(activity_id)
        if key is None:
            key = f"live:{activity_id}"
            plan.drift.append(Drift(wg.address, f"member {key}", None, fields))
        else:
            recorded = ws.members[key].fields
            unknown = unsaid_by_id.get(activity_id, frozenset()) & set(recorded)
            unchecked.fields.update(f"{name} (of members)" for name in unknown)
            fields = {**fields, **{name: recorded[name] for name in unknown}}  # not said: as recorded
            for name in diff_fields(recorded, fields):
                plan.drift.append(Drift(wg.address, f"member {key}.{name}", recorded.get(name), fields.get(name)))
        known_members[key] = MemberState(id=activity_id, fields=fields)
    for key, ms in ws.members.items():
        if ms.id and ms.id not in activities:
            plan.drift.append(Drift(wg.address, f"member {key}", ms.fields, None))
    return known_fields, known_members


@dataclass
class Unchecked:
    """What a refresh could not check, gathered over the run and said once (plan.unchecked)."""

    members: set[str] = field(default_factory=set)  # addresses whose details list no members
    fields: set[str] = field(default_factory=set)  # declared or recorded fields details omit

    def describe(self) -> list[str]:
        out = []
        if self.members:
            n = len(self.members)
            out.append(
                f"members: the account's workgroup details list no activities, so member drift cannot be "
                f"checked on this account; the members recorded in the state are kept as they are "
                f"({n} workgroup{'s' if n != 1 else ''}: {', '.join(sorted(self.members)[:10])}"
                f"{' and more' if n > 10 else ''})"
            )
        if self.fields:
            out.append(
                f"fields {', '.join(sorted(self.fields))}: the account's workgroup details do not carry "
                f"{'it' if len(self.fields) == 1 else 'them'}, so drift in "
                f"{'it' if len(self.fields) == 1 else 'them'} cannot be checked; the recorded values are kept"
            )
        return out


def _accept_live(state: State, live_by_id: Mapping[str, LiveSummary], plan: Plan) -> None:
    """refresh-only: turn every change into a no-op and record what the state will accept."""
    drifted = {d.address for d in plan.drift}
    for change in plan.changes:
        ws = state.workgroups.get(change.address)
        if ws is None or not ws.id:
            change.actions, change.members = [NOOP], []
            continue
        if ws.id not in live_by_id:
            plan.accept[change.address] = {"forget": True}
        elif change.address in drifted:
            plan.accept[change.address] = {
                "fields": change.before or {},
                "members": {
                    m.key: {"id": m.member_id, "fields": m.before}
                    for m in change.members
                    if m.member_id and m.before is not None
                },
            }
        change.actions = [NOOP]
        change.members = [m for m in change.members if m.member_id]
        for m in change.members:
            m.actions = [NOOP]
            m.after = m.before
        change.after = change.before
        change.changed = []
    plan.changes = [c for c in plan.changes if c.workgroup_id]


# --- cross-address steps ---------------------------------------------------------------------------


def _apply_moves(desired: Desired, state: State, plan: Plan) -> None:
    for moved in desired.moved:
        if moved.old in state.workgroups and moved.new not in state.workgroups:
            rename_address(state, moved.old, moved.new)  # references follow, or they'd plan changes
            plan.moves.append({"from": moved.old, "to": moved.new})
        elif moved.old in state.workgroups and moved.new in state.workgroups:
            plan.errors.append(f"moved: cannot move {moved.old} to {moved.new}: both are in the state")
        elif moved.old in state.schedules and moved.new not in state.schedules:
            rename_schedule(state, moved.old, moved.new)
            plan.moves.append({"from": moved.old, "to": moved.new})
        elif moved.old in state.schedules and moved.new in state.schedules:
            plan.errors.append(f"moved: cannot move schedule {moved.old} to {moved.new}: both are in the state")


def _repoint_replacements(desired: Desired, state: State, plan: Plan) -> None:
    """A replaced (or re-created) workgroup gets a new ID: what refers to it must follow. So
    does an address whose gone ID an `import:` entry replaces with a live one."""
    replaced = {c.address for c in plan.changes if CREATE in c.actions and c.workgroup_id}
    for c in plan.changes:
        old = state.workgroups.get(c.address)
        if IMPORT in c.actions and old is not None and old.id and old.id != c.import_id:
            replaced.add(c.address)
    if not replaced:
        return
    by_address = {c.address: c for c in plan.changes}
    for wg in desired:
        change = by_address[wg.address]
        if CREATE in change.actions:
            continue  # created (or re-created) with the new IDs anyway
        ref_fields = [name for name, target in workgroup_refs(wg.fields) if target in replaced]
        if ref_fields:
            change.changed = sorted(set(change.changed) | set(ref_fields))
            if change.actions == [NOOP]:
                change.actions = [UPDATE]
            change.reason = (change.reason + "; " if change.reason else "") + (
                "re-point to the replaced " + ", ".join(sorted({t for _, t in workgroup_refs(wg.fields)} & replaced))
            )
        for mc in change.members:
            m = next((m for m in wg.members if m.key == mc.key), None)
            if m is None or mc.actions not in ([NOOP], [UPDATE]):
                continue
            if any(target in replaced for _, target in member_refs(m.fields)):
                mc.resend_refs = True
                if mc.actions == [NOOP]:
                    mc.actions = [UPDATE]
                    mc.reason = "re-point to the replaced workgroup"


def _plan_undeclared(
    desired: Desired,
    state: State,
    live_by_id: Mapping[str, LiveSummary],
    options: PlanOptions,
    plan: Plan,
) -> None:
    for address in sorted(set(state.workgroups) - set(desired.workgroups)):
        ws = state.workgroups[address]
        if not ws.id:
            continue
        gone = ws.id not in live_by_id
        if ws.prevent_destroy:
            plan.kept.append(f"{address} ({ws.id}): no longer declared, kept: prevent_destroy is set in the state")
        elif not options.allow_delete:
            note = "; it is already gone from the account" if gone else ""
            plan.kept.append(
                f"{address} ({ws.id}): no longer declared, kept (rerun with --allow-delete to delete it{note})"
            )
        else:
            plan.changes.append(
                ResourceChange(
                    address=address,
                    actions=[DELETE],
                    workgroup_id=ws.id,
                    before=dict(ws.fields),
                    reason="already gone from the account: forget it" if gone else "no longer declared",
                    members=[
                        MemberChange(k, [DELETE], before=dict(m.fields), member_id=m.id, reason="workgroup deleted")
                        for k, m in sorted(ws.members.items())
                        if m.id and not gone
                    ],
                    depends_on=sorted(t for _, t in workgroup_refs(ws.fields)),
                )
            )


def _check_threshold(state: State, options: PlanOptions, plan: Plan) -> None:
    managed = sum(1 for ws in state.workgroups.values() if ws.id)
    destroying = sum(1 for c in plan.changes if DELETE in c.actions and c.workgroup_id)
    if managed < THRESHOLD_MIN_MANAGED or destroying == 0 or options.force:
        return
    share = 100.0 * destroying / managed
    if share > options.destroy_threshold:
        plan.errors.append(
            f"this plan deletes or replaces {destroying} of {managed} managed workgroups ({share:.0f}%), "
            f"more than the {options.destroy_threshold:g}% threshold; rerun with --force if that is intended"
        )
