"""A call that must end: run in a thread and waited for with a generous timeout, so a test of
"never blocks" fails with a message instead of hanging the suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def bounded(fn: Callable[[], Any], timeout: float = 60.0) -> BaseException | None:
    """Run fn in a thread; the exception it raised (None if none). Fails if it does not end:
    a FIFO in the wrong place must never hang a run."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert outcome, f"{fn} did not finish within {timeout}s (blocked?)"
    return outcome[0]


def bounded_raise(fn: Callable[[], Any]) -> None:
    exc = bounded(fn)
    if exc is not None:
        raise exc
