"""Shared fixtures: a real sandbox on an ephemeral loopback port (never a mock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from telegent_iac.sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxOptions, SandboxServer

SandboxFactory = Callable[..., SandboxServer]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox: in-memory db, no rate limit, every other option at its default."""
    with SandboxServer(SandboxOptions(db=":memory:", rate_limit=0)) as server:
        yield server


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """`sandbox_factory(**SandboxOptions overrides)` -> a started server; all stopped at teardown.
    Unless overridden, db is ":memory:" and rate_limit keeps its default (50)."""
    servers: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        server = SandboxServer(SandboxOptions(**overrides)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


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
