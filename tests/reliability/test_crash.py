"""Crash suite: an apply of 100 workgroups killed with SIGKILL at a random moment, then a
normal apply. Afterwards every declared Name exists exactly once in the account, every ID is
in the state and no pending record is left.

The default run does a few trials; `pytest -m slow tests/reliability` does 30 more.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures, settle, stored_state, trial_seeds, verify, workgroup_names, write_config

WORKGROUPS = 100
LATENCY_MS = 30
JITTER_MS = 30
# Seed 2: parallelism 1, the kill 2.16 s in; seed 10: parallelism 4, 0.99 s in (mid-creates).
FAST_SEEDS = (2, 10)


def crash_trial(start_sandbox: Any, tmp: Path, rng: random.Random, figures: Figures, trial: str) -> None:
    server = start_sandbox(latency_ms=LATENCY_MS, latency_jitter_ms=JITTER_MS, seed=rng.randrange(2**32))
    declared = workgroup_names(WORKGROUPS)
    config = write_config(tmp / "workgroups.yaml", declared)
    state = tmp / "state" / "telegent.state.json"
    cli = Cli(subprocess_env(server), tmp)
    parallelism = rng.choice([1, 4, 8])
    args = ("apply", "--auto-approve", "--state", str(state), "--parallelism", str(parallelism), str(config))
    proc = cli.start(*args, log_dir=tmp, name="killed")
    # Start-up takes ~0.3 s, then the creates about WORKGROUPS x mean latency / parallelism:
    # the kill lands anywhere from before the first create to just after the last.
    creating = WORKGROUPS * (LATENCY_MS + JITTER_MS / 2) / 1000 / parallelism
    delay = rng.uniform(0.3, 0.5 + 1.1 * creating)
    time.sleep(delay)
    proc.popen.send_signal(signal.SIGKILL)
    proc.popen.wait()
    killed_mid_run = proc.popen.returncode == -signal.SIGKILL
    pending_left = len(stored_state(state).pending()) if state.exists() else 0
    settle(server, (LATENCY_MS + JITTER_MS) / 1000 + 0.2)

    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    context = (f"{trial}: killed after {delay:.2f}s (mid-run: {killed_mid_run}, pending records "
               f"left: {pending_left})\nkilled run stderr tail:\n{proc.stderr()[-1500:]}\n"
               f"re-run exit {again.returncode}, stderr:\n{again.stderr[-3000:]}")
    assert again.returncode == 0, context
    assert "Traceback" not in again.stderr, context
    verdict = verify(server, state, declared)
    figures.add(crash_trials=1, crash_killed_while_running=int(killed_mid_run),
                crash_killed_with_create_in_flight=int(pending_left > 0), crash_pending_at_kill=pending_left,
                crash_duplicates=verdict.duplicates, crash_ids_lost=verdict.lost)
    assert verdict.ok, f"{context}\n" + "\n".join(verdict.problems)
    # And the account is now exactly as declared: the plan after it is empty.
    plan = cli.run("plan", "--detailed-exitcode", "--state", str(state), str(config))
    assert plan.returncode == 0, f"{context}\n{plan.stdout}\n{plan.stderr}"


@pytest.mark.parametrize("seed", trial_seeds(FAST_SEEDS))
def test_crash_then_apply_fast(start_sandbox: Any, tmp_path: Path, rng: random.Random, figures: Figures,
                               seed: int | None) -> None:
    crash_trial(start_sandbox, tmp_path, rng, figures, f"seed {seed}" if seed is not None else "new seed")


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(30))
def test_crash_then_apply_full(start_sandbox: Any, tmp_path: Path, rng: random.Random, figures: Figures,
                               trial: int) -> None:
    crash_trial(start_sandbox, tmp_path, rng, figures, f"trial {trial}")
