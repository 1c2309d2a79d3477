"""Per-key request limit: the documented "60 requests per minute", as a sliding log."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from email.utils import formatdate
from typing import Callable


class SlidingWindowLimiter:
    """At most `requests_per_window` admitted requests per key within any `window_seconds`.

    A sliding log is the closest reading of "60 per minute": a burst of 60 is allowed, then the
    61st waits until the oldest of them is a window old. Refused requests are not logged, so a
    client retrying too early does not push its own unblock time further away.
    `requests_per_window=None` turns the limit off (benchmarks).
    """

    def __init__(self, requests_per_window: int | None = 60, window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.requests_per_window = requests_per_window
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, key: str) -> float | None:
        """None if the request may go ahead (and is counted), else seconds until it could."""
        if self.requests_per_window is None:
            return None
        with self._lock:
            now = self._clock()
            log = self._admitted.setdefault(key, deque())
            while log and log[0] <= now - self.window_seconds:
                log.popleft()
            if len(log) < self.requests_per_window:
                log.append(now)
                return None
            return log[0] + self.window_seconds - now

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()


RETRY_AFTER_FORMATS = ("seconds", "http-date")


def retry_after_header(wait_seconds: float, retry_after_format: str, wall_clock: Callable[[], float] = time.time) -> str:
    """Retry-After as whole seconds (rounded up, at least 1) or as an HTTP-date that far ahead."""
    seconds = max(1, math.ceil(wait_seconds))
    if retry_after_format == "seconds":
        return str(seconds)
    if retry_after_format == "http-date":
        return formatdate(wall_clock() + seconds, usegmt=True)
    raise ValueError(f"retry_after_format must be one of {RETRY_AFTER_FORMATS}")
