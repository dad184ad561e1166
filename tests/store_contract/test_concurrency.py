"""Several processes on one state: serialised by the lock, no lost update, no torn file."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from telegent_iac.state import open_store
from tests.support.stores import needs_pg, pg_location, worker


def run_incrementers(location: str, processes: int, times: int) -> list[int]:
    procs = [worker("increment", location, str(times)) for _ in range(processes)]
    serials: list[int] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0
        serials.extend(int(line) for line in out.split())
    return serials


def check_counter(location: str, total: int, serials: list[int]) -> None:
    # Every write got its own serial, all of them in sequence: the lock serialised them.
    assert sorted(serials) == list(range(1, total + 1))
    final = open_store(location).read()
    assert final is not None
    assert final.workgroups["counter"].fields["n"] == total  # no lost update
    assert final.serial == total


def test_five_processes_on_one_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "telegent.state.json"
    seen: list[int] = []
    problems: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        # A reader never sees a torn or invalid file, and the serial never goes back.
        while not stop.is_set():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            try:
                serial = json.loads(data)["serial"]
            except (ValueError, KeyError) as exc:
                problems.append(f"{exc}: {data[:80]!r}")
                continue
            if seen and serial < seen[-1]:
                problems.append(f"serial went back from {seen[-1]} to {serial}")
            seen.append(serial)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        serials = run_incrementers(str(path), processes=5, times=20)
    finally:
        stop.set()
        reader.join()
    check_counter(str(path), 100, serials)
    assert problems == []
    assert len(seen) > 10  # the reader really raced the writers
    assert not Path(f"{path}.lock").exists()


@pytest.mark.postgres
@needs_pg
def test_ten_processes_on_one_postgres_state() -> None:
    location = pg_location(f"concurrency-{time.time_ns()}")
    serials = run_incrementers(location, processes=10, times=10)
    check_counter(location, 100, serials)
