"""Configurations built in code for the pure tests (planner, renderers): small builders, and
Hypothesis strategies of whole configurations."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from telegent_iac.model.workgroups import (
    Desired,
    Member,
    Schedule,
    Workgroup,
    canonical_member,
    canonical_workgroup,
    member_key,
)


def workgroup(address: str, refers_to: str | None = None, **fields: Any) -> Workgroup:
    members: tuple[Member, ...] = ()
    if refers_to:
        member = canonical_member({"Type": "Workgroup", "ReferenceWorkgroupId": refers_to, "DigitOrder": 1})
        members = (Member(member_key(member), member),)
    return Workgroup(address, {"Name": address.title(), "Type": "IVR", **fields}, members)


def desired(*workgroups: Workgroup, schedules: tuple[str, ...] = ()) -> Desired:
    hours = {a: Schedule(a, {"Name": a.title(), "MondayStartTime": "8:00 AM", "MondayEndTime": "6:00 PM"})
             for a in schedules}
    return Desired({wg.address: wg for wg in workgroups}, schedules=hours)


# --- strategies ----------------------------------------------------------------------------------

TYPES = ["IVR", "simultaneous", "round-robin"]
text = st.text(alphabet=string.ascii_letters + string.digits + " .,!?'|`<>", min_size=1, max_size=30)
phone = st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True)


@st.composite
def workgroup_fields(draw: Any, name: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"Name": name, "Type": draw(st.sampled_from(TYPES))}
    optional = {
        "TelegentPhone": phone,
        "AnnouncementText": text,
        "RecordCalls": st.booleans(),
        "TranscribeRecordings": st.booleans(),
        "TimeZone": st.sampled_from(["America/New_York", "Europe/Paris"]),
        "CallerIdName": text,
        "WaitBetween": st.sampled_from(["5", "10"]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            fields[key] = draw(strategy)
    return canonical_workgroup(fields)


@st.composite
def desired_configs(draw: Any) -> Desired:
    n = draw(st.integers(min_value=0, max_value=8))
    addresses = [f"wg-{i}" for i in range(n)]
    workgroups: dict[str, Workgroup] = {}
    for i, address in enumerate(addresses):
        fields = draw(workgroup_fields(f"Group {i}"))
        members = []
        for j, target in enumerate(draw(st.lists(st.sampled_from(addresses[:i] or ["-"]), max_size=3, unique=True))):
            if target == "-":
                continue
            member = canonical_member({"Type": "Workgroup", "ReferenceWorkgroupId": target, "DigitOrder": j + 1})
            members.append(Member(member_key(member), member))
        for phone_number in draw(st.lists(phone, max_size=2, unique=True)):
            member = canonical_member({"Type": "User", "PhoneNumber": phone_number, "SmsNotification": True})
            members.append(Member(member_key(member), member))
        if i and draw(st.booleans()):
            fields.update(OffHoursType="Workgroup", OffHoursId=addresses[draw(st.integers(0, i - 1))])
        workgroups[address] = Workgroup(address, fields, tuple(members))
    return Desired(workgroups)
