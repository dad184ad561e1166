"""Lifecycle operations outside plan/apply: import, export and the state commands.

Plain functions over plain values (a State, a client, a Desired); the click commands in
cli_lifecycle.py take the lock, read and write the state and print. Nothing here writes a
file or the state by itself, except `write_text_atomic`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from telegent_iac import __version__, config, spec
from telegent_iac.api.failures import NotFoundError
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE, is_address, slugify, unique_address
from telegent_iac.model.live import READ_IGNORED, live_fields, live_members
from telegent_iac.model.workgroups import (
    LiveSummary,
    Member,
    Workgroup,
    member_key,
    member_refs,
    members_known,
    unsaid_fields,
    workgroup_refs,
)
from telegent_iac.plan.schedules import live_known_fields, schedule_addressed
from telegent_iac.state.edits import rename_address, rename_schedule, retarget
from telegent_iac.state.records import MemberState, ScheduleState, State, WorkgroupState
from telegent_iac.state.recovery import uncertain_member

Progress = Callable[[str], None]


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
    _check_address(address)
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
    _check_address(address)
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


@dataclass
class Skipped:
    workgroup_id: str
    name: str
    reason: str

    def describe(self) -> str:
        return f"skipped {self.workgroup_id} (Name {self.name!r}): {self.reason}"


@dataclass
class Export:
    yaml_text: str
    workgroups: dict[str, WorkgroupState]  # address -> state entry
    skipped: list[Skipped] = field(default_factory=list)
    # address -> what could not be read from the account (also a comment in the YAML)
    unread: dict[str, str] = field(default_factory=dict)
    schedules: dict[str, ScheduleState] = field(default_factory=dict)  # address -> state entry


def unread_note(detail: Mapping[str, Any]) -> str | None:
    """What a live detail did not say, in words (None when it said everything)."""
    parts = []
    if not members_known(detail):
        parts.append("its members (the details list no activities)")
    fields = sorted(unsaid_fields(detail) - READ_IGNORED)
    if fields:
        parts.append(f"the fields {', '.join(fields)} (not in the details)")
    if not parts:
        return None
    return (
        "could not read " + " nor ".join(parts) + " from the account; they are left out here and "
        "in the state, and telegent-iac will neither check nor change them until you declare them"
    )


@dataclass
class _Candidate:
    summary: LiveSummary
    detail: Mapping[str, Any]
    address: str


def export_account(client: ReadClient, progress: Progress = lambda message: None) -> Export:
    """Read every live workgroup (the list, then one detail call each) and build the config
    and state that describe exactly that account."""
    live = client.list_workgroups()
    details: dict[str, dict[str, Any]] = {}
    total = len(live)
    for n, summary in enumerate(live, 1):
        details[summary.workgroup_id] = client.get_workgroup(summary.workgroup_id)
        if n == total or n % 10 == 0:
            progress(f"Exporting: {n}/{total} workgroups read")
    return build_export(live, details, client.list_schedules())


def export_schedules(records: Sequence[Mapping[str, Any]], skipped: list[Skipped]) -> dict[str, ScheduleState]:
    """Schedules as state entries keyed by an address made from the Name; a second schedule of
    the same Name is skipped (Names are unique in the configuration)."""
    out: dict[str, ScheduleState] = {}
    by_name: dict[str, str] = {}
    for record in sorted(records, key=lambda r: (str(r.get("Name", "")).lower(), str(r.get("ScheduleId", "")))):
        schedule_id, name = str(record.get("ScheduleId") or ""), str(record.get("Name") or "")
        if not schedule_id or not name:
            continue
        if name in by_name:
            skipped.append(Skipped(schedule_id, name, (
                f"another schedule, {out[by_name[name]].id} (exported as {by_name[name]}), has the same Name; "
                "workgroups that use this one keep its ID in ScheduleId")))
            continue
        address = unique_address(slugify(name, "schedule"), out)
        fields = {k: v for k, v in live_known_fields(record).items() if v is not None}
        out[address] = ScheduleState(id=schedule_id, fields=fields)
        by_name[name] = address
    return out


def build_export(live: Sequence[LiveSummary], details: Mapping[str, Mapping[str, Any]],
                 schedule_records: Sequence[Mapping[str, Any]] = ()) -> Export:
    """The config and state for `live` (with their details). A workgroup the config format
    cannot express is skipped with the reason, and so is anything that refers to it: a
    duplicate Name (the first by Name then ID is kept), a reference to a workgroup not in the
    account, a reference cycle, or a value the validator refuses (e.g. an IVR member without
    DigitOrder)."""
    skipped: list[Skipped] = []
    schedules = export_schedules(schedule_records, skipped)
    schedule_address = {ss.id: a for a, ss in schedules.items()}
    candidates: dict[str, _Candidate] = {}
    first_by_name: dict[str, _Candidate] = {}
    taken: set[str] = set()
    for summary in sorted(live, key=lambda s: (s.name.lower(), s.name, s.workgroup_id)):
        detail = details[summary.workgroup_id]
        name = str(detail.get("Name") or summary.name)
        if name in first_by_name:
            other = first_by_name[name]
            skipped.append(Skipped(summary.workgroup_id, name, (
                f"another workgroup, {other.summary.workgroup_id} (exported as {other.address}), has the same "
                "Name, and Names must be unique in the configuration. Rename one of them in Telegent and export "
                "again, or declare it under a distinct Name with an `import:` entry"
            )))
            continue
        address = unique_address(slugify(name), taken)
        taken.add(address)
        candidate = _Candidate(summary, detail, address)
        candidates[summary.workgroup_id] = candidate
        first_by_name[name] = candidate

    all_ids = {s.workgroup_id for s in live}
    for _ in range(len(candidates) + 1):
        id_to_address = {wid: c.address for wid, c in candidates.items()}
        states = {
            c.address: workgroup_state_from_detail(wid, c.detail, id_to_address) for wid, c in candidates.items()
        }
        for ws in states.values():  # a schedule that is exported too is named by its address
            if ws.fields.get("ScheduleId") in schedule_address:
                ws.fields["ScheduleId"] = schedule_address[ws.fields["ScheduleId"]]
        dangling = _dangling_refs(states, set(id_to_address.values()), all_ids)
        if dangling:
            for address, reason in dangling.items():
                _skip(candidates, address, reason, skipped)
            continue
        unread = {c.address: note for c in candidates.values() if (note := unread_note(c.detail))}
        text, blocks = render_config(states, unread, schedules)
        problems = _validate(text)
        if not problems:
            return Export(text, dict(sorted(states.items())), skipped, dict(sorted(unread.items())), schedules)
        for address, messages in _problems_by_block(problems, blocks).items():
            _skip(candidates, address, "; ".join(messages), skipped)
    raise AssertionError("export did not converge")  # each round skips at least one workgroup


def _skip(candidates: dict[str, _Candidate], address: str, reason: str, skipped: list[Skipped]) -> None:
    for wid, c in list(candidates.items()):
        if c.address == address:
            del candidates[wid]
            skipped.append(Skipped(wid, str(c.detail.get("Name") or c.summary.name), reason))


def _dangling_refs(states: Mapping[str, WorkgroupState], addresses: set[str], all_ids: set[str]) -> dict[str, str]:
    """address -> why, for every workgroup that refers to one that will not be in the config."""
    out: dict[str, str] = {}
    for address, ws in states.items():
        refs = [(name, target) for name, target in workgroup_refs(ws.fields)]
        for ms in ws.members.values():
            refs += [(f"a member's {name}", target) for name, target in member_refs(ms.fields)]
        for name, target in refs:
            if target not in addresses:
                why = "which is not exported (see its own message)" if target in all_ids else \
                    "which is not in the account"
                out[address] = f"{name} refers to workgroup {target}, {why}"
                break
    return out


# Field order in the YAML: identity first, then the spec's order.
_FIRST = ("Name", "Type")


def _ordered(fields: Mapping[str, Any], order: Sequence[str]) -> dict[str, Any]:
    rank: dict[str, int] = {}
    for n, name in enumerate(order):
        rank.setdefault(name, n)
    return {k: _escape(fields[k]) for k in sorted(fields, key=lambda k: (rank.get(k, len(rank)), k))}


def _escape(value: Any) -> Any:
    """`${` starts an interpolation in the config; `$${` is a literal `${`."""
    return value.replace("${", "$${") if isinstance(value, str) else value


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent list items under their key


def render_config(
    states: Mapping[str, WorkgroupState], unread: Mapping[str, str] | None = None,
    schedules: Mapping[str, ScheduleState] | None = None,
) -> tuple[str, dict[str, tuple[int, int]]]:
    """The YAML text and, per address, the 1-based line range its block occupies. `unread`
    (address -> words) marks a workgroup that could not be read whole with a comment."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Exported from the live Telegent account by telegent-iac {__version__} export, {stamp}.",
        "# Addresses (the keys under workgroups:) were generated from the Names; rename them now",
        "# if you like (or later with `telegent-iac state mv` / a `moved:` entry). Review, then run",
        "# `telegent-iac plan` until it shows `No changes.` (docs/lifecycle.md).",
        "workgroups:",
    ]
    blocks: dict[str, tuple[int, int]] = {}
    order = [*_FIRST, *spec.workgroup_fields()]
    member_order = ["key", "Type", *spec.member_fields()]
    for address in sorted(states):
        ws = states[address]
        body: dict[str, Any] = _ordered(ws.fields, order)
        members = []
        for key, ms in ws.members.items():
            item = _ordered(ms.fields, member_order)
            if key != member_key(ms.fields):
                item = {"key": key, **item}
            members.append(item)
        if members:
            body["members"] = members
        dumped = yaml.dump({address: body}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                           default_flow_style=False, width=4096)
        if unread and address in unread:
            lines.append(f"  # NOTE: {unread[address]}.")
        start = len(lines) + 1
        lines += ["  " + line if line else line for line in dumped.rstrip("\n").split("\n")]
        blocks[address] = (start, len(lines))
        lines.append("")
    if not states:
        lines[-1] = "workgroups: {}"
    if schedules:
        lines.append("schedules:")
        for address, ss in sorted(schedules.items()):
            body = _ordered(ss.fields, list(spec.schedule_fields()))
            dumped = yaml.dump({address: body}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                               default_flow_style=False, width=4096)
            lines += ["  " + line if line else line for line in dumped.rstrip("\n").split("\n")]
    return "\n".join(lines).rstrip("\n") + "\n", blocks


