"""Ctrl-C during an apply: the first lets the calls in flight finish and record (nothing new
starts), the second stops at once (the next run resolves any unfinished create)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from telegent_iac.errors import EXIT_INTERRUPTED


@contextlib.contextmanager
def two_stage_interrupt(notify: Callable[[str], None]) -> Iterator[threading.Event]:
    """Yields the event a first SIGINT sets (the apply's stop request). Only the main thread
    can take signals: elsewhere the event is never set by one."""
    stop = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():
            notify("\nSecond interrupt: stopping now. The next run resolves any unfinished create.")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        notify("\nInterrupt received: letting calls in flight finish and record; starting nothing new. "
               "Press Ctrl-C again to stop at once.")

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main else None
    try:
        yield stop
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
