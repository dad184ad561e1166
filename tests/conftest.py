"""Shared fixtures: a real sandbox on an ephemeral loopback port (never a mock)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from telegent_iac.sandbox import SandboxOptions, SandboxServer
from telegent_iac.sandbox.testing import SandboxFactory, get_token

__all__ = ["SandboxFactory", "get_token", "sandbox", "sandbox_factory"]


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