def _validate(text: str) -> list[tuple[int, str]]:
    """(line, message) of every problem the config loader finds in `text`."""
    with tempfile.TemporaryDirectory(prefix="telegent-export-") as tmp:
        path = Path(tmp) / "export.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            config.load([str(path)], {})
        except UserError as exc:
            if not exc.problems:
                raise
            return [(p.position.line, p.message) for p in exc.problems]
    return []


def _problems_by_block(
    problems: Sequence[tuple[int, str]], blocks: Mapping[str, tuple[int, int]]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line, message in problems:
        owner = next((a for a, (first, last) in blocks.items() if first <= line <= last), None)
        if owner is None:
            raise AssertionError(f"export wrote an invalid configuration: line {line}: {message}")
        out.setdefault(owner, []).append(message)
    return out


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --- state commands -------------------------------------------------------------------------------


def state_rows(state: State) -> list[str]:
    """`state list`: one line per address."""
    rows = []
    for address, ws in sorted(state.workgroups.items()):
        notes = []
        if ws.prevent_destroy:
            notes.append("prevent_destroy")
        if ws.pending_create is not None:
            notes.append("unfinished create")
        if ws.deposed:
            notes.append(f"old objects to delete: {', '.join(ws.deposed)}")
        members = len(ws.members)
        notes.append(f"{members} member{'s' if members != 1 else ''}")
        uncertain = sorted(k for k, m in ws.members.items() if m.pending_create is not None)
        if uncertain:
            notes.append(f"uncertain members: {', '.join(uncertain)}")
        rows.append(f"{address}\t{ws.id or '(no ID yet)'}\t{ws.fields.get('Name', '')}\t{'; '.join(notes)}")
    for address, ss in sorted(state.schedules.items()):
        note = "unfinished create" if ss.pending_create is not None else ""
        rows.append(f"{SCHEDULE}{address}\t{ss.id or '(no ID yet)'}\t{ss.fields.get('Name', '')}\t{note}")
    return rows


def describe_schedule(address: str, ss: ScheduleState) -> str:
    """`state show schedule.ADDRESS`."""
    body: dict[str, Any] = {"id": ss.id, "fields": dict(ss.fields)}
    if ss.pending_create is not None:
        body["pending_create"] = ss.pending_create.to_dict()
    return yaml.dump({f"{SCHEDULE}{address}": body}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=4096)


def describe_workgroup(address: str, ws: WorkgroupState) -> str:
    """`state show ADDRESS`: the entry as YAML (same field names as the config)."""
    body: dict[str, Any] = {"id": ws.id, "prevent_destroy": ws.prevent_destroy, "fields": dict(ws.fields)}
    if ws.members:
        body["members"] = {
            k: {"id": m.id, "fields": dict(m.fields)}
            | ({"uncertain (create sent, outcome unknown)": m.pending_create.to_dict()} if m.pending_create else {})
            for k, m in sorted(ws.members.items())
        }
    if ws.pending_create is not None:
        body["pending_create"] = ws.pending_create.to_dict()
    if ws.deposed:
        body["deposed"] = list(ws.deposed)
    return yaml.dump({address: body}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=4096)


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
        _check_address(new_s)
        rename_schedule(state, old_s, new_s)
        return
    if old not in state.workgroups:
        raise UserError(f"{old} is not in the state{_known_hint(state, old)}")
    if new in state.workgroups:
        raise UserError(f"{new} is already in the state; `telegent-iac state rm {new}` first if it is stale")
    _check_address(new)
    rename_address(state, old, new)


def _check_address(address: str) -> None:
    if not is_address(address):
        raise UserError(f"invalid address {address!r}: lower-case letters, digits, '-' and '_', starting with a "
                        "letter or digit, at most 63 characters")


def _known_hint(state: State, address: str) -> str:
    import difflib

    close = difflib.get_close_matches(address, list(state.workgroups), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
