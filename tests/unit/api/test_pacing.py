"""RateLimiter: R slots per rolling window, in-flight counting, completion stamping."""

from __future__ import annotations

import random
import threading
import time

import pytest

from telegent_iac.api.pacing import RateLimiter
from tests.support.clock import FakeClock


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


def test_a_completed_request_counts_for_the_window_plus_the_margin() -> None:
    clock = FakeClock()
    limiter = make(3, clock)
    completions = []
    for _ in range(3):
        limiter.acquire()
        clock.now += 2.0
        limiter.release()
        completions.append(clock.now)
    clock.now = completions[0] + 60.1  # past the window, not past the margin
    limiter.acquire()
    assert clock.sleeps, "a request started inside the safety margin"
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
    measured from send to completion (how long the waits are is tested on a fake clock)."""
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
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(spans) == 24
    # Worst case for a server: each request received as late as its completion. For every
    # send time s, requests completed in (s - window, s] plus this one must be <= 5.
    for sent, _ in spans:
        overlapping = [1 for s2, d2 in spans if s2 <= sent and d2 > sent - window]
        assert len(overlapping) <= 5


# --- burst, then even spacing ------------------------------------------------------------------


def starts(limiter: RateLimiter, clock: FakeClock, n: int, latency: float = 0.0) -> list[float]:
    """Start n requests one after another (each completes after `latency`); their start times."""
    out = []
    for _ in range(n):
        limiter.acquire()
        out.append(clock.now)
        clock.now += latency
        limiter.release()
    return out


def test_burst_then_even_spacing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, 60.0, clock=clock, sleep=clock.sleep, burst=5)
    t = starts(limiter, clock, 12)
    assert t[:5] == [t[0]] * 5  # the burst goes at once
    spacing = limiter.spacing
    assert spacing == pytest.approx(0.5 * 1.01)
    # The burst was borrowed from the schedule: the 6th waits five spacings, then one each.
    assert t[5] == pytest.approx(t[0] + 5 * spacing)
    for a, b in zip(t[5:], t[6:], strict=False):
        assert b - a == pytest.approx(spacing)


@pytest.mark.parametrize("burst", [1, 5, 10, 20])
def test_any_window_with_the_same_average_rate_and_room_for_the_burst_never_overflows(burst: int) -> None:
    """A server counting 120 a minute as 20 per 10 s (or 10 per 5 s, or 40 per 20 s) by
    receive time, requests taking random latencies: never more than it allows."""
    rng = random.Random(15)
    clock = FakeClock()
    limiter = RateLimiter(120, 60.0, clock=clock, sleep=clock.sleep, burst=burst)
    received: list[float] = []
    for _ in range(300):
        limiter.acquire()
        received.append(clock.now + rng.uniform(0.0, 0.004))  # travel time to the server
        clock.now += rng.uniform(0.0, 0.05)
        limiter.release()
        if rng.random() < 0.05:
            clock.now += rng.uniform(0.0, 8.0)  # idle now and then: the burst comes back
    received.sort()
    for window, allowed in ((5.0, 10), (10.0, 20), (20.0, 40), (60.0, 120)):
        if allowed < burst:
            continue
        j = 0
        for i, t in enumerate(received):
            while received[j] <= t - window:
                j += 1
            assert i - j + 1 <= allowed, (window, t)


def test_idle_time_earns_the_burst_back_one_spacing_at_a_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 60.0, clock=clock, sleep=clock.sleep, burst=4)
    last = starts(limiter, clock, 10)[-1]  # a burst, then on schedule
    clock.now = last + 2 * limiter.spacing  # two spacings since the last start: two at once
    t = starts(limiter, clock, 3)
    assert t[:2] == [t[0]] * 2
    assert t[2] == pytest.approx(t[0] + limiter.spacing)
    clock.now += 100.0  # long idle: the whole burst is back, no more
    t = starts(limiter, clock, 5)
    assert t[:4] == [t[0]] * 4
    assert t[4] == pytest.approx(t[0] + 4 * limiter.spacing)


def test_a_429_drops_the_burst_to_one_for_the_rest_of_the_run() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, 60.0, clock=clock, sleep=clock.sleep, burst=10)
    starts(limiter, clock, 3)
    limiter.throttled()
    assert limiter.throttled_seen
    clock.now += 1000.0  # however long it idles
    t = starts(limiter, clock, 4)
    for a, b in zip(t, t[1:], strict=False):
        assert b - a == pytest.approx(limiter.spacing)


def test_burst_never_exceeds_the_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 60.0, clock=clock, sleep=clock.sleep, burst=10)
    assert limiter.burst == 3
    with pytest.raises(ValueError):
        RateLimiter(3, burst=0)


def test_burst_from_the_environment() -> None:
    from telegent_iac.api.client import rate_burst_from_env
    from telegent_iac.api.failures import ConfigError

    assert rate_burst_from_env({}) == 5
    assert rate_burst_from_env({"TELEGENT_RATE_BURST": " 12 "}) == 12
    for bad in ("0", "-1", "many"):
        with pytest.raises(ConfigError, match="TELEGENT_RATE_BURST"):
            rate_burst_from_env({"TELEGENT_RATE_BURST": bad})
