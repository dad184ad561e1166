"""Tolerant decoding: envelopes, key case, list keys, read-side spellings, error shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from telegent_iac import spec
from telegent_iac.api import decode
from telegent_iac.api.failures import ApiError
from telegent_iac.model import workgroups as model
from telegent_iac.model.workgroups import LiveSummary

ITEMS = [
    {"WorkgroupId": "WID-1", "Name": "Support", "Type": "round-robin", "Active": True},
    {"WorkgroupId": "WG-abc123", "Name": "Sales", "Type": "ring", "Active": "true"},
    {"WorkgroupId": "opaque 7", "Name": "Menu", "Type": "ivr", "Active": ""},
]
EXPECTED = [
    LiveSummary("WID-1", "Support", "round-robin", True),
    LiveSummary("WG-abc123", "Sales", None, True),
    LiveSummary("opaque 7", "Menu", "IVR", None),
]


def recase(obj: Any, how: str) -> Any:
    if isinstance(obj, dict):
        def key(k: str) -> str:
            if how == "lower":
                return k[0].lower() + k[1:]
            if how == "upper-id":
                return k.replace("Id", "ID")
            return k
        return {key(k): recase(v, how) for k, v in obj.items()}
    if isinstance(obj, list):
        return [recase(v, how) for v in obj]
    return obj


@pytest.mark.parametrize("case", ["as-is", "lower", "upper-id"])
@pytest.mark.parametrize(
    "shape",
    [
        lambda items: {"Workgroups": items},
        lambda items: {"AccountID": "AID-1", "TotalWorkgroups": len(items), "Results": items},
        lambda items: {"Successful": True, "Data": {"Workgroups": items}},
        lambda items: {"successful": "True", "data": {"Results": items}},
        lambda items: {"Successful": True, "Data": items},
        lambda items: items,
    ],
    ids=["workgroups", "results", "envelope", "envelope-lower", "data-list", "bare-list"],
)
def test_every_list_dialect_decodes_the_same(shape: Any, case: str) -> None:
    body = recase(shape(ITEMS), case)
    assert decode.decode_summaries(body) == EXPECTED


def test_empty_lists() -> None:
    assert decode.decode_summaries({"Workgroups": []}) == []
    assert decode.decode_summaries({"Workgroups": None}) == []
    assert decode.decode_summaries({"AccountID": "A", "TotalWorkgroups": 0}) == []
    assert decode.decode_summaries({"Successful": True, "Data": {"Results": []}}) == []


@pytest.mark.parametrize("body", [None, "text", {}, {"Something": "else"}, {"Workgroups": "x"},
                                  {"Workgroups": [1, 2]}])
def test_unrecognised_lists_are_errors_not_empty(body: Any) -> None:
    # Reading an unknown shape as "no workgroups" would make a plan recreate everything.
    with pytest.raises(ApiError):
        decode.decode_summaries(body)


def test_listed_workgroup_without_id_is_an_error() -> None:
    with pytest.raises(ApiError, match="no WorkgroupId"):
        decode.decode_summaries({"Workgroups": [{"Name": "x"}]})


@pytest.mark.parametrize("body", [
    {"Successful": False, "Message": "account suspended"},
    {"successful": "false", "message": "account suspended"},
    {"Successful": True, "Data": {"Successful": False, "Error": "account suspended"}},
])
def test_successful_false_anywhere_is_an_error_with_the_message(body: Any) -> None:
    with pytest.raises(ApiError, match="account suspended"):
        decode.unwrap(body)


def test_workgroup_details_canonical_with_activities() -> None:
    body = {
        "Successful": True,
        "Data": {
            "workgroupID": "WG-1",
            "name": "Support",
            "type": "RoundRobin",
            "recordCalls": "True",
            "TranscribeRecordings": "",
            "AnnouncementText": "",
            "UnknownServerField": "x",
            "WorkgroupActivities": [
                {"WorkgroupActivityID": "WAID-1", "Type": "User", "DigitOrder": "1",
                 "PhoneNumber": "+15551230000", "SmsNotification": "false", "WorkgroupId": "WG-1"},
            ],
        },
    }
    got = decode.decode_workgroup(body, "WG-1")
    unsaid = got.pop("Unsaid")
    assert "TranscribeRecordings" not in unsaid and "AnnouncementText" not in unsaid  # said: unset
    assert "Name" not in unsaid and "CallerIdName" in unsaid  # not said at all: unknown
    assert got == {
        "Name": "Support",
        "Type": "round-robin",
        "RecordCalls": True,
        "Activities": [
            {"WorkgroupActivityId": "WAID-1", "Type": "User", "DigitOrder": 1,
             "PhoneNumber": "+15551230000", "SmsNotification": False,
             # not carried at all: unknown (a member field said null would be unset instead)
             "Unsaid": ["EmailNotification", "ReferenceUserId", "ReferenceWorkgroupId"]},
        ],
    }


@pytest.mark.parametrize("key", ["Activities", "members", "WORKGROUPACTIVITIES"])
def test_activity_keys(key: str) -> None:
    got = decode.decode_workgroup({"Name": "A", "Type": "IVR", key: [{"ActivityId": "A1", "Type": "User"}]})
    [activity] = got["Activities"]
    assert activity["WorkgroupActivityId"] == "A1" and activity["Type"] == "User"
    assert "Type" not in activity["Unsaid"] and "PhoneNumber" in activity["Unsaid"]


def test_workgroup_details_without_activities_leave_members_unknown() -> None:
    # No activity key at all: the server did not say, so the members are unknown, not none.
    got = decode.decode_workgroup({"Name": "A", "Type": "ring"})
    assert "Activities" not in got and not model.members_known(got)
    assert model.unsaid_fields(got) == set(spec.workgroup_fields()) - {"Name", "Type"}


@pytest.mark.parametrize("value", [[], None])
def test_workgroup_details_with_an_empty_or_null_activity_list_have_no_members(value: object) -> None:
    got = decode.decode_workgroup({"Name": "A", "Type": "IVR", "Activities": value})
    assert got["Activities"] == [] and model.members_known(got)


def test_workgroup_details_with_an_activity_list_that_is_not_a_list_are_refused() -> None:
    with pytest.raises(ApiError, match="activity list"):
        decode.decode_workgroup({"Name": "A", "Type": "IVR", "Activities": "none"})


def test_summaries_keep_what_the_list_said_apart_from_what_it_did_not() -> None:
    [full] = decode.decode_summaries({"Workgroups": [
        {"WorkgroupId": "W1", "Name": "A", "Type": "IVR", "Active": True, "CallerIdName": None,
         "AnnouncementText": "Hi"},
    ]})
    assert full.fields == {"Name": "A", "Type": "IVR", "AnnouncementText": "Hi"}
    assert {"Name", "Type", "CallerIdName", "AnnouncementText"} <= full.said
    assert "TimeZone" not in full.said


def test_workgroup_details_inside_a_list() -> None:
    body = {"Workgroups": [{"WorkgroupId": "W2", "Name": "B"}, {"WorkgroupId": "W1", "Name": "A"}]}
    assert decode.decode_workgroup(body, "W1")["Name"] == "A"


@pytest.mark.parametrize("body", [
    {"WorkgroupId": "WID-9", "Name": "x"},
    {"workgroupid": "WID-9"},
    {"Successful": True, "Data": {"WorkgroupID": "WID-9"}},
    {"Workgroup": {"WorkgroupId": "WID-9"}},
    {"WorkgroupId": 9},
])
def test_created_id_variants(body: Any) -> None:
    assert decode.decode_created_id(body, "WorkgroupId") in {"WID-9", "9"}


@pytest.mark.parametrize("body", [None, {}, {"Name": "x"}, {"WorkgroupId": ""}, "WID-1", {"WorkgroupId": True}])
def test_create_without_id_is_ambiguous(body: Any) -> None:
    with pytest.raises(ApiError) as info:
        decode.decode_created_id(body, "WorkgroupId")
    assert info.value.ambiguous


def test_create_successful_false_is_not_ambiguous() -> None:
    with pytest.raises(ApiError) as info:
        decode.decode_created_id({"Successful": False, "Message": "bad"}, "WorkgroupId")
    assert not info.value.ambiguous
    assert info.value.message == "bad"


@pytest.mark.parametrize(("text", "expected"), [
    (json.dumps({"StatusCode": 404, "Message": "Not found: WID-1"}), "Not found: WID-1"),
    (json.dumps({"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                 "title": "One or more validation errors occurred.",
                 "status": 400, "errors": {"Type": ["The Type field is required."]}}),
     "One or more validation errors occurred.; Type: The Type field is required."),
    ("plain text failure", "plain text failure"),
    (json.dumps("quoted"), "quoted"),
    ("", "HTTP 502"),
    (json.dumps({"Successful": False, "Data": {"Message": "inner"}}), "inner"),
])
def test_error_messages(text: str, expected: str) -> None:
    assert decode.error_message(text, 502) == expected


@pytest.mark.parametrize("body", [
    {"token": "t", "successful": True, "tokenExpiry": "05/02/2025 06:36:13 PM"},
    {"Token": "t", "Successful": True, "TokenExpiry": "05/02/2025 06:36:13 PM", "ApiEndpoint": "x"},
    {"Successful": True, "Data": {"token": "t", "tokenExpiry": "05/02/2025 06:36:13 PM"}},
])
def test_token_responses(body: Any) -> None:
    assert decode.decode_token(body) == ("t", "05/02/2025 06:36:13 PM", None)


def test_token_refused() -> None:
    token, _, error = decode.decode_token({"successful": False, "error": "Invalid AccountSecret"})
    assert token is None
    assert error == "Invalid AccountSecret"
    assert decode.decode_token({"successful": True})[2] == "token response has no token"
