"""An injected clock for timing logic (pacing, rate windows): time moves only when a test or
an injected `sleep` moves it, so no assertion depends on how fast the machine is."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
