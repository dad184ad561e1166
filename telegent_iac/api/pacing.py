"""Client-side pacing: at most `limit` requests in any rolling window, shared by all threads.

Why this is safe against a server that counts requests by the time it *receives* them:
every request holds a slot from just before it is sent until its response completes (or
fails); the slot is then stamped with that completion time and kept for one window plus a
margin. A new request may start only while fewer than `limit` slots are in flight or
stamped within the window. For any earlier request, the server received it no later than
we saw it complete, and it receives the new request no earlier than we send it; so any
`limit` requests the server has seen in the last window are all still counted here, and it
never sees `limit + 1` in one window.

Telegent documents a per-minute limit but not the window it counts in; a server counting the
same average rate in a shorter window (20 per 10 s instead of 120 per minute) would refuse a
burst of the whole minute's allowance. So on top of the rolling window, requests start
evenly spaced, `spacing = window / limit` apart (plus SPACING_SLACK for the jitter between
sending and the server receiving), after a burst of at most `burst` requests. The burst is
borrowed from the schedule, not added to it: for any two starts `i < j` at least `burst`
apart in sequence, `start_j >= start_i + (j - i) * spacing`. So any span of time holds at
most max(burst, span / spacing + 1) starts, which every window whose allowance is at least
`burst` admits, whatever its length. Idle time earns the burst back, one request per
spacing. A 429 shows the server counts differently from what we assumed: from then on
(`throttled()`) the burst is one, pure even spacing.

How: `a_j = max(a_(j-1) + spacing, start_j)` is the time request j would have started at on
an even schedule that never ran ahead of it; `a_i + (j - i) * spacing` bounds every earlier
start i from above, so requiring `start_j >= a_(j-burst) + burst * spacing` gives the
property above with only the last `burst` values of `a` kept.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DEFAULT_BURST = 5  # TELEGENT_RATE_BURST: fits a 10 s window at the standard 50 a minute
SPACING_SLACK = 0.01  # spacing is 1% above window / limit: tolerates receive-time jitter


class RateLimiter:
    """A rolling-window limiter of requests, counting in-flight ones; thread-safe.

    `limit` 0 disables pacing. `burst` is how many requests may start at once (at most
    `limit`) before the even spacing applies. `clock` and `sleep` can be injected so tests run without real
    time: with an injected `sleep`, a thread that must wait calls `sleep(seconds)` (which a
    fake clock implements by advancing itself) instead of waiting on a condition variable.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        margin: float = 0.25,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        poll: float = 0.05,
    ) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        if burst < 1:
            raise ValueError("burst must be >= 1")
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
        self.burst = min(burst, limit) if limit else burst
        self.spacing = window / limit * (1.0 + SPACING_SLACK) if limit else 0.0
        # a_j of the last `burst` starts (see the module docstring).
        self._schedule: deque[float] = deque(maxlen=self.burst)
        self.throttled_seen = False
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
        if self._in_flight + len(self._stamps) >= self.limit:
            if self._stamps:
                return False, max(self._stamps[0] + self.window + self.margin - now, 1e-6)
            return False, None
        if len(self._schedule) == self.burst:
            earliest = self._schedule[0] + self.burst * self.spacing
            if now < earliest - 1e-9:  # float-tolerant: the schedule is a sum of spacings
                return False, earliest - now
        self._schedule.append(max(self._schedule[-1] + self.spacing, now) if self._schedule else now)
        self._in_flight += 1
        return True, 0.0

    def acquire(self, on_long_wait: Callable[[float], None] | None = None, notice: float = 5.0) -> None:
        """Block until a request may be sent; the caller must call `release()` once after its
        response completed or failed. `on_long_wait(seconds)` is called once if the wait is
        going to last (or has lasted) more than `notice` seconds."""
        if not self.enabled:
            return
        started = self._clock()
        told = on_long_wait is None
        while True:
            with self._cond:
                taken, delay = self._try_take()
                if taken:
                    self.waited += self._clock() - started
                    return
                expected = self._clock() - started + (delay or 0.0)
                tell = not told and expected > notice
                if self._sleep is None and not tell:
                    # A release notifies; otherwise wake when the oldest stamp ages out.
                    self._cond.wait(delay)
                    continue
            if tell and on_long_wait is not None:  # outside the lock: it may write to a slow terminal
                on_long_wait(expected)
                told = True
                continue  # look again before waiting
            assert self._sleep is not None  # without one, the condition variable waited above
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

    def throttled(self) -> None:
        """A 429 came back: the server's window is not what we paced for. No more bursts in
        this run (a burst of one is pure even spacing)."""
        with self._cond:
            self.throttled_seen = True
            self.burst = 1
            self._schedule = deque(list(self._schedule)[-1:], maxlen=1)

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
