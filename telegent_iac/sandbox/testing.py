"""Helpers for tests that talk to a sandbox (re-exported by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from telegent_iac.sandbox.options import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET
from telegent_iac.sandbox.server import SandboxServer

SandboxFactory = Callable[..., SandboxServer]


def get_token(server: SandboxServer, path: str, *, key: str = DEMO_ACCOUNT_KEY,
              secret: str = DEMO_ACCOUNT_SECRET) -> str:
    """A token for `path` (e.g. "/v1.0/workgroups") on `server`, for the demo account by default."""
    response = httpx.post(
        f"{server.url}/v1.0/oauth2/tokens",
        json={"AccountKey": key, "AccountSecret": secret, "ApiEndpoint": f"{server.url}{path}"},
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token
