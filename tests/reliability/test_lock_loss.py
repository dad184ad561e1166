"""A run that loses its lock mid-apply starts nothing new, lets the calls in flight finish and
record, and exits 1; the next run converges without a duplicate. PostgreSQL: the lock's
session is ended with pg_terminate_backend (as force-unlock or a database restart would).
File: the lock is removed with force-unlock."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from telegent_iac.state import open_store
from tests.support.cli import Cli, subprocess_env
from tests.support.stores import PG_DSN, needs_pg, pg_location
from tests.support.trials import live_by_id, stored_state, workgroup_names, write_config


@pytest.mark.postgres
@needs_pg
def test_losing_the_postgres_lock_mid_apply_stops_new_calls(tmp_path: Path, start_sandbox: Any) -> None:
    import psycopg

    server = start_sandbox(latency_ms=300)
    declared = workgroup_names(20, "lockloss")
    config = write_config(tmp_path / "wg.yaml", declared)
    workspace = f"lockloss-{uuid.uuid4().hex}"
    location = pg_location(workspace)
    cli = Cli(subprocess_env(server), tmp_path)
    proc = cli.start("apply", "--auto-approve", "--parallelism", "2", "--state", location, str(config),
                     log_dir=tmp_path, name="apply")
    try:
        proc.wait_for_stderr("create complete", count=2, timeout=120)
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            row = conn.execute("SELECT backend_pid FROM telegent_lock_info WHERE workspace = %s",
                               (workspace,)).fetchone()
            assert row is not None
            assert conn.execute("SELECT pg_terminate_backend(%s)", (row[0],)).fetchone()[0]
        rc = proc.popen.wait(timeout=120)
    finally:
        if proc.popen.poll() is None:
            proc.popen.kill()
            proc.popen.wait()
    err = proc.stderr()
    assert rc == 1, err
    assert "Traceback" not in err, err
    assert "the state lock was lost: the database session holding the lock on" in err, err
    assert "Started nothing new" in err

    # Everything that reached the account is in the state, nothing is left pending, and the
    # run stopped before doing all 20.
    live = live_by_id(server)
    state = open_store(location).read()
    assert state is not None and not state.pending(), state and state.pending()
    recorded = {ws.id for ws in state.workgroups.values() if ws.id}
    assert set(live) <= recorded
    assert 2 <= len(live) < len(declared)

    again = cli.run("apply", "--auto-approve", "--state", location, str(config))
    assert again.returncode == 0, again.stderr
    live = live_by_id(server)
    assert sorted(live.values()) == sorted(declared.values())  # each Name exactly once


def test_a_force_unlocked_file_lock_mid_apply_stops_new_calls(tmp_path: Path, start_sandbox: Any) -> None:
    server = start_sandbox(latency_ms=300)
    # Enough work that force-unlock (a process of its own, slow to start on a busy machine)
    # lands while the apply still has creates to start.
    declared = workgroup_names(80, "unlocked")
    config = write_config(tmp_path / "wg.yaml", declared)
    state = tmp_path / "state" / "s.json"
    cli = Cli(subprocess_env(server), tmp_path)
    proc = cli.start("apply", "--auto-approve", "--parallelism", "2", "--state", str(state), str(config),
                     log_dir=tmp_path, name="apply")
    try:
        proc.wait_for_stderr("create complete", count=2, timeout=120)
        lock_id = json.loads(Path(f"{state}.lock").read_text())["id"]
        unlocked = cli.run("force-unlock", "--state", str(state), lock_id)
        assert unlocked.returncode == 0, unlocked.stderr
        rc = proc.popen.wait(timeout=120)
    finally:
        if proc.popen.poll() is None:
            proc.popen.kill()
            proc.popen.wait()
    err = proc.stderr()
    assert rc == 1 and "Traceback" not in err, err
    assert f"the state lock was lost: the lock file {state}.lock no longer holds this run's lock" in err, err
    live = live_by_id(server)
    recorded = stored_state(state)
    assert not recorded.pending() and set(live) <= {ws.id for ws in recorded.workgroups.values()}
    assert 2 <= len(live) < len(declared)
    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    assert again.returncode == 0, again.stderr
    assert sorted(live_by_id(server).values()) == sorted(declared.values())
