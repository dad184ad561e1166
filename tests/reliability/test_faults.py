"""Fault suite: 5xx on 20% of requests, 5 create responses dropped after commit, latency
jitter. Apply, re-run while it fails (bounded), and it converges with zero duplicates and a
correct state."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures, apply_until_converged, trial_seeds, verify, workgroup_names, write_config

MAX_RUNS = 10
FAST_SEEDS = (7,)


def fault_run(start_sandbox: Any, tmp: Path, rng: random.Random, figures: Figures, workgroups: int) -> None:
    drops = sorted(rng.sample(range(1, workgroups + 1), 5))
    server = start_sandbox(error_rate=0.2, drop_creates=tuple(drops), latency_ms=2, latency_jitter_ms=40,
                           seed=rng.randrange(2**32))
    declared = workgroup_names(workgroups)
    config = write_config(tmp / "workgroups.yaml", declared)
    state = tmp / "telegent.state.json"
    cli = Cli(subprocess_env(server), tmp)
    runs = apply_until_converged(cli, ["--state", str(state), "--parallelism", "4", str(config)], MAX_RUNS)
    log = server.control.requests()
    injected = sum(1 for r in log if r["status"] in (500, 503, 504))
    dropped = sum(1 for r in log if r["status"] is None)
    context = f"drops at creates {drops}; {len(runs)} runs; last stderr:\n{runs[-1].stderr[-3000:]}"
    assert runs[-1].returncode == 0, context
    verdict = verify(server, state, declared)
    figures.add(fault_runs=1, fault_applies=len(runs), fault_5xx_injected=injected, fault_creates_dropped=dropped,
                fault_requests=len(log), fault_duplicates=verdict.duplicates, fault_ids_lost=verdict.lost)
    assert dropped == 5, context
    assert injected > 0
    assert verdict.ok, context + "\n" + "\n".join(verdict.problems)


@pytest.mark.parametrize("seed", trial_seeds(FAST_SEEDS))
def test_faults_converge(start_sandbox: Any, tmp_path: Path, rng: random.Random, figures: Figures,
                         seed: int | None) -> None:
    fault_run(start_sandbox, tmp_path, rng, figures, 100)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(5))
def test_faults_converge_full(start_sandbox: Any, tmp_path: Path, rng: random.Random, figures: Figures,
                              trial: int) -> None:
    fault_run(start_sandbox, tmp_path, rng, figures, 100)
