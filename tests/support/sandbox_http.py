"""Raw HTTP to a sandbox: a plain client, tokens, and what its request log holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx

from telegent_sandbox.options import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET
from telegent_sandbox.server import SandboxServer

SandboxFactory = Callable[..., SandboxServer]

_shared: httpx.Client | None = None


def _client() -> httpx.Client:
    """One shared plain-HTTP client: building an httpx client with TLS set up costs ~40 ms."""
    global _shared
    if _shared is None:
        _shared = http_client()
    return _shared


def http_client(base_url: str = "", **kw: object) -> httpx.Client:
    """An httpx client for a loopback sandbox: no TLS setup, no proxy settings from the env."""
    return httpx.Client(base_url=base_url, verify=False, trust_env=False, **kw)  # type: ignore[arg-type]


def get_token(server: SandboxServer, path: str, *, key: str = DEMO_ACCOUNT_KEY,
              secret: str = DEMO_ACCOUNT_SECRET) -> str:
    """A token for `path` (e.g. "/v1.0/workgroups") on `server`, for the demo account by default."""
    response = _client().post(
        f"{server.url}/v1.0/oauth2/tokens",
        json={"AccountKey": key, "AccountSecret": secret, "ApiEndpoint": f"{server.url}{path}"},
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def statuses(server: SandboxServer, path: str | None = None) -> Counter[int | None]:
    """How many responses of each status the sandbox's request log holds (of `path` only, if given)."""
    return Counter(r["status"] for r in server.control.requests() if path is None or r["path"] == path)
