"""Interrupts: a first Ctrl-C (SIGINT) lets the calls in flight finish and record, starts
nothing new and exits 130; a second exits at once; the next run resolves every pending create
without a duplicate."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures, settle, stored_state, trial_seeds, verify, workgroup_names, write_config

PARALLELISM = 4
RANDOM_MOMENT_SEEDS = (5,)
WORKGROUPS = 20
# The interrupted runs get a request timeout far beyond any wait here: a create held at the
# gate must not time out on the client, whatever the machine's load.
HELD_TIMEOUT = {"TELEGENT_HTTP_TIMEOUT": "120"}


def _interrupt_mid_batch(start_sandbox: Any, create_gate: Any, tmp_path: Path) -> tuple[Any, ...]:
    """Start an apply and send SIGINT while its second batch of creates is held in flight on
    the server (the first batch went through, so the run is well inside the apply loop)."""
    server = start_sandbox()
    gate = create_gate(server, pass_first=PARALLELISM)
    declared = workgroup_names(WORKGROUPS)
    config = write_config(tmp_path / "workgroups.yaml", declared)
    state = tmp_path / "telegent.state.json"
    cli = Cli(subprocess_env(server), tmp_path)  # for the runs after it, with the usual timeout
    proc = Cli({**cli.env, **HELD_TIMEOUT}, tmp_path).start(
        "apply", "--auto-approve", "--parallelism", str(PARALLELISM), "--state", str(state), str(config),
        log_dir=tmp_path, name="apply")
    gate.wait("the second batch of creates in flight", lambda g: g.arrived == 2 * PARALLELISM)
    proc.popen.send_signal(signal.SIGINT)
    proc.wait_for_stderr("Interrupt received", timeout=120)
    return server, gate, declared, config, state, cli, proc


def test_first_interrupt_drains_then_exits_130(start_sandbox: Any, create_gate: Any, tmp_path: Path,
                                               figures: Figures) -> None:
    server, gate, declared, config, state, cli, proc = _interrupt_mid_batch(start_sandbox, create_gate, tmp_path)
    gate.release()  # the calls in flight answer now, after the interrupt
    proc.popen.wait(timeout=120)
    stderr = proc.stderr()
    assert proc.popen.returncode == 130, stderr
    assert "Interrupt received" in stderr and "Traceback" not in stderr, stderr
    assert "Apply interrupted" in stderr

    # Nothing new started: the only creates the server saw are the two batches sent before
    # the interrupt, and the held batch finished (it was drained, not abandoned).
    in_flight = 2 * PARALLELISM
    assert gate.arrived == in_flight, f"{gate.arrived - in_flight} creates were started after the interrupt"
    assert gate.completed == in_flight
    # ...and the ones in flight were recorded: no pending record, every live ID known.
    after = stored_state(state)
    assert not after.pending(), after.pending()
    assert len([ws for ws in after.workgroups.values() if ws.id]) == in_flight

    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    assert again.returncode == 0, again.stderr
    verdict = verify(server, state, declared)
    figures.add(interrupt_trials=1, interrupt_creates_in_flight=in_flight, interrupt_duplicates=verdict.duplicates,
                interrupt_ids_lost=verdict.lost)
    assert verdict.ok, verdict.problems


def test_second_interrupt_exits_at_once_and_next_run_resolves(start_sandbox: Any, create_gate: Any,
                                                              tmp_path: Path, figures: Figures) -> None:
    server, gate, declared, config, state, cli, proc = _interrupt_mid_batch(start_sandbox, create_gate, tmp_path)
    proc.popen.send_signal(signal.SIGINT)
    # The held creates never answer while the gate is shut: the run can only be gone because
    # the second interrupt stopped it without waiting for them.
    proc.popen.wait(timeout=120)
    assert proc.popen.returncode == 130, proc.stderr()
    assert "Second interrupt" in proc.stderr()
    assert gate.completed == PARALLELISM  # the held batch was still in flight when it exited
    # The creates that were in flight were left pending (their answers never recorded).
    pending = stored_state(state).pending()
    assert pending, "the creates in flight should have left pending records"
    gate.release()  # ...and the server commits them after the client left
    gate.wait("the held creates committed", lambda g: g.completed == g.arrived)

    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    assert again.returncode == 0, again.stderr
    assert "an interrupted create had succeeded" in again.stderr, again.stderr
    verdict = verify(server, state, declared)
    figures.add(interrupt_trials=1, interrupt_pending_resolved=len(pending), interrupt_duplicates=verdict.duplicates,
                interrupt_ids_lost=verdict.lost)
    assert verdict.ok, verdict.problems


def interrupt_trial(start_sandbox: Any, tmp: Path, rng: random.Random, figures: Figures) -> None:
    """One Ctrl-C at a random moment of a run, from taking the lock (planning, resolving,
    applying, finishing). Earlier, Python is still importing: its KeyboardInterrupt there
    changes nothing and is the interpreter's, not ours."""
    server = start_sandbox(latency_ms=30, latency_jitter_ms=30, seed=rng.randrange(2**32))
    declared = workgroup_names(100)
    config = write_config(tmp / "workgroups.yaml", declared)
    state = tmp / "telegent.state.json"
    cli = Cli(subprocess_env(server), tmp)
    proc = cli.start("apply", "--auto-approve", "--state", str(state), str(config), log_dir=tmp, name="apply")
    lock = Path(f"{state}.lock")
    while not lock.exists() and proc.popen.poll() is None:
        time.sleep(0.002)
    delay = rng.uniform(0.0, 2.2)
    time.sleep(delay)
    proc.popen.send_signal(signal.SIGINT)
    proc.popen.wait(timeout=60)
    stderr = proc.stderr()
    context = f"SIGINT {delay:.2f}s after the lock was taken: exit {proc.popen.returncode}\n{stderr[-3000:]}"
    # -SIGINT: the interrupt came after the run had finished, while Python was shutting down
    # with the default handler back (a shell shows it as 130 too).
    assert proc.popen.returncode in (0, 130, -signal.SIGINT), context
    assert "Traceback" not in stderr, context
    # Whenever the interrupt came, nothing was left half-done: no pending record.
    if state.exists():
        assert not stored_state(state).pending(), context
    settle(server, 0.3)
    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    assert again.returncode == 0, f"{context}\nre-run:\n{again.stderr[-3000:]}"
    verdict = verify(server, state, declared)
    figures.add(interrupt_random_trials=1, interrupt_duplicates=verdict.duplicates, interrupt_ids_lost=verdict.lost)
    assert verdict.ok, f"{context}\n" + "\n".join(verdict.problems)


@pytest.mark.parametrize("seed", trial_seeds(RANDOM_MOMENT_SEEDS))
def test_interrupt_at_random_moment(start_sandbox: Any, tmp_path: Path, rng: random.Random, figures: Figures,
                                    seed: int | None) -> None:
    interrupt_trial(start_sandbox, tmp_path, rng, figures)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(20))
def test_interrupt_at_random_moment_full(start_sandbox: Any, tmp_path: Path, rng: random.Random,
                                         figures: Figures, trial: int) -> None:
    interrupt_trial(start_sandbox, tmp_path, rng, figures)
