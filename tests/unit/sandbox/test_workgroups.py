"""Workgroup endpoints: create, summary list, detail, partial update, delete; their errors."""

from __future__ import annotations

import re
import uuid

from telegent_iac import spec
from telegent_sandbox import SandboxServer
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory, http_client

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"

HTTP = http_client()


def test_create_returns_the_full_stored_workgroup(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    fields = {"Name": "Sales", "Type": "round-robin", "TelegentPhone": "+15551230000", "RecordCalls": True,
              "CallOrder": "1", "AccountId": "AID-123", "TimeZone": "America/New_York"}
    created = api.create_workgroup(**fields)
    assert re.fullmatch(f"WID-{UUID}", created["WorkgroupId"])
    assert created == {"WorkgroupId": created["WorkgroupId"], **fields}


def test_every_create_field_of_the_spec_is_accepted(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    other = api.create_workgroup(Name="Other")["WorkgroupId"]
    samples = {"string": "x", "boolean": False, "integer": 1}
    body = {name: samples[schema["type"]] for name, schema in spec.workgroup_fields().items()}
    body.update(Type="IVR", AnnouncementUrl="https://example.com/a.wav", OffHoursType="User",
                OnHoursType="Workgroup", OnHoursId=other)
    response = api.post("/v1.0/workgroups", body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == set(body) | {"WorkgroupId"}


def test_detail_has_all_fields_active_and_activities(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    created = api.create_workgroup(Name="Sales", Type="simultaneous", AiRecording=False)
    detail = api.workgroup(created["WorkgroupId"])
    assert detail.status_code == 200
    # Every spec field is there, unset ones as null (an ASP.NET DTO), so "unset" is said.
    unset = {name: None for name in spec.workgroup_fields()}
    assert detail.json() == {**unset, **created, "Active": True, "Activities": []}


def test_empty_strings_on_create_mean_not_set(sandbox: SandboxServer) -> None:
    created = Api(sandbox).create_workgroup(Name="A", TelegentPhone="", CallerIdName="")
    assert "TelegentPhone" not in created and "CallerIdName" not in created


def test_summary_list_in_creation_order(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    assert api.summaries() == []
    a = api.create_workgroup(Name="A", Type="IVR", RecordCalls=True)
    b = api.create_workgroup(Name="B", Type="round-robin")
    assert api.summaries() == [
        {"WorkgroupId": a["WorkgroupId"], "Name": "A", "Type": "IVR", "Active": True},
        {"WorkgroupId": b["WorkgroupId"], "Name": "B", "Type": "round-robin", "Active": True},
    ]


def test_names_are_not_unique(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    first, second = api.create_workgroup(Name="Same"), api.create_workgroup(Name="Same")
    assert first["WorkgroupId"] != second["WorkgroupId"]
    assert [s["Name"] for s in api.summaries()] == ["Same", "Same"]


def test_validation_names_the_field(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    cases = {
        "Bad request: field 'Type': 'ring' is not one of ['IVR', 'simultaneous', 'round-robin']":
            {"Name": "A", "Type": "ring"},
        "Bad request: unknown field 'Nmae'": {"Nmae": "A", "Name": "A", "Type": "IVR"},
        "Bad request: field 'Type' is required": {"Name": "A"},
        "Bad request: field 'RecordCalls': 'yes' is not of type 'boolean'":
            {"Name": "A", "Type": "IVR", "RecordCalls": "yes"},
        "Bad request: field 'Name': 5 is not of type 'string'": {"Name": 5, "Type": "IVR"},
        "Bad request: field 'Name' must not be empty": {"Name": "", "Type": "IVR"},
    }
    for message, body in cases.items():
        response = api.post("/v1.0/workgroups", body)
        assert response.status_code == 400, body
        assert response.json() == {"StatusCode": 400, "Message": message}
    assert api.summaries() == []


def test_body_must_be_a_json_object(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    headers = {"Authorization": f"Bearer {api.token('/v1.0/workgroups')}"}
    for raw in (b"{oops", b"[1, 2]", b""):
        response = HTTP.post(f"{sandbox.url}/v1.0/workgroups", content=raw, headers=headers)
        assert response.status_code == 400, raw
        assert response.json()["StatusCode"] == 400


def test_unknown_path_is_404_and_wrong_method_is_405(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    missing = api.get("/v1.0/nothing")
    assert missing.status_code == 404 and missing.json()["StatusCode"] == 404
    wrong = HTTP.put(f"{sandbox.url}/v1.0/workgroups")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, POST"
    assert HTTP.get(f"{sandbox.url}/v1.0/workgroups/update").status_code == 405
    assert HTTP.get(f"{sandbox.url}/v1.0/oauth2/tokens").status_code == 405
    for method, path in spec.operations():  # every known operation is routed (not 404/405)
        assert HTTP.request(method, sandbox.url + path).status_code not in (404, 405), path


def test_paths_are_case_insensitive(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    response = api.get("/v1.0/Account/Workgroups", token=api.token("/v1.0/account/workgroups"))
    assert response.status_code == 200


def test_detail_errors(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    unknown = api.workgroup(f"WID-{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["Message"].startswith("Not found: ")
    missing = api.get("/v1.0/workgroups")
    assert missing.status_code == 400 and "WorkgroupId" in missing.json()["Message"]


def test_query_parameter_names_are_case_insensitive(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    assert api.get("/v1.0/workgroups", params={"workgroupid": wid}).status_code == 200


def test_update_is_partial_and_empty_string_clears(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup(Name="A", Type="IVR", TelegentPhone="+15550001111", CallOrder="1",
                               RecordCalls=True, HoldMusicId="HM-1")["WorkgroupId"]
    response = api.post("/v1.0/workgroups/update",
                        {"WorkgroupId": wid, "Name": "B", "TelegentPhone": "", "RecordCalls": False})
    assert response.status_code == 200
    expected = {"WorkgroupId": wid, "Name": "B", "Type": "IVR", "CallOrder": "1", "RecordCalls": False,
                "HoldMusicId": "HM-1"}
    assert response.json() == expected
    unset = {name: None for name in spec.workgroup_fields()}
    assert api.workgroup(wid).json() == {**unset, **expected, "Active": True, "Activities": []}
    assert api.summaries()[0]["Name"] == "B"


def test_update_accepts_only_the_update_schema(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    assert "HoldMusicId" not in spec.workgroup_updatable()
    response = api.post("/v1.0/workgroups/update", {"WorkgroupId": wid, "HoldMusicId": "HM-2"})
    assert response.status_code == 400
    assert response.json()["Message"] == "Bad request: unknown field 'HoldMusicId'"
    assert api.workgroup(wid).json()["HoldMusicId"] is None


def test_update_errors(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    assert api.post("/v1.0/workgroups/update", {"WorkgroupId": "WID-nope", "Name": "x"}).status_code == 404
    assert api.post("/v1.0/workgroups/update", {"Name": "x"}).json()["Message"] == \
        "Bad request: field 'WorkgroupId' is required"
    cleared = api.post("/v1.0/workgroups/update", {"WorkgroupId": wid, "Name": ""})
    assert cleared.status_code == 400 and "'Name'" in cleared.json()["Message"]
    bad_type = api.post("/v1.0/workgroups/update", {"WorkgroupId": wid, "Type": "ring"})
    assert bad_type.status_code == 400 and "'Type'" in bad_type.json()["Message"]
    assert api.workgroup(wid).json()["Name"] == "Support"


def test_hours_workgroup_references_must_exist(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    target = api.create_workgroup(Name="Target")["WorkgroupId"]
    for type_field, id_field in (("OffHoursType", "OffHoursId"), ("OnHoursType", "OnHoursId")):
        bad = api.post("/v1.0/workgroups", {"Name": "A", "Type": "IVR", type_field: "Workgroup",
                                            id_field: "WID-missing"})
        assert bad.status_code == 400 and f"'{id_field}'" in bad.json()["Message"]
        absent = api.post("/v1.0/workgroups", {"Name": "A", "Type": "IVR", type_field: "workgroup"})
        assert absent.status_code == 400 and f"'{id_field}'" in absent.json()["Message"]
        good = api.post("/v1.0/workgroups", {"Name": "A", "Type": "IVR", type_field: "workgroup",
                                             id_field: target})
        assert good.status_code == 200
    # A user ID is not checked: the docs define no user endpoint.
    assert api.post("/v1.0/workgroups", {"Name": "U", "Type": "IVR", "OffHoursType": "User",
                                         "OffHoursId": "USER-1"}).status_code == 200
    wid = api.create_workgroup(Name="B")["WorkgroupId"]
    bad_update = api.post("/v1.0/workgroups/update", {"WorkgroupId": wid, "OffHoursType": "Workgroup",
                                                       "OffHoursId": "WID-missing"})
    assert bad_update.status_code == 400 and "'OffHoursId'" in bad_update.json()["Message"]
    assert api.workgroup(wid).json()["OffHoursType"] is None
    assert len(api.summaries()) == 5  # Target, two good ones, U and B


def test_delete_by_query_string(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    response = api.post("/v1.0/workgroups/delete", params={"WorkgroupId": wid})
    assert response.status_code == 200
    assert response.json() == {"WorkgroupId": wid, "Successful": True}
    assert api.workgroup(wid).status_code == 404
    assert api.summaries() == []
    again = api.post("/v1.0/workgroups/delete", params={"WorkgroupId": wid})
    assert again.status_code == 404


def test_delete_tolerates_a_json_body(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    wid = api.create_workgroup()["WorkgroupId"]
    assert api.post("/v1.0/workgroups/delete", {"WorkgroupId": wid}).status_code == 200
    assert api.summaries() == []


def test_delete_errors(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    missing = api.post("/v1.0/workgroups/delete")
    assert missing.status_code == 400 and "WorkgroupId" in missing.json()["Message"]
    extra = api.post("/v1.0/workgroups/delete", {"WorkgroupId": "WID-1", "Force": True})
    assert extra.status_code == 400


def test_accounts_are_separate(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limit=0, accounts=(("DID-other", "other-secret"),))
    demo, other = Api(server), Api(server, key="DID-other", secret="other-secret")
    wid = demo.create_workgroup(Name="Mine")["WorkgroupId"]
    assert other.summaries() == []
    assert other.workgroup(wid).status_code == 404
    assert other.post("/v1.0/workgroups/update", {"WorkgroupId": wid, "Name": "x"}).status_code == 404
    assert other.post("/v1.0/workgroups/delete", params={"WorkgroupId": wid}).status_code == 404
    ref = other.post("/v1.0/workgroups", {"Name": "R", "Type": "IVR", "OffHoursType": "Workgroup",
                                          "OffHoursId": wid})
    assert ref.status_code == 400
    assert [s["Name"] for s in demo.summaries()] == ["Mine"]
