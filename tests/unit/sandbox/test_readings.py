"""The readings of the docs the sandbox offers (docs/sandbox.md, "Dialects"): what each one
changes on the wire, and that the default is unchanged by the others."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from telegent_iac import spec
from telegent_sandbox import SandboxOptions
from telegent_sandbox.options import EXAMPLE_DETAIL_FIELDS
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory

ACTIVITY = "/v1.0/workgroups/activity"


def _account(factory: SandboxFactory, **options: Any) -> tuple[Api, str]:
    api = Api(factory(rate_limit=0, **options))
    wid = api.create_workgroup(Name="Sales", Type="simultaneous", AnnouncementText="Hi",
                               AccountId="AID-1")["WorkgroupId"]
    assert api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "User", "PhoneNumber": "+14155550100"}).status_code == 200
    return api, wid


def test_detail_full_carries_every_field_and_the_activities(sandbox_factory: SandboxFactory) -> None:
    api, wid = _account(sandbox_factory)
    detail = api.workgroup(wid).json()
    assert set(spec.workgroup_fields()) <= set(detail) and detail["CallerIdName"] is None
    assert [a["PhoneNumber"] for a in detail["Activities"]] == ["+14155550100"]


def test_detail_without_activities_has_no_activity_key_at_all(sandbox_factory: SandboxFactory) -> None:
    api, wid = _account(sandbox_factory, detail="no-activities")
    detail = api.workgroup(wid).json()
    assert "Activities" not in detail and detail["AnnouncementText"] == "Hi"


def test_detail_example_carries_only_the_documented_example_fields(sandbox_factory: SandboxFactory) -> None:
    api, wid = _account(sandbox_factory, detail="example")
    assert set(api.workgroup(wid).json()) == set(EXAMPLE_DETAIL_FIELDS)


def test_list_fields_full_carries_whole_records(sandbox_factory: SandboxFactory) -> None:
    api, wid = _account(sandbox_factory, list_fields="full")
    [entry] = api.summaries()
    assert entry["WorkgroupId"] == wid and entry["AnnouncementText"] == "Hi" and entry["Active"] is True
    assert "Activities" not in entry
    summary_api, _ = _account(sandbox_factory)
    assert set(summary_api.summaries()[0]) == {"WorkgroupId", "Name", "Type", "Active"}


@pytest.mark.parametrize("status", [401, 403])
def test_a_token_for_another_endpoint_gets_the_chosen_status(sandbox_factory: SandboxFactory, status: int) -> None:
    api, wid = _account(sandbox_factory, wrong_scope_status=status)
    wrong = api.get("/v1.0/workgroups", params={"WorkgroupId": wid}, token=api.token("/v1.0/account/workgroups"))
    assert wrong.status_code == status and "ApiEndpoint" in wrong.json()["Message"]
    invalid = api.get("/v1.0/workgroups", params={"WorkgroupId": wid}, token="not-a-token")
    assert invalid.status_code == 401  # only a live token of another scope is affected


def test_account_id_echoed_or_omitted(sandbox_factory: SandboxFactory) -> None:
    api, wid = _account(sandbox_factory)
    assert api.workgroup(wid).json()["AccountId"] == "AID-1"
    omit, omitted = _account(sandbox_factory, account_id="omit")
    assert "AccountId" not in omit.workgroup(omitted).json()
    created = omit.create_workgroup(Name="B", AccountId="AID-1")
    assert "AccountId" not in created


def test_a_dropped_activity_create_is_committed(sandbox_factory: SandboxFactory) -> None:
    api, wid = _account(sandbox_factory, drop_activity_creates=(2,))
    with pytest.raises(httpx.TransportError):  # the connection closes without a response
        api.post(ACTIVITY, {"WorkgroupId": wid, "Type": "User", "PhoneNumber": "+14155550101"})
    snapshot = api.server.control.snapshot()
    assert [a["PhoneNumber"] for a in snapshot[wid]["Activities"]] == ["+14155550100", "+14155550101"]


def test_bad_reading_values_are_refused() -> None:
    for bad in ({"detail": "some"}, {"list_fields": "all"}, {"wrong_scope_status": 402}, {"account_id": "x"}):
        with pytest.raises(ValueError):
            SandboxOptions(**bad)  # type: ignore[arg-type]
