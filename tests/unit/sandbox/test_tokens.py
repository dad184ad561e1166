"""Tokens: shape, validation, credentials, per-endpoint scope and expiry."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx

from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from telegent_sandbox.token_issuer import endpoint_scope, format_expiry
from tests.support.sandbox_api import Api
from tests.support.sandbox_http import SandboxFactory, get_token, http_client

TOKENS = "/v1.0/oauth2/tokens"

HTTP = http_client()


def _token_request(server: SandboxServer, path: str = TOKENS, **body: str) -> httpx.Response:
    payload = {"AccountKey": DEMO_ACCOUNT_KEY, "AccountSecret": DEMO_ACCOUNT_SECRET,
               "ApiEndpoint": f"{server.url}/v1.0/workgroups", **body}
    return HTTP.post(server.url + path, json={k: v for k, v in payload.items() if v is not None})


def test_token_response_shape_and_expiry(sandbox: SandboxServer) -> None:
    before = time.time()
    response = _token_request(sandbox)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "successful", "tokenExpiry"}
    assert body["successful"] is True and len(body["token"]) >= 32
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d (AM|PM)", body["tokenExpiry"])
    expiry = datetime.strptime(body["tokenExpiry"], "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=UTC)
    assert before + 300 - 2 <= expiry.timestamp() <= time.time() + 300 + 1


def test_tokens_are_random(sandbox: SandboxServer) -> None:
    assert _token_request(sandbox).json()["token"] != _token_request(sandbox).json()["token"]


def test_expiry_format_is_12_hour_utc() -> None:
    assert format_expiry(1746210973) == "05/02/2025 06:36:13 PM"  # the documented example pair
    assert format_expiry(1746144000) == "05/02/2025 12:00:00 AM"
    assert format_expiry(1746187200) == "05/02/2025 12:00:00 PM"


def test_token_path_is_case_insensitive(sandbox: SandboxServer) -> None:
    assert _token_request(sandbox, "/v1.0/OAuth2/tokens").status_code == 200


def test_missing_api_endpoint_is_400(sandbox: SandboxServer) -> None:
    response = HTTP.post(f"{sandbox.url}{TOKENS}",
                          json={"AccountKey": DEMO_ACCOUNT_KEY, "AccountSecret": DEMO_ACCOUNT_SECRET})
    assert response.status_code == 400
    assert response.json() == {"StatusCode": 400, "Message": "The ApiEndpoint field is required."}
    assert _token_request(sandbox, ApiEndpoint="").status_code == 400


def test_missing_key_and_unknown_field_are_400(sandbox: SandboxServer) -> None:
    response = HTTP.post(f"{sandbox.url}{TOKENS}", json={"AccountSecret": "x", "ApiEndpoint": "/v1.0/x"})
    assert response.json()["Message"] == "The AccountKey field is required."
    response = _token_request(sandbox, Scope="all")
    assert response.status_code == 400 and "unknown field 'Scope'" in response.json()["Message"]
    response = HTTP.post(f"{sandbox.url}{TOKENS}", content=b"{not json")
    assert response.status_code == 400


def test_bad_credentials_are_401(sandbox: SandboxServer) -> None:
    wrong_secret = _token_request(sandbox, AccountSecret="nope")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["StatusCode"] == 401
    assert _token_request(sandbox, AccountKey="DID-nobody").status_code == 401


def test_extra_accounts_get_tokens(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(accounts=(("DID-other", "other-secret"),))
    assert _token_request(server, AccountKey="DID-other", AccountSecret="other-secret").status_code == 200
    assert _token_request(server, AccountKey="DID-other", AccountSecret=DEMO_ACCOUNT_SECRET).status_code == 401


def _list(server: SandboxServer, token: str | None, path: str = "/v1.0/account/workgroups") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return HTTP.get(server.url + path, headers=headers)


def test_token_is_scoped_to_its_endpoint_path(sandbox: SandboxServer) -> None:
    list_token = get_token(sandbox, "/v1.0/account/workgroups")
    assert _list(sandbox, list_token).status_code == 200
    other = get_token(sandbox, "/v1.0/workgroups")
    refused = _list(sandbox, other)
    assert refused.status_code == 401
    assert refused.json()["StatusCode"] == 401 and "endpoint" in refused.json()["Message"]
    # A token for one path is no good for a longer path that starts with it either.
    update = HTTP.post(f"{sandbox.url}/v1.0/workgroups/update", json={"WorkgroupId": "WID-x"},
                        headers={"Authorization": f"Bearer {other}"})
    assert update.status_code == 401


def test_scope_ignores_scheme_host_port_query_and_case(sandbox: SandboxServer) -> None:
    response = _token_request(
        sandbox, ApiEndpoint="https://api.telegent.com:443/V1.0/Account/Workgroups/?x=1")
    token = response.json()["token"]
    assert _list(sandbox, token).status_code == 200
    assert _list(sandbox, token, "/v1.0/ACCOUNT/workgroups").status_code == 200


def test_get_and_post_on_one_path_share_a_token(sandbox: SandboxServer) -> None:
    api = Api(sandbox)
    token = api.token("/v1.0/workgroups")
    created = api.post("/v1.0/workgroups", {"Name": "A", "Type": "IVR"}, token=token)
    read = api.get("/v1.0/workgroups", params={"WorkgroupId": created.json()["WorkgroupId"]}, token=token)
    assert read.status_code == 200


def test_missing_or_garbage_token_is_401(sandbox: SandboxServer) -> None:
    assert _list(sandbox, None).status_code == 401
    assert _list(sandbox, "not-a-token").status_code == 401
    token = get_token(sandbox, "/v1.0/account/workgroups")
    basic = HTTP.get(f"{sandbox.url}/v1.0/account/workgroups", headers={"Authorization": f"Basic {token}"})
    assert basic.status_code == 401
    assert basic.headers["WWW-Authenticate"] == "Bearer"


def test_token_expires_after_ttl(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(token_ttl=2.0, rate_limit=0)  # room to use it on a busy machine
    token = get_token(server, "/v1.0/account/workgroups")
    assert _list(server, token).status_code == 200
    time.sleep(2.2)
    expired = _list(server, token)
    assert expired.status_code == 401 and "expired" in expired.json()["Message"]
    assert _list(server, get_token(server, "/v1.0/account/workgroups")).status_code == 200


def test_token_ttl_can_change_at_run_time(sandbox: SandboxServer) -> None:
    sandbox.control.set_config(token_ttl=0.3)
    token = get_token(sandbox, "/v1.0/account/workgroups")
    time.sleep(0.5)
    assert _list(sandbox, token).status_code == 401


def test_endpoint_scope() -> None:
    assert endpoint_scope("https://api.telegent.com/v1.0/Workgroups?WorkgroupId=1") == "/v1.0/workgroups"
    assert endpoint_scope("/v1.0/workgroups/") == "/v1.0/workgroups"
    assert endpoint_scope("https://api.telegent.com") == "/"
