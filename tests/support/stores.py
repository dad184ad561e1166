"""State stores for the tests: where a PostgreSQL state lives (when TELEGENT_TEST_PG_DSN is
set), a sample state, child processes that hold the lock or race on it (store_workers.py),
and lock records as another run would leave them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from telegent_iac.state import FileStateStore, State, StateStore
from telegent_iac.state.records import PendingCreate, WorkgroupState
from telegent_iac.state.store import boot_id, pid_namespace
from tests.support import REPO

PG_DSN = os.environ.get("TELEGENT_TEST_PG_DSN", "")
needs_pg = pytest.mark.skipif(
    not PG_DSN, reason='TELEGENT_TEST_PG_DSN is not set (start a server with: eval "$(bash .ci/postgres.sh)")'
)

StoreFactory = Callable[[], StateStore]


def pg_location(workspace: str) -> str:
    return f"{PG_DSN}{'&' if '?' in PG_DSN else '?'}workspace={workspace}"


def sample_state() -> State:
    state = State.new()
    state.workgroups["main-menu"] = WorkgroupState(
        id="101", fields={"Name": "Main menu", "Type": "Ivr", "Enabled": True, "RingTimeout": 30}
    )
    state.workgroups["sales"] = WorkgroupState(
        fields={"Name": "Sales", "Type": "RoundRobin"},
        pending_create=PendingCreate(name="Sales", type="RoundRobin", started_at="2026-01-01T00:00:00.000000Z"),
    )
    return state


WORKERS = str(Path(__file__).with_name("store_workers.py"))


def worker(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, WORKERS, *args], stdout=subprocess.PIPE, text=True, env=env, cwd=str(REPO))


def dead_pid() -> int:
    """A pid that existed on this host and is gone (started and reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_lock(store: FileStateStore, pid: int, host: str | None = None, lock_id: str = "old-lock",
               **where: str) -> None:
    """A lock record as a run on this host, boot and pid namespace writes it (`where`
    overrides boot_id / pid_ns; an empty value leaves the field out, as older versions did)."""
    info = {
        "id": lock_id,
        "pid": pid,
        "host": host or socket.gethostname(),
        "user": "ci",
        "operation": "apply",
        "created": "2026-01-01T00:00:00.000000Z",
        "boot_id": boot_id(),
        "pid_ns": pid_namespace(),
    }
    info.update(where)
    info = {k: v for k, v in info.items() if v != ""}
    store.lock_path.parent.mkdir(parents=True, exist_ok=True)
    store.lock_path.write_text(json.dumps(info))
