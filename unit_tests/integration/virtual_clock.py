"""A clock that tests move by hand, so no retry or rate-limit wait sleeps for real.

Two places wait during a read, and both are routed here:
- the CDK's retry loop calls `time.sleep` in `airbyte_cdk.sources.streams.http.rate_limiting`,
  with the backoff strategy's answer plus a 1 s margin of its own;
- the key pool (`source_meetlog.components.key_pool.KeyPool`), which waits out the windows and
  every 429's Retry-After, looks up `time.monotonic`/`time.sleep` in its module when each read's
  ReadContext holds it, so that module's `time` is routed here.

Sleeping advances `now`, so a key resting after a 429 is rested once the CDK's wait is over,
as it would be in real time. Only those two modules are patched: the CDK's partition
enqueuer also calls `time.sleep` and must keep doing so for real.
"""

import threading
import time
from types import SimpleNamespace
from typing import List
from unittest import TestCase, mock

from airbyte_cdk.sources.streams.http import rate_limiting

from source_meetlog.components import key_pool

CDK_RETRY_MARGIN_SECONDS = 1.0


class VirtualClock:
    def __init__(self) -> None:
        self._now = 1_000.0
        self._lock = threading.Lock()
        self.cdk_waits: List[float] = []  # what the CDK's retry loop asked to sleep
        self.key_pool_waits: List[float] = []  # what the key pool asked to sleep

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def _advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(seconds, 0.0)

    def cdk_sleep(self, seconds: float) -> None:
        self.cdk_waits.append(seconds)
        self._advance(seconds)

    def key_pool_sleep(self, seconds: float) -> None:
        self.key_pool_waits.append(seconds)
        self._advance(seconds)
        # A pool waiting for room lets the other workers run, as a real sleep would.
        time.sleep(0)


def install_virtual_clock(test_case: TestCase) -> VirtualClock:
    """Route the CDK's and the key pool's waits to a fresh clock for the rest of `test_case`."""
    clock = VirtualClock()
    for patcher in (
        mock.patch.object(rate_limiting, "time", SimpleNamespace(sleep=clock.cdk_sleep)),
        mock.patch.object(key_pool, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=clock.key_pool_sleep)),
    ):
        patcher.start()
        test_case.addCleanup(patcher.stop)
    return clock
