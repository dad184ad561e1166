"""What `state list` and `state show` print: the state's entries in words and YAML."""

from __future__ import annotations

from typing import Any

import yaml

from telegent_iac.model.addresses import SCHEDULE
from telegent_iac.state.records import ScheduleState, State, WorkgroupState


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent list items under their key


def yaml_text(data: dict[str, Any]) -> str:
    """Block-style YAML in the config's layout (keys in the given order, list items indented)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)


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
    return yaml_text({f"{SCHEDULE}{address}": body})


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
    return yaml_text({address: body})
