"""RateLimiter: R slots per rolling window, in-flight counting, completion stamping."""

from __future__ import annotations

import threading
import time

import pytest

from telegent_iac.api.pacing import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(limit: int, clock: FakeClock, margin: float = 0.25) -> RateLimiter:
    return RateLimiter(limit, 60.0, margin=margin, clock=clock, sleep=clock.sleep)


def test_bursts_up_to_the_limit_without_waiting() -> None:
    clock = FakeClock()
    limiter = make(5, clock)
    for _ in range(5):
        limiter.acquire()
        limiter.release()
    assert clock.sleeps == []
    assert limiter.snapshot() == (0, 5)


def test_next_request_waits_for_oldest_completion_plus_window_and_margin() -> None:
    clock = FakeClock()
    limiter = make(3, clock)
    completions = []
    for _ in range(3):
        limiter.acquire()
        clock.now += 2.0  # response latency: the stamp is the completion time
        limiter.release()
        completions.append(clock.now)
    limiter.acquire()
    assert clock.now == pytest.approx(completions[0] + 60.25)
    limiter.release()


def test_in_flight_requests_count_against_the_limit() -> None:
    clock = FakeClock()
    limiter = make(2, clock)
    limiter.acquire()
    limiter.acquire()
    assert limiter.snapshot() == (2, 0)
    # Nothing stamped: a third caller can only poll until one completes.
    released = []

    def sleep_then_release(seconds: float) -> None:
        clock.sleep(seconds)
        if not released:
            released.append(clock.now)
            clock.now += 5.0
            limiter.release()

    limiter._sleep = sleep_then_release  # noqa: SLF001 - drive the wait from the test
    limiter.acquire()
    # The released slot is stamped at completion, so the third request still waits a window.
    assert clock.now >= released[0] + 5.0 + 60.25
    assert limiter.snapshot() == (2, 0)


def test_window_never_holds_more_than_limit_by_server_receive_time() -> None:
    """Simulate a server that counts receive times; the limiter must keep it <= R."""
    clock = FakeClock()
    limit = 4
    limiter = make(limit, clock, margin=0.0)
    received: list[float] = []
    for i in range(25):
        limiter.acquire()
        clock.now += 0.1 * (i % 3)  # request travel time: the server sees it later
        received.append(clock.now)
        clock.now += 0.3  # server work + response travel
        limiter.release()
    for t in received:
        in_window = [r for r in received if t - 60.0 < r <= t]
        assert len(in_window) <= limit


def test_throughput_is_close_to_the_limit() -> None:
    clock = FakeClock()
    limiter = make(10, clock)
    start = clock.now
    for _ in range(50):
        limiter.acquire()
        clock.now += 0.05
        limiter.release()
    # 50 requests at 10/min: 4 further windows of 60.25 s plus latency drift.
    assert clock.now - start <= 1.05 * 50 / 10 * 60


def test_zero_limit_disables_pacing() -> None:
    clock = FakeClock()
    limiter = make(0, clock)
    for _ in range(1000):
        limiter.acquire()
        limiter.release()
    assert clock.sleeps == []
    assert not limiter.enabled


def test_release_without_acquire_is_a_bug() -> None:
    limiter = RateLimiter(1)
    with pytest.raises(RuntimeError):
        limiter.release()


def test_threads_share_the_limit_in_real_time() -> None:
    """8 threads, limit 5 per 0.25 s window: no window ever holds more than 5 sends
    measured from send to completion, and the work still finishes promptly."""
    window = 0.25
    limiter = RateLimiter(5, window, margin=0.01)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            with limiter.slot():
                sent = time.monotonic()
                time.sleep(0.01)
                done = time.monotonic()
            with lock:
                spans.append((sent, done))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert len(spans) == 24
    # Worst case for a server: each request received as late as its completion. For every
    # send time s, requests completed in (s - window, s] plus this one must be <= 5.
    for sent, _ in spans:
        overlapping = [1 for s2, d2 in spans if s2 <= sent and d2 > sent - window]
        assert len(overlapping) <= 5
    # 24 requests at 5 per window need 4 more windows after the first burst.
    assert elapsed < 5 * (window + 0.1) + 1.0
