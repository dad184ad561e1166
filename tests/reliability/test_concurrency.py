"""Concurrency: 5 applies started at once on one state are serialised by the lock, the serial
only ever increases, and a reader polling the state file never sees a torn or invalid file."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from telegent_iac.state.records import State
from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures, verify, workgroup_names, write_config

RUNS = 5
PER_RUN = 10


def test_five_applies_at_once(start_sandbox: Any, tmp_path: Path, figures: Figures) -> None:
    server = start_sandbox(latency_ms=10, latency_jitter_ms=10, seed=7)
    state = tmp_path / "telegent.state.json"
    cli = Cli(subprocess_env(server), tmp_path)
    # Each run declares its own ten workgroups (the others' are kept, not deleted): every run
    # has work to do, so each one must write the state after the one before it.
    groups = [workgroup_names(PER_RUN, prefix=f"run{r}") for r in range(RUNS)]
    configs = [write_config(tmp_path / f"run{r}.yaml", g) for r, g in enumerate(groups)]

    snapshots: list[tuple[int, frozenset[str], str]] = []  # (serial, addresses, raw text)
    invalid: list[str] = []
    done = threading.Event()

    def poll() -> None:
        last = ""
        while not done.is_set():
            try:
                raw = state.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            if raw == last:
                continue
            last = raw
            try:
                parsed = State.from_dict(json.loads(raw))
            except Exception as exc:  # any torn or invalid file is the failure under test
                invalid.append(f"{type(exc).__name__}: {exc}: {raw[:200]!r}")
                continue
            addresses = frozenset(a for a, ws in parsed.workgroups.items() if ws.id)
            snapshots.append((parsed.serial, addresses, raw))

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    procs = [
        cli.start("apply", "--auto-approve", "--state", str(state), "--lock-timeout", "120", str(config),
                  log_dir=tmp_path, name=f"run{r}")
        for r, config in enumerate(configs)
    ]
    for p in procs:
        p.popen.wait(timeout=180)
    done.set()
    reader.join()

    for r, p in enumerate(procs):
        assert p.popen.returncode == 0, f"run {r}:\n{p.stderr()}"
        assert "Traceback" not in p.stderr()
    assert not invalid, invalid[:3]
    assert len(snapshots) > RUNS, "the reader saw too few versions to prove anything"

    serials = [s for s, _, _ in snapshots]
    assert serials == sorted(serials) and len(set(serials)) == len(serials), \
        f"serial not strictly increasing: {serials}"

    # Serialised: the runs' writes never interleave, so at every moment at most one run is
    # part-way (some but not all of its workgroups recorded).
    for serial, addresses, _ in snapshots:
        partial = [r for r, g in enumerate(groups) if 0 < len(addresses & set(g)) < len(g)]
        assert len(partial) <= 1, f"serial {serial}: runs {partial} are both part-way: their writes interleaved"
    assert all(set(g) <= snapshots[-1][1] for g in groups)

    declared = {a: n for g in groups for a, n in g.items()}
    verdict = verify(server, state, declared)
    figures.add(concurrency_runs=RUNS, concurrency_state_versions_read=len(snapshots),
                concurrency_torn_reads=len(invalid), concurrency_duplicates=verdict.duplicates,
                concurrency_ids_lost=verdict.lost)
    assert verdict.ok, verdict.problems
