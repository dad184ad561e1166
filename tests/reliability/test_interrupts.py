"""Interrupts: a first Ctrl-C (SIGINT) lets the calls in flight finish and record, starts
nothing new and exits 130; a second exits at once; the next run resolves every pending create
without a duplicate (issue 7, item 4)."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from telegent_iac import spec

from .conftest import Cli, Figures, cli_env, read_state, settle, verify, workgroup_names, write_config

LATENCY = 1.0  # seconds every request takes: long enough to tell in-flight from new
PARALLELISM = 4
WORKGROUPS = 20


def _timed_creates(server: Any) -> tuple[list[float], threading.Lock]:
    """Completion times (monotonic) of workgroup creates, from the sandbox's request hook."""
    times: list[float] = []
    lock = threading.Lock()

    def hook(entry: dict[str, Any]) -> None:
        if entry["method"] == "POST" and entry["path"] == spec.WORKGROUPS:
            with lock:
                times.append(time.monotonic())

    server._app._on_request = hook  # test-only observer on the in-process sandbox
    return times, lock


def _interrupt_mid_batch(start_sandbox: Any, tmp_path: Path) -> tuple[Any, ...]:
    """Start an apply and send SIGINT once a batch of creates is in flight (one batch has
    finished already, so the run is well inside the apply loop)."""
    server = start_sandbox(latency_ms=int(LATENCY * 1000))
    completed, lock = _timed_creates(server)
    declared = workgroup_names(WORKGROUPS)
    config = write_config(tmp_path / "workgroups.yaml", declared)
    state = tmp_path / "telegent.state.json"
    cli = Cli(cli_env(server), tmp_path)
    proc = cli.start("apply", "--auto-approve", "--parallelism", str(PARALLELISM), "--state", str(state),
                     str(config), log_dir=tmp_path, name="apply")
    proc.wait_for_stderr(": create complete", count=1)
    time.sleep(0.3)
    proc.popen.send_signal(signal.SIGINT)
    return server, completed, lock, declared, config, state, cli, proc


def test_first_interrupt_drains_then_exits_130(start_sandbox: Any, tmp_path: Path, figures: Figures) -> None:
    server, completed, lock, declared, config, state, cli, proc = _interrupt_mid_batch(start_sandbox, tmp_path)
    interrupted_at = time.monotonic()
    proc.popen.wait(timeout=30)
    stderr = proc.stderr()
    assert proc.popen.returncode == 130, stderr
    assert "Interrupt received" in stderr and "Traceback" not in stderr, stderr
    settle(server, LATENCY + 0.3)

    # Nothing new started: a create sent after the interrupt would complete a full LATENCY
    # after it; the batch in flight was sent ~0.3 s before it and completes ~0.7 s after.
    with lock:
        late = [t - interrupted_at for t in completed if t >= interrupted_at + 0.85 * LATENCY]
        total = len(completed)
    assert not late, f"creates started after the interrupt completed at +{late}s"
    assert 0 < total < WORKGROUPS
    # ...and the ones in flight finished and were recorded: no pending record, every live ID known.
    after = read_state(state)
    assert not after.pending(), after.pending()
    assert len([ws for ws in after.workgroups.values() if ws.id]) == total
    assert "Apply interrupted" in stderr

    server.control.set_faults(latency_ms=0)  # the slow part is over
    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    assert again.returncode == 0, again.stderr
    verdict = verify(server, state, declared)
    figures.add(interrupt_trials=1, interrupt_creates_in_flight=total, interrupt_duplicates=verdict.duplicates,
                interrupt_ids_lost=verdict.lost)
    assert verdict.ok, verdict.problems


def test_second_interrupt_exits_at_once_and_next_run_resolves(start_sandbox: Any, tmp_path: Path,
                                                              figures: Figures) -> None:
    server, completed, lock, declared, config, state, cli, proc = _interrupt_mid_batch(start_sandbox, tmp_path)
    proc.wait_for_stderr("Interrupt received", timeout=5)
    proc.popen.send_signal(signal.SIGINT)
    second_at = time.monotonic()
    proc.popen.wait(timeout=30)
    exited_after = time.monotonic() - second_at
    assert proc.popen.returncode == 130, proc.stderr()
    assert exited_after < LATENCY / 2, f"the second interrupt took {exited_after:.2f}s to stop the run"
    assert "Second interrupt" in proc.stderr()
    # The creates that were in flight were left pending (their answers never recorded).
    pending = read_state(state).pending()
    assert pending, "the creates in flight should have left pending records"
    settle(server, LATENCY + 0.3)  # ...and the server committed them after the client left

    server.control.set_faults(latency_ms=0)  # the slow part is over
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
    cli = Cli(cli_env(server), tmp)
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
        assert not read_state(state).pending(), context
    settle(server, 0.3)
    again = cli.run("apply", "--auto-approve", "--state", str(state), str(config))
    assert again.returncode == 0, f"{context}\nre-run:\n{again.stderr[-3000:]}"
    verdict = verify(server, state, declared)
    figures.add(interrupt_random_trials=1, interrupt_duplicates=verdict.duplicates, interrupt_ids_lost=verdict.lost)
    assert verdict.ok, f"{context}\n" + "\n".join(verdict.problems)


@pytest.mark.parametrize("trial", range(2))
def test_interrupt_at_random_moment(start_sandbox: Any, tmp_path: Path, rng: random.Random, figures: Figures,
                                    trial: int) -> None:
    interrupt_trial(start_sandbox, tmp_path, rng, figures)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(20))
def test_interrupt_at_random_moment_full(start_sandbox: Any, tmp_path: Path, rng: random.Random,
                                         figures: Figures, trial: int) -> None:
    interrupt_trial(start_sandbox, tmp_path, rng, figures)
