"""Child processes for the kill and concurrency tests: `python tests/support/store_workers.py CMD LOCATION ...`.

hold LOCATION           take the lock, print its ID, then sleep until killed
increment LOCATION N    N times: lock, read, add one to the counter, write; print each serial
"""

from __future__ import annotations

import sys
import time

from telegent_iac.state import State, open_store
from telegent_iac.state.records import WorkgroupState


def hold(location: str) -> None:
    store = open_store(location)
    with store.lock("apply") as info:
        print(info.id, flush=True)
        while True:
            time.sleep(60)


def increment(location: str, times: int) -> None:
    store = open_store(location)
    for _ in range(times):
        with store.lock("apply", timeout=120):
            state = store.read() or State.new()
            counter = state.workgroups.setdefault("counter", WorkgroupState(fields={"n": 0}))
            counter.fields["n"] = int(counter.fields["n"]) + 1
            store.write(state)
            print(state.serial, flush=True)


if __name__ == "__main__":
    command, location, *rest = sys.argv[1:]
    if command == "hold":
        hold(location)
    elif command == "increment":
        increment(location, int(rest[0]))
    else:
        raise SystemExit(f"unknown command {command}")
