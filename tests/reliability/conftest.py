"""Helpers for the reliability suites (issue 7): the real CLI in a subprocess against a real
sandbox served from the test process over loopback, and the checks every suite ends with.

The figures they count are tests/support/trials.py's.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from telegent_iac import spec
from telegent_iac.api.client import TelegentClient
from telegent_iac.state.file import FileStateStore
from telegent_iac.state.records import State
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxOptions, SandboxServer

REPO = Path(__file__).resolve().parents[2]

# --- seeds ---------------------------------------------------------------------------------------


def trial_seeds(fixed: Sequence[int]) -> list[Any]:
    """Parameters for a fast randomised trial: each fixed seed (the same every run, so CI
    always covers them), plus one trial with a new seed derived from the run's base seed."""
    return [pytest.param(s, id=f"seed{s}") for s in fixed] + [pytest.param(None, id="new-seed")]


def derived_seed(base: int, nodeid: str) -> int:
    """A trial's seed from the run's base seed and its test ID: a run replays exactly with the
    same base seed, and every trial of it gets its own."""
    return int.from_bytes(hashlib.sha256(f"{base}:{nodeid}".encode()).digest()[:4], "big")


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    props = dict(item.user_properties)
    if report.failed and "seed" in props:
        base = props.get("base seed")
        replay = f"python -m pytest '{item.nodeid}'" + (f" --reliability-seed {base}" if base is not None else "")
        report.sections.append(("reliability seed", f"trial seed {props['seed']}; replay: {replay}"))


# --- configuration files -----------------------------------------------------------------------


def workgroup_names(n: int, prefix: str = "wg") -> dict[str, str]:
    """address -> Name for n workgroups."""
    return {f"{prefix}-{i:03d}": f"Reliability {prefix} {i:03d}" for i in range(n)}


def write_config(path: Path, names: dict[str, str], kind: str = "simultaneous") -> Path:
    lines = ["workgroups:"]
    for address, name in names.items():
        lines += [f"  {address}:", f"    Name: {name}", f"    Type: {kind}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the CLI in a subprocess ---------------------------------------------------------------------


@dataclass
class Cli:
    """`python -m telegent_iac ...` with the sandbox's URL and credentials in its environment."""

    env: dict[str, str]
    cwd: Path

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "telegent_iac", *args]

    def run(self, *args: str, timeout: float = 120.0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), env={**self.env, **(env or {})}, cwd=self.cwd,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, *args: str, log_dir: Path, name: str) -> Proc:
        out, errf = log_dir / f"{name}.out", log_dir / f"{name}.err"
        with out.open("wb") as o, errf.open("wb") as e:
            popen = subprocess.Popen(self.command(*args), env=self.env, cwd=self.cwd, stdout=o, stderr=e)
        return Proc(popen, out, errf)


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def wait_for_stderr(self, text: str, count: int = 1, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stderr().count(text) < count:
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r} x{count} on stderr:\n{self.stderr()}")
            time.sleep(0.01)


