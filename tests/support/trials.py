"""The reliability trials' pieces: seeds, configurations of many workgroups, a gate that
holds creates inside the sandbox, the check every trial ends with (`verify`), and the figures
they count (trials, faults injected, duplicates found, IDs lost): one tally per session,
printed at the end of the run (tests/conftest.py); docs/reliability.md quotes the last full run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from telegent_iac import spec
from telegent_iac.state.file import FileStateStore
from telegent_iac.state.records import State
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from tests.support.cli import Cli, console


@dataclass
class Figures:
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(self, **counts: int) -> None:
        self.counts.update(counts)


FIGURES = Figures()


def report_figures(terminalreporter: Any) -> None:
    if not FIGURES.counts:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(FIGURES.counts.items()):
        terminalreporter.write_line(f"{name}: {value}")
    for note in FIGURES.notes:
        terminalreporter.write_line(note)
    out = os.environ.get("TELEGENT_RELIABILITY_REPORT")
    if out:
        report = {**FIGURES.counts, "reliability_seed": int(os.environ["TELEGENT_RELIABILITY_SEED"])}
        Path(out).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")

# --- seeds ------------------------------------------------------------------------------------------


def trial_seeds(fixed: Sequence[int]) -> list[Any]:
    """Parameters for a fast randomised trial: each fixed seed (the same every run, so CI
    always covers them), plus one trial with a new seed derived from the run's base seed."""
    return [pytest.param(s, id=f"seed{s}") for s in fixed] + [pytest.param(None, id="new-seed")]


def derived_seed(base: int, nodeid: str) -> int:
    """A trial's seed from the run's base seed and its test ID: a run replays exactly with the
    same base seed, and every trial of it gets its own."""
    return int.from_bytes(hashlib.sha256(f"{base}:{nodeid}".encode()).digest()[:4], "big")


# --- configuration files ----------------------------------------------------------------------------


def workgroup_names(n: int, prefix: str = "wg") -> dict[str, str]:
    """address -> Name for n workgroups."""
    return {f"{prefix}-{i:03d}": f"Reliability {prefix} {i:03d}" for i in range(n)}


def write_config(path: Path, names: dict[str, str], kind: str = "simultaneous") -> Path:
    lines = ["workgroups:"]
    for address, name in names.items():
        lines += [f"  {address}:", f"    Name: {name}", f"    Type: {kind}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- while a trial runs -----------------------------------------------------------------------------


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


def apply_until_converged(cli: Cli, args: Sequence[str], attempts: int) -> list[subprocess.CompletedProcess[str]]:
    runs: list[subprocess.CompletedProcess[str]] = []
    for _ in range(attempts):
        result = cli.run("apply", "--auto-approve", *args)
        runs.append(result)
        assert "Traceback" not in result.stderr, result.stderr
        if result.returncode == 0:
            break
    return runs


# --- the checks -------------------------------------------------------------------------------------


def live_by_id(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET) -> dict[str, str]:
    """WorkgroupId -> Name of every workgroup in the account (faults switched off first)."""
    server.control.set_faults(error_rate=0.0, latency_ms=0, latency_jitter_ms=0, drop_creates=())
    with console(server, key, secret) as client:
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
    live = live_by_id(server, key, secret)
    state = stored_state(state_path)
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


def stored_state(state_path: Path) -> State:
    """The state as every reader sees it: the state file with its journal replayed."""
    state = FileStateStore(state_path).read()
    assert state is not None, f"no state at {state_path}"
    return state
