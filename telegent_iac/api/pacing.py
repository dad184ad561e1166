"""Client-side pacing: at most `limit` requests in any rolling window, shared by all threads.

Why this is safe against a server that counts requests by the time it *receives* them:
every request holds a slot from just before it is sent until its response completes (or
fails); the slot is then stamped with that completion time and kept for one window plus a
margin. A new request may start only while fewer than `limit` slots are in flight or
stamped within the window. For any earlier request, the server received it no later than
we saw it complete, and it receives the new request no earlier than we send it; so any
`limit` requests the server has seen in the last window are all still counted here, and it
never sees `limit + 1` in one window. The limiter bursts up to the limit and then admits a
new request as soon as the oldest stamp ages out, so a long run goes as fast as allowed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """A rolling-window limiter of requests, counting in-flight ones; thread-safe.

    `limit` 0 disables pacing. `clock` and `sleep` can be injected so tests run without real
    time: with an injected `sleep`, a thread that must wait calls `sleep(seconds)` (which a
    fake clock implements by advancing itself) instead of waiting on a condition variable.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        margin: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        poll: float = 0.05,
    ) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.limit = limit
        self.window = window
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._poll = poll
        self._cond = threading.Condition()
        self._in_flight = 0
        # Completion times, appended under the lock from the same clock: non-decreasing.
        self._stamps: deque[float] = deque()
        self.waited = 0.0  # total seconds callers spent waiting (for benchmarks)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def _expire(self, now: float) -> None:
        horizon = now - self.window - self.margin
        while self._stamps and self._stamps[0] <= horizon:
            self._stamps.popleft()

    def _try_take(self) -> tuple[bool, float | None]:
        """Under the lock: (True, 0) after taking a slot, else (False, how long to wait;
        None meaning until some in-flight request completes)."""
        now = self._clock()
        self._expire(now)
        if self._in_flight + len(self._stamps) < self.limit:
            self._in_flight += 1
            return True, 0.0
        if self._stamps:
            return False, max(self._stamps[0] + self.window + self.margin - now, 1e-6)
        return False, None

    def acquire(self) -> None:
        """Block until a request may be sent; the caller must call `release()` once after its
        response completed or failed."""
        if not self.enabled:
            return
        started = self._clock()
        while True:
            with self._cond:
                taken, delay = self._try_take()
                if taken:
                    self.waited += self._clock() - started
                    return
                if self._sleep is None:
                    # A release notifies; otherwise wake when the oldest stamp ages out.
                    self._cond.wait(delay)
                    continue
            self._sleep(self._poll if delay is None else delay)

    def release(self) -> None:
        """Stamp one in-flight slot with the time its response completed (or failed)."""
        if not self.enabled:
            return
        with self._cond:
            if self._in_flight <= 0:
                raise RuntimeError("release() without acquire()")
            self._in_flight -= 1
            self._stamps.append(self._clock())
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def snapshot(self) -> tuple[int, int]:
        """(in flight, stamped within the window) - for tests and diagnostics."""
        with self._cond:
            self._expire(self._clock())
            return self._in_flight, len(self._stamps)
