"""The dialects for the documented disagreements: envelope, list key, ID prefix, read quirks."""

from __future__ import annotations

import re

from telegent_sandbox import SandboxServer
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory, get_token


def test_defaults_follow_the_spec_examples(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    created = api.create_workgroup()
    assert created["WorkgroupId"].startswith("WID-") and "Successful" not in created
    assert set(api.get("/v1.0/account/workgroups").json()) == {"Workgroups"}


def test_wrapped_envelope(sandbox_factory: SandboxFactory) -> None:
    api = Api(sandbox_factory(envelope="wrapped", rate_limit=0))
    response = api.post("/v1.0/workgroups", {"Name": "A", "Type": "IVR"}).json()
    assert response["Successful"] is True and set(response) == {"Successful", "Data"}
    wid = response["Data"]["WorkgroupId"]
    assert api.workgroup(wid).json()["Data"]["Name"] == "A"
    listed = api.get("/v1.0/account/workgroups").json()
    assert listed["Successful"] is True and listed["Data"]["Workgroups"][0]["WorkgroupId"] == wid
    deleted = api.post("/v1.0/workgroups/delete", params={"WorkgroupId": wid}).json()
    assert deleted == {"Successful": True, "Data": {"WorkgroupId": wid, "Successful": True}}
    assert api.get("/v1.0/account/schedules").json()["Data"]["TotalSchedules"] == 0
    # Errors and the token response keep their own shapes.
    assert api.workgroup(wid).json() == {"StatusCode": 404, "Message": api.workgroup(wid).json()["Message"]}
    assert get_token(api.server, "/v1.0/workgroups")


def test_results_list_key(sandbox_factory: SandboxFactory) -> None:
    api = Api(sandbox_factory(list_key="Results", rate_limit=0))
    created = api.create_workgroup(Name="A")
    listed = api.get("/v1.0/account/workgroups").json()
    assert listed == {"Results": [{"WorkgroupId": created["WorkgroupId"], "Name": "A", "Type": "IVR",
                                   "Active": True}], "TotalWorkgroups": 1}


def test_wg_id_prefix(sandbox_factory: SandboxFactory) -> None:
    api = Api(sandbox_factory(id_prefix="WG-", rate_limit=0))
    wid = api.create_workgroup()["WorkgroupId"]
    assert re.fullmatch(r"WG-[0-9a-f-]{36}", wid)
    assert api.workgroup(wid).status_code == 200


def test_read_quirks(sandbox_factory: SandboxFactory) -> None:
    api = Api(sandbox_factory(read_quirks=True, rate_limit=0))
    ivr = api.create_workgroup(Name="I", Type="IVR", RecordCalls=True)
    sim = api.create_workgroup(Name="S", Type="simultaneous", RecordCalls=False)
    rr = api.create_workgroup(Name="R", Type="round-robin")
    assert ivr["Type"] == "IVR" and ivr["RecordCalls"] is True  # writes echo what was sent
    summaries = api.get("/v1.0/account/workgroups").json()["Workgroups"]
    assert [(s["Type"], s["Active"]) for s in summaries] == [("IVR", "true"), ("ring", "true"), ("ring", "true")]
    api.post("/v1.0/workgroups/activity", {"WorkgroupId": sim["WorkgroupId"], "Type": "User",
                                           "SmsNotification": True})
    detail = api.workgroup(sim["WorkgroupId"]).json()
    assert detail["Type"] == "Simultaneous" and detail["RecordCalls"] == "false" and detail["Active"] == "true"
    assert detail["Activities"][0]["SmsNotification"] == "true"
    assert api.workgroup(ivr["WorkgroupId"]).json()["Type"] == "Ivr"
    assert api.workgroup(rr["WorkgroupId"]).json()["Type"] == "RoundRobin"
