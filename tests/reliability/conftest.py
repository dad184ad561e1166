"""Fixtures of the reliability suites: seeded trials, sandboxes without a rate limit, and
gates that hold creates. The real CLI runs in a child process (tests/support/cli.py); the
trials' helpers and figures are tests/support/trials.py's."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from telegent_sandbox import SandboxServer
from tests.support.sandbox_http import SandboxFactory
from tests.support.trials import CreateGate, derived_seed


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """The trial's seeded generator: its `seed` parameter when fixed, else derived from the
    run's base seed (--reliability-seed, tests/conftest.py). A failing trial's report names
    both and the command that replays it."""
    base = int(os.environ["TELEGENT_RELIABILITY_SEED"])
    callspec = getattr(request.node, "callspec", None)
    fixed = callspec.params.get("seed") if callspec is not None else None
    seed = fixed if isinstance(fixed, int) else derived_seed(base, request.node.nodeid)
    request.node.user_properties.append(("seed", seed))
    request.node.user_properties.append(("base seed", None if isinstance(fixed, int) else base))
    return random.Random(seed)


@pytest.fixture
def start_sandbox(sandbox_factory: SandboxFactory) -> SandboxFactory:
    """`sandbox_factory` without a rate limit unless a trial sets one (pacing is tested elsewhere)."""

    def make(**overrides: Any) -> SandboxServer:
        return sandbox_factory(**{"db": ":memory:", "rate_limit": 0, **overrides})

    return make


@pytest.fixture
def create_gate(start_sandbox: SandboxFactory) -> Iterator[Callable[..., CreateGate]]:
    """`create_gate(server, pass_first=0)` -> a CreateGate; every gate is released at teardown,
    so no sandbox thread stays parked (set up after start_sandbox, so released before the
    sandboxes stop)."""
    gates: list[CreateGate] = []

    def make(server: SandboxServer, pass_first: int = 0) -> CreateGate:
        gate = CreateGate(server, pass_first)
        gates.append(gate)
        return gate

    yield make
    for gate in gates:
        gate.release()
