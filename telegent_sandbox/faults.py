"""Injected faults: latency, random 5xx errors and commit-then-drop creates."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from typing import Any

ERROR_STATUSES = (500, 503, 504)


class Faults:
    def __init__(self, *, latency_ms: int = 0, latency_jitter_ms: int = 0, error_rate: float = 0.0,
                 drop_creates: Iterable[int] = (), drop_activity_creates: Iterable[int] = (),
                 seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.latency_ms = latency_ms
        self.latency_jitter_ms = latency_jitter_ms
        self.error_rate = error_rate
        self._drop: set[int] = set(drop_creates)
        self._creates = 0  # committed workgroup and schedule creates since start or the last drop setting
        self._drop_activities: set[int] = set(drop_activity_creates)
        self._activity_creates = 0  # the same for activity (member) creates

    def set(self, *, latency_ms: int | None = None, latency_jitter_ms: int | None = None,
            error_rate: float | None = None, drop_creates: Iterable[int] | None = None,
            drop_next_creates: int | None = None, drop_next_activity_creates: int | None = None) -> None:
        """Change the faults at run time; arguments left as None keep their value."""
        if latency_ms is not None and latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if latency_jitter_ms is not None and latency_jitter_ms < 0:
            raise ValueError("latency_jitter_ms must not be negative")
        if error_rate is not None and not 0.0 <= error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        ordinals: set[int] | None = None
        if drop_creates is not None:
            ordinals = {int(n) for n in drop_creates}
            if any(n < 1 for n in ordinals):
                raise ValueError("drop_creates ordinals are 1-based")
        if drop_next_activity_creates is not None and drop_next_activity_creates < 0:
            raise ValueError("drop_next_activity_creates must not be negative")
        if drop_next_creates is not None:
            if drop_next_creates < 0:
                raise ValueError("drop_next_creates must not be negative")
            ordinals = (ordinals or set()) | set(range(1, drop_next_creates + 1))
        with self._lock:
            if latency_ms is not None:
                self.latency_ms = latency_ms
            if latency_jitter_ms is not None:
                self.latency_jitter_ms = latency_jitter_ms
            if error_rate is not None:
                self.error_rate = error_rate
            if ordinals is not None:
                # Ordinals given at run time count from now on.
                self._drop = ordinals
                self._creates = 0
            if drop_next_activity_creates is not None:
                self._drop_activities = set(range(1, drop_next_activity_creates + 1))
                self._activity_creates = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "latency_jitter_ms": self.latency_jitter_ms,
                "error_rate": self.error_rate,
                "drop_creates": sorted(n for n in self._drop if n > self._creates),
                "creates_seen": self._creates,
                "drop_activity_creates": sorted(n for n in self._drop_activities if n > self._activity_creates),
                "activity_creates_seen": self._activity_creates,
            }

    def delay_seconds(self) -> float:
        with self._lock:
            jitter = self._rng.uniform(0, self.latency_jitter_ms) if self.latency_jitter_ms else 0.0
            return (self.latency_ms + jitter) / 1000.0

    def injected_error(self) -> int | None:
        """A 5xx status to answer with instead of doing anything, or None."""
        with self._lock:
            if self.error_rate > 0 and self._rng.random() < self.error_rate:
                return self._rng.choice(ERROR_STATUSES)
            return None

    def count_create(self) -> bool:
        """Count one committed workgroup or schedule create; True if its response must be dropped."""
        with self._lock:
            self._creates += 1
            return self._creates in self._drop

    def count_activity_create(self) -> bool:
        """Count one committed activity create; True if its response must be dropped."""
        with self._lock:
            self._activity_creates += 1
            return self._activity_creates in self._drop_activities