def cli_env(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGENT_")}
    env.update(
        TELEGENT_API_URL=server.url,
        TELEGENT_ACCOUNT_KEY=key,
        TELEGENT_ACCOUNT_SECRET=secret,
        TELEGENT_RATE_LIMIT="0",  # the sandboxes here run without a limit: pacing is tested elsewhere
        # Latencies here stay under a second: a short request timeout keeps the wait for an
        # interrupted create that may still be in flight (workflow.resolve_interrupted) short.
        TELEGENT_HTTP_TIMEOUT="4",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def start_sandbox() -> Iterator[Any]:
    servers: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        options = {"db": ":memory:", "rate_limit": 0, **overrides}
        server = SandboxServer(SandboxOptions(**options)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


# --- the checks ------------------------------------------------------------------------------------


def settle(server: SandboxServer, seconds: float) -> None:
    """Let requests a killed client left on the server finish (the server commits a create
    whose client died; a real pipeline's next run starts long after that): at least `seconds`
    (a request still in the socket buffer has not reached the server yet), then until the
    server is idle, however long a loaded machine makes that."""
    time.sleep(seconds)
    assert server.wait_idle(timeout=120.0), "the sandbox still serves requests after 120 s"


class CreateGate:
    """Holds workgroup creates inside the in-process sandbox until `release()`, after letting
    the first `pass_first` through, and counts them: the tests wait on these events instead of
    guessing how long a loaded machine takes. A test-only wrapper around the real handler."""

    def __init__(self, server: SandboxServer, pass_first: int = 0) -> None:
        self.arrived = 0
        self.completed = 0
        self._pass_first = pass_first
        self._changed = threading.Condition()
        self._open = threading.Event()
        app = server._app  # noqa: SLF001 - the in-process sandbox's request pipeline
        assert app is not None, "start the sandbox first"
        handle = app.handle

        def gated(request: Any) -> Any:
            if not (request.method == "POST" and urlsplit(request.target).path == spec.WORKGROUPS):
                return handle(request)
            with self._changed:
                self.arrived += 1
                held = self.arrived > self._pass_first
                self._changed.notify_all()
            if held:
                self._open.wait(timeout=300.0)
            try:
                return handle(request)
            finally:
                with self._changed:
                    self.completed += 1
                    self._changed.notify_all()

        app.handle = gated  # type: ignore[method-assign]

    def release(self) -> None:
        self._open.set()

    def wait(self, what: str, predicate: Callable[[CreateGate], bool], timeout: float = 120.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self), timeout=timeout):
                raise AssertionError(f"never saw {what} (creates arrived {self.arrived}, completed {self.completed})")


@pytest.fixture
def create_gate(start_sandbox: Any) -> Iterator[Callable[..., CreateGate]]:
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


def live_names(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET) -> dict[str, str]:
    """WorkgroupId -> Name of every workgroup in the account (faults switched off first)."""
    server.control.set_faults(error_rate=0.0, latency_ms=0, latency_jitter_ms=0, drop_creates=())
    with TelegentClient(server.url, key, secret, rate_limit=0) as client:
        return {s.workgroup_id: s.name for s in client.list_workgroups()}


@dataclass
class Verdict:
    duplicates: int  # extra live copies of declared Names
    lost: int  # live workgroups with a declared Name whose ID the state does not hold
    missing: int  # declared addresses with no ID in the state
    pending: int  # unresolved pending records left in the state
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(server: SandboxServer, state_path: Path, declared: dict[str, str], key: str = DEMO_ACCOUNT_KEY,
           secret: str = DEMO_ACCOUNT_SECRET) -> Verdict:
    """Every declared Name exists exactly once in the account, the state holds its ID under
    the right address, and no pending record remains."""
    live = live_names(server, key, secret)
    state = read_state(state_path)
    by_name: dict[str, list[str]] = {}
    for wid, name in live.items():
        by_name.setdefault(name, []).append(wid)
    problems: list[str] = []
    duplicates = sum(max(0, len(by_name.get(n, [])) - 1) for n in declared.values())
    state_ids = {ws.id for ws in state.workgroups.values() if ws.id}
    lost = sum(1 for n in declared.values() for wid in by_name.get(n, []) if wid not in state_ids)
    missing = 0
    for address, name in declared.items():
        copies = by_name.get(name, [])
        if len(copies) != 1:
            problems.append(f"{name!r} exists {len(copies)} times in the account")
        ws = state.workgroups.get(address)
        if ws is None or not ws.id:
            missing += 1
            problems.append(f"{address} has no ID in the state")
        elif live.get(ws.id) != name:
            problems.append(f"{address} holds {ws.id}, which is not the live {name!r}")
    pending = len(state.pending())
    if pending:
        problems.append(f"pending records left: {state.pending()}")
    if lost:
        problems.append(f"{lost} live workgroups with declared Names are not in the state")
    strays = sorted(n for n in by_name if n not in set(declared.values()))
    if strays:
        problems.append(f"workgroups nobody declared: {strays[:5]}")
    return Verdict(duplicates, lost, missing, pending, problems)


def read_state(state_path: Path) -> State:
    """The state as every reader sees it: the state file with its journal replayed."""
    state = FileStateStore(state_path).read()
    assert state is not None, f"no state at {state_path}"
    return state


def statuses(server: SandboxServer, path: str | None = None) -> Counter[int | None]:
    return Counter(r["status"] for r in server.control.requests() if path is None or r["path"] == path)


def apply_until_converged(cli: Cli, args: Sequence[str], attempts: int) -> list[subprocess.CompletedProcess[str]]:
    runs: list[subprocess.CompletedProcess[str]] = []
    for _ in range(attempts):
        result = cli.run("apply", "--auto-approve", *args)
        runs.append(result)
        assert "Traceback" not in result.stderr, result.stderr
        if result.returncode == 0:
            break
    return runs
