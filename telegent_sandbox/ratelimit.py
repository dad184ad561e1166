"""The rolling-window rate limit: N requests in any window of W seconds per key."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RollingWindowLimiter:
    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit  # 0 = off
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> int | None:
        """Count a request for `key` now. None if admitted; otherwise the whole seconds to wait
        until a slot frees (at least 1). A refused request is not counted."""
        if self.limit <= 0:
            return None
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) < self.limit:
                seen.append(now)
                return None
            # Requests leave the window oldest first; a slot frees once enough have left
            # (more than one when the limit was lowered at run time).
            blocker = seen[len(seen) - self.limit]
            return max(1, math.ceil(blocker + self.window - now))

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
