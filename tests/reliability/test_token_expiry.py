"""Token expiry: with a sandbox token TTL of 2 s, an apply that takes well over 6 s keeps
going on fresh tokens."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from telegent_iac import spec
from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures, verify, workgroup_names, write_config


def test_long_apply_outlives_many_tokens(start_sandbox: Any, tmp_path: Path, figures: Figures) -> None:
    server = start_sandbox(token_ttl=2.0, latency_ms=250, log_bodies=True)
    declared = workgroup_names(22)
    config = write_config(tmp_path / "workgroups.yaml", declared)
    state = tmp_path / "telegent.state.json"
    cli = Cli(subprocess_env(server), tmp_path)
    started = time.monotonic()
    result = cli.run("apply", "--auto-approve", "--parallelism", "1", "--state", str(state), str(config))
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr

    log = server.control.requests()
    scopes = Counter(r["body"]["ApiEndpoint"].removeprefix(server.url) for r in log if r["path"] == spec.TOKENS)
    refused = sum(1 for r in log if r["status"] == 401)
    # The creates alone span more than three token lifetimes, so at least three tokens for them.
    assert scopes[spec.WORKGROUPS] >= 3, scopes
    verdict = verify(server, state, declared)
    figures.add(token_apply_seconds=round(took), token_fetches=sum(scopes.values()), token_401s=refused,
                token_duplicates=verdict.duplicates)
    assert verdict.ok, verdict.problems
