"""Workgroup activities (members) and schedules."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from telegent_sandbox import SandboxServer
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory

ACTIVITY = "/v1.0/workgroups/activity"


def _create(api: Api, **fields: object) -> str:
    response = api.post(ACTIVITY, fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["WorkgroupActivityStatus"] == "Created"
    assert re.fullmatch(r"WAID-[0-9a-f-]{36}", body["WorkgroupActivityId"])
    return str(body["WorkgroupActivityId"])


def test_activity_lifecycle_and_detail_embedding(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup(Name="Main")["WorkgroupId"]
    nested = api.create_workgroup(Name="Nested")["WorkgroupId"]
    user = _create(api, WorkgroupId=wid, Type="User", DigitOrder=1, PhoneNumber="+15550001111",
                   ReferenceUserId="USER-1", SmsNotification=True)
    group = _create(api, WorkgroupId=wid, Type="Workgroup", DigitOrder=2, ReferenceWorkgroupId=nested,
                    PhoneNumber="")
    # Every activity field is in the detail, unset ones as null: `_set` keeps the set ones.
    assert _set(api.workgroup(wid).json()["Activities"]) == [
        {"WorkgroupActivityId": user, "WorkgroupId": wid, "Type": "User", "DigitOrder": 1,
         "PhoneNumber": "+15550001111", "ReferenceUserId": "USER-1", "SmsNotification": True},
        {"WorkgroupActivityId": group, "WorkgroupId": wid, "Type": "Workgroup", "DigitOrder": 2,
         "ReferenceWorkgroupId": nested},
    ]
    updated = api.post(f"{ACTIVITY}/update", {"WorkgroupActivityId": user, "DigitOrder": 3,
                                              "PhoneNumber": "", "EmailNotification": False})
    assert updated.json() == {"WorkgroupActivityStatus": "Updated", "WorkgroupActivityId": user}
    first = _set(api.workgroup(wid).json()["Activities"])[0]
    assert first == {"WorkgroupActivityId": user, "WorkgroupId": wid, "Type": "User", "DigitOrder": 3,
                     "ReferenceUserId": "USER-1", "SmsNotification": True, "EmailNotification": False}
    deleted = api.post(f"{ACTIVITY}/delete", {"WorkgroupActivityId": user})
    assert deleted.json() == {"WorkgroupActivityStatus": "Deleted", "WorkgroupActivityId": user}
    assert [a["WorkgroupActivityId"] for a in api.workgroup(wid).json()["Activities"]] == [group]
    assert api.workgroup(nested).json()["Activities"] == []


def test_activity_errors(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    assert api.post(ACTIVITY, {"WorkgroupId": "WID-none", "Type": "User"}).status_code == 404
    bad_type = api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "phone"})
    assert bad_type.json()["Message"] == "Bad request: field 'Type': 'phone' is not one of ['User', 'Workgroup']"
    digit = api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "User", "DigitOrder": "1"})
    assert digit.status_code == 400 and "'DigitOrder'" in digit.json()["Message"]
    no_ref = api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "Workgroup"})
    assert no_ref.status_code == 400 and "'ReferenceWorkgroupId'" in no_ref.json()["Message"]
    bad_ref = api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "Workgroup", "ReferenceWorkgroupId": "WID-x"})
    assert bad_ref.status_code == 400 and "'ReferenceWorkgroupId'" in bad_ref.json()["Message"]
    unknown = api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "User", "Timeout": 5})
    assert unknown.json()["Message"] == "Bad request: unknown field 'Timeout'"
    assert api.post(f"{ACTIVITY}/update", {"WorkgroupActivityId": "WAID-x"}).status_code == 404
    assert api.post(f"{ACTIVITY}/delete", {"WorkgroupActivityId": "WAID-x"}).status_code == 404
    assert api.post(f"{ACTIVITY}/delete", {}).status_code == 400
    aid = _create(api, WorkgroupId=wid, Type="User")
    to_group = api.post(f"{ACTIVITY}/update", {"WorkgroupActivityId": aid, "Type": "Workgroup"})
    assert to_group.status_code == 400
    moved = api.post(f"{ACTIVITY}/update", {"WorkgroupActivityId": aid, "WorkgroupId": "WID-none"})
    assert moved.status_code == 404
    assert _set(api.workgroup(wid).json()["Activities"]) == [{"WorkgroupActivityId": aid, "WorkgroupId": wid,
                                                             "Type": "User"}]


def _set(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in a.items() if v is not None} for a in activities]


def test_deleting_a_workgroup_deletes_its_activities(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    aid = _create(api, WorkgroupId=wid, Type="User")
    assert api.post("/v1.0/workgroups/delete", params={"WorkgroupId": wid}).status_code == 200
    assert api.post(f"{ACTIVITY}/update", {"WorkgroupActivityId": aid, "DigitOrder": 1}).status_code == 404


def test_schedules(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    empty = api.get("/v1.0/account/schedules").json()
    assert empty == {"AccountID": "DID-sandbox-demo", "TotalSchedules": 0, "Results": []}
    response = api.post("/v1.0/schedules", {"Name": "Business hours", "MondayStartTime": "8:00 AM",
                                             "MondayEndTime": "5:00 PM", "SundayStartTime": ""})
    assert response.status_code == 200
    schedule = response.json()
    assert re.fullmatch(r"SID-[0-9a-f-]{36}", schedule["ScheduleId"])
    assert schedule["Active"] is True and schedule["Name"] == "Business hours"
    assert schedule["SundayStartTime"] == ""  # "" means closed, so it is kept
    listed = api.get("/v1.0/account/schedules").json()
    assert listed["TotalSchedules"] == 1 and listed["Results"] == [schedule]
    wg = api.create_workgroup(ScheduleId=schedule["ScheduleId"])
    assert api.workgroup(wg["WorkgroupId"]).json()["ScheduleId"] == schedule["ScheduleId"]


def test_schedule_errors(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    assert api.post("/v1.0/schedules", {"MondayStartTime": "8:00 AM"}).json()["Message"] == \
        "Bad request: field 'Name' is required"
    assert api.post("/v1.0/schedules", {"Name": "x", "Holidays": []}).status_code == 400
    assert api.post("/v1.0/schedules", {"Name": ""}).status_code == 400


def test_schedule_endpoints_have_the_same_token_scoping_rate_limit_and_faults(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(db=":memory:", rate_limit=0)
    api = Api(server)
    wrong_scope = api.token("/v1.0/workgroups")
    assert api.post("/v1.0/schedules", {"Name": "x"}, token=wrong_scope).status_code in (401, 403)
    assert api.get("/v1.0/account/schedules", token=wrong_scope).status_code in (401, 403)
    server.control.set_faults(drop_next_creates=1)  # committed, then the connection is closed
    with pytest.raises(httpx.TransportError):
        api.post("/v1.0/schedules", {"Name": "Dropped"})
    assert [s["Name"] for s in api.get("/v1.0/account/schedules").json()["Results"]] == ["Dropped"]
    limited = sandbox_factory(db=":memory:", rate_limit=2)
    api = Api(limited)
    statuses = [api.get("/v1.0/account/schedules").status_code for _ in range(3)]
    assert statuses[-1] == 429
