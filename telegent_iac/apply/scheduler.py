"""Running an apply's steps in dependency order, `parallelism` at a time.

A step starts once every step it depends on has succeeded. After a failure, a stop request
(the first Ctrl-C) or a lost lock nothing new starts, and the steps in flight finish (and
record their outcome) before the run returns.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from telegent_iac.apply.events import Tally


@dataclass
class Step:
    id: str
    label: str  # "create", "update", "delete", "member create", ...
    address: str
    run: Callable[[], str | None]  # returns the resulting ID, if any
    member: str | None = None
    deps: set[str] = field(default_factory=set)
    counts_as: Tally | None = None  # None: a change of its workgroup

    @property
    def what(self) -> str:
        return self.address + (f" member {self.member}" if self.member else "")


@dataclass
class Outcome:
    completed: int = 0  # steps finished, successfully or not
    interrupted: bool = False  # stopped on request with steps left
    stuck: list[str] = field(default_factory=list)  # steps that could never start (a planner bug)


def run_steps(
    steps: list[Step],
    *,
    parallelism: int,
    stop: threading.Event,
    failed: Callable[[], bool],
    may_start: Callable[[Collection[Step]], bool],
    on_start: Callable[[Step, int], None],
    on_done: Callable[[Step, str | None, float, int], None],
    on_error: Callable[[Step, Exception, int], None],
) -> Outcome:
    """Run `steps`. `failed()` says whether the run has failed (nothing new starts then);
    `may_start(running)` is asked before each start (False: start nothing new, e.g. the lock
    was lost). The callbacks get the number of steps completed so far."""
    outcome = Outcome()
    by_id = {s.id: s for s in steps}
    waiting_on = {s.id: set(s.deps) for s in steps}
    dependents: dict[str, list[str]] = {s.id: [] for s in steps}
    for s in steps:
        for d in s.deps:
            dependents[d].append(s.id)
    ready = deque(s.id for s in steps if not waiting_on[s.id])
    running: dict[Future[tuple[str | None, float]], Step] = {}
    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="apply") as pool:
        while ready or running:
            while ready and len(running) < parallelism and not failed() and not stop.is_set():
                if not may_start(running.values()):
                    break
                step = by_id[ready.popleft()]
                on_start(step, outcome.completed)
                running[pool.submit(_timed, step)] = step
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED, timeout=0.5)
            for future in done:
                step = running.pop(future)
                outcome.completed += 1
                try:
                    resource_id, seconds = future.result()
                except Exception as exc:  # any failure stops new work; what succeeded is kept
                    on_error(step, exc, outcome.completed)
                    continue
                on_done(step, resource_id, seconds, outcome.completed)
                for d in dependents[step.id]:
                    waiting_on[d].discard(step.id)
                    if not waiting_on[d]:
                        ready.append(d)
    if stop.is_set() and (ready or any(waiting_on[s] for s in waiting_on)):
        outcome.interrupted = True
    elif not failed() and outcome.completed < len(steps):
        outcome.stuck = sorted(s for s, deps in waiting_on.items() if deps)
    return outcome


def _timed(step: Step) -> tuple[str | None, float]:
    started = time.monotonic()
    resource_id = step.run()
    return resource_id, time.monotonic() - started
