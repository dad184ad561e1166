"""Shared fixtures: a real sandbox on an ephemeral loopback port (never a mock).

Also the suite-wide rules: in CI (`CI` set, as `.ci/run` does) a skipped test is a failure,
because a skip there means something the suite should have checked went unchecked; and the
Hypothesis profiles, so property tests behave the same on a loaded machine as on an idle one.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from telegent_iac.safety import secrets
from telegent_sandbox import SandboxOptions, SandboxServer
from tests.support.sandbox_http import SandboxFactory
from tests.support.trials import FIGURES, Figures, report_figures


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# Hypothesis: no deadline and no timing health checks (a busy machine makes both fire on
# correct code); the ci profile is derandomized so a CI run replays the same examples.
_TIMING_CHECKS = [HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large]
settings.register_profile("dev", deadline=None, suppress_health_check=_TIMING_CHECKS, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev"))


# The reliability trials' seeds (the rng fixture, tests/reliability/conftest.py) derive from one base seed per
# run: --reliability-seed, else TELEGENT_RELIABILITY_SEED, else a new one, printed at the end.
# It goes into the environment so pytest-xdist workers, started later, use the same one.
SEED_ENV = "TELEGENT_RELIABILITY_SEED"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--reliability-seed", type=int, default=None, metavar="N",
                     help="base seed of the randomised reliability trials (replays a run; default: a new one)")


def pytest_configure(config: pytest.Config) -> None:
    seed = config.getoption("--reliability-seed")
    if seed is None:
        seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    os.environ[SEED_ENV] = str(seed)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report_figures(terminalreporter)
    seed = os.environ.get(SEED_ENV)
    terminalreporter.write_line(f"reliability trials seeded from {seed} (replay: --reliability-seed {seed})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    props = dict(item.user_properties)
    if report.failed and "seed" in props:  # a seeded trial: its seed and how to replay it
        base = props.get("base seed")
        replay = f"python -m pytest '{item.nodeid}'" + (f" --reliability-seed {base}" if base is not None else "")
        report.sections.append(("reliability seed", f"trial seed {props['seed']}; replay: {replay}"))
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.fixture(scope="session")
def figures() -> Figures:
    """The session's reliability figures (a trial adds what it counted)."""
    return FIGURES


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


@pytest.fixture(autouse=True)
def _no_secret_from_another_test() -> Iterator[None]:
    """Known secrets are process-wide (a run is one process); a test runs as its own run, so a
    credential another test used (say "secret") is not redacted from this test's output."""
    secrets.forget_all()
    yield
    secrets.forget_all()
