"""The live-to-model mapping: a live workgroup detail (already decoded by the client) in the
model's terms, with WorkgroupIds that the state knows turned back into addresses. The planner,
import, export and crash recovery all read the account through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegent_iac import spec
from telegent_iac.model.workgroups import ACTIVITIES, UNSAID, member_refs, members_known, workgroup_refs

# Sent on writes to say which (sub-)account acts, never compared on reads: the docs show reads
# echoing the caller's own key, the sub-account's, or nothing.
READ_IGNORED = frozenset({"AccountId"})


def addressify(fields: Mapping[str, Any], id_to_address: Mapping[str, str], member: bool = False) -> dict[str, Any]:
    """Live fields hold WorkgroupIds where the model holds addresses: map the known ones back."""
    out = dict(fields)
    refs = member_refs(fields) if member else workgroup_refs(fields)
    for name, value in refs:
        if value in id_to_address:
            out[name] = id_to_address[value]
    return out


def live_members(
    detail: Mapping[str, Any], id_to_address: Mapping[str, str]
) -> dict[str, dict[str, Any]] | None:
    """WorkgroupActivityId -> member fields (address form) from a workgroup's live detail;
    None when the detail did not list activities (the members are unknown, not none)."""
    if not members_known(detail):
        return None
    out: dict[str, dict[str, Any]] = {}
    for activity in detail[ACTIVITIES]:
        activity_id = activity.get("WorkgroupActivityId")
        if activity_id:
            fields = {k: v for k, v in activity.items() if k not in ("WorkgroupActivityId", "WorkgroupId", UNSAID)}
            out[str(activity_id)] = addressify(fields, id_to_address, member=True)
    return out


def live_fields(detail: Mapping[str, Any], id_to_address: Mapping[str, str]) -> dict[str, Any]:
    """The canonical fields a live detail set (what it did not say is in `unsaid_fields`)."""
    known = spec.workgroup_fields()
    fields = {k: v for k, v in detail.items() if k in known and k not in READ_IGNORED}
    return addressify(fields, id_to_address)


def name_key(name: str) -> str:
    """Names compared for identity: a live workgroup whose Name differs only in case or
    surrounding spaces could be the declared one (some readings may normalise Names)."""
    return name.strip().casefold()
