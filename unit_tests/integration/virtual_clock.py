"""A clock that tests move by hand, so no retry or rate-limit wait sleeps for real.

Two places wait during a read, and both are routed here:
- the CDK's retry loop calls `time.sleep` in `airbyte_cdk.sources.streams.http.rate_limiting`,
  with the backoff strategy's answer plus a 1 s margin of its own;
- the key pool (`source_meetlog.components.key_pool.KeyPool`) takes its clock and sleep as
  constructor arguments whose defaults were bound to `time.monotonic`/`time.sleep` when the
  module was imported, so patching `time.sleep` would not reach them: the pools are built here
  instead, with this clock, in a registry of their own per test.

Sleeping advances `now`, so a key resting after a 429 is rested once the CDK's wait is over,
as it would be in real time. Only those two modules are patched: the CDK's partition
enqueuer also calls `time.sleep` and must keep doing so for real.
"""

import threading
import time
from types import SimpleNamespace
from typing import Dict, List, Tuple
from unittest import TestCase, mock

from airbyte_cdk.sources.streams.http import rate_limiting

from source_meetlog.components.key_pool import KeyPool

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
    pools: Dict[Tuple[Tuple[str, ...], int], KeyPool] = {}
    pools_lock = threading.Lock()

    def shared(cls: type, keys: Tuple[str, ...], requests_per_minute: int) -> KeyPool:
        with pools_lock:
            if (keys, requests_per_minute) not in pools:
                pools[(keys, requests_per_minute)] = KeyPool(
                    keys, requests_per_minute, clock=clock.monotonic, sleep=clock.key_pool_sleep
                )
            return pools[(keys, requests_per_minute)]

    for patcher in (
        mock.patch.object(rate_limiting, "time", SimpleNamespace(sleep=clock.cdk_sleep)),
        mock.patch.object(KeyPool, "shared", classmethod(shared)),
    ):
        patcher.start()
        test_case.addCleanup(patcher.stop)
    return clock
