"""A PostgreSQL run that loses its lock mid-apply (its lock session ended with
pg_terminate_backend, as force-unlock or a database restart would) starts nothing new, lets
the calls in flight finish and record, and exits 1; the next run converges without a
duplicate."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from telegent_iac.state import open_store
from tests.state.conftest import PG_DSN, needs_pg, pg_location

from .conftest import Cli, cli_env, live_names, workgroup_names, write_config


@pytest.mark.postgres
@needs_pg
def test_losing_the_postgres_lock_mid_apply_stops_new_calls(tmp_path: Path, start_sandbox: Any) -> None:
    import psycopg

    server = start_sandbox(latency_ms=300)
    declared = workgroup_names(20, "lockloss")
    config = write_config(tmp_path / "wg.yaml", declared)
    workspace = f"lockloss-{uuid.uuid4().hex}"
    location = pg_location(workspace)
    cli = Cli(cli_env(server), tmp_path)
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
    live = live_names(server)
    state = open_store(location).read()
    assert state is not None and not state.pending(), state and state.pending()
    recorded = {ws.id for ws in state.workgroups.values() if ws.id}
    assert set(live) <= recorded
    assert 2 <= len(live) < len(declared)

    again = cli.run("apply", "--auto-approve", "--state", location, str(config))
    assert again.returncode == 0, again.stderr
    live = live_names(server)
    assert sorted(live.values()) == sorted(declared.values())  # each Name exactly once
