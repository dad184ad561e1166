"""`export`: the configuration and the state that describe a live account exactly (onboarding)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegent_iac import __version__, config, spec
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import slugify, unique_address
from telegent_iac.model.live import READ_IGNORED
from telegent_iac.model.workgroups import (
    LiveSummary,
    member_key,
    member_refs,
    members_known,
    unsaid_fields,
    workgroup_refs,
)
from telegent_iac.ops import run
from telegent_iac.ops.importing import ReadClient, workgroup_state_from_detail
from telegent_iac.ops.settings import Progress, Settings
from telegent_iac.plan.schedules import live_known_fields
from telegent_iac.state.listing import yaml_text
from telegent_iac.state.records import ScheduleState, WorkgroupState
from telegent_iac.state.store import StateStore, read_or_new


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
        dumped = yaml_text({address: body})
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
            dumped = yaml_text({address: body})
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


def export_into(store: StateStore, settings: Settings, force: bool, write_config: Callable[[str], None]) -> Export:
    """`export` under the caller's lock on `store`: read the whole account, hand the
    configuration to `write_config`, then record the matching state. A state that already
    manages workgroups is replaced only with `force` (the store keeps the old one as a backup)."""
    state = read_or_new(store)
    managed = [a for a, ws in state.workgroups.items() if ws.id or ws.pending_create]
    if managed and not force:
        raise UserError(
            f"the state at {store.description} already manages {len(managed)} workgroup"
            f"{'s' if len(managed) != 1 else ''}; export writes a new state. Use another --state, or "
            "--force to replace it (the old one is kept as a .backup)"
        )
    with run.open_client(settings) as client:
        binding = run.account_binding(client, settings)
        if force:  # a new state for this account replaces whatever was there
            state.account = binding
        else:
            run.bind_account(state, binding, store.description, settings.progress)
        exported = export_account(client, settings.progress)
    for skipped in exported.skipped:
        settings.progress(f"Warning: {skipped.describe()}")
    for address, note in exported.unread.items():
        settings.progress(f"Warning: {address}: {note} (marked in the file)")
    write_config(exported.yaml_text)
    state.workgroups = exported.workgroups
    state.schedules = exported.schedules
    store.write(state)
    return exported
