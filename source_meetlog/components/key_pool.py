"""Pacing requests across one or more API keys, each held to its own per-minute limit.

Meetlog allows 60 requests a minute per key, independently per key. A `KeyPool` signs each
request with whichever key has room in its sliding 60-second window, so a sync bursts to the
window and then runs steady, and k keys give k times the throughput. A key that answers 429
rests until its `Retry-After`; a key that answers 401 leaves the pool. The pool is the one place
that waits for the rate limit, a 429's Retry-After included (keys.py's backoff only asks the CDK to
retry), and it tells RateLimitStatus (signals.py) when a stream's wait is long.

Why not the CDK's HTTPAPIBudget: a budget waits for room on the credential the request was
already signed with, while a pool must choose the credential by who has room. One pool serves
a whole read (ReadContext, read_context.py) because the manifest builds one authenticator per
stream, and the API counts per key, not per stream.
"""

import email.utils
import logging
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Deque, List, Optional, Tuple, cast

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

if TYPE_CHECKING:
    from source_meetlog.components.signals import RateLimitStatus

logger = logging.getLogger("airbyte")

WINDOW_SECONDS = 60.0
# For tests and benchmarks only, never in the spec: a shorter window, to match a local server
# limited to N requests per few seconds, so a test of the connector's own stdout takes seconds.
TEST_WINDOW_ENVIRONMENT_VARIABLE = "SOURCE_MEETLOG_TEST_WINDOW_SECONDS"
# A slot is stamped when its request is signed and stamped again when the answer arrives, which
# is after the server counted it. The margin covers requests whose answer never arrives.
WINDOW_MARGIN_SECONDS = 0.25
# A Retry-After longer than this ends the sync with a clear error instead of a silent stall.
DEFAULT_MAX_WAIT_SECONDS = 900.0


class AllKeysRejected(AirbyteTracedException):
    def __init__(self, key_count: int) -> None:
        if key_count == 1:
            message = ("Meetlog rejected the API key (401 UNAUTHORIZED): it is invalid, revoked or expired. "
                       "Create a new key in Meetlog's account settings and update 'api_key'.")
        else:
            message = (f"Meetlog rejected all {key_count} API keys (401 UNAUTHORIZED): they are invalid, revoked or "
                       "expired. Create new keys in Meetlog's account settings and update 'api_key'.")
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


class RateLimitWaitTooLong(AirbyteTracedException):
    def __init__(self, wait_seconds: float, max_wait_seconds: float) -> None:
        message = (
            f"Meetlog's rate limit asks this connector to wait {wait_seconds:.0f} s, longer than the "
            f"{max_wait_seconds:.0f} s it waits at most. Another client may be using the same key: give this "
            "connection a key of its own, or lower 'requests_per_minute'. The next sync resumes from the last state."
        )
        super().__init__(message=message, internal_message=message, failure_type=FailureType.transient_error)


class Slot:
    """One request's place in its key's window: when the server may have counted it."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


@dataclass
class _KeySlot:
    sent_at: Deque[Slot] = field(default_factory=deque)
    resting_until: float = 0.0
    rest_asked: float = 0.0  # the rest the last 429 asked for, as the server said it
    rejected: bool = False


def window_seconds() -> float:
    """The window each key's limit counts over: 60 s, unless a test set its own."""
    configured = os.environ.get(TEST_WINDOW_ENVIRONMENT_VARIABLE)
    return float(configured) if configured else WINDOW_SECONDS


class KeyPool:
    """Chooses a key with room for each request; blocks (without holding the lock) while none has."""

    def __init__(self, keys: Tuple[str, ...], requests_per_minute: int, clock: Optional[Callable[[], float]] = None,
                 sleep: Optional[Callable[[float], None]] = None, max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
                 status: Optional["RateLimitStatus"] = None) -> None:
        # time is looked up now, not when the module was imported, so tests can route it.
        self._clock, self._sleep = clock or time.monotonic, sleep or time.sleep
        self._keys, self._limit, self._max_wait, self._status = keys, requests_per_minute, max_wait_seconds, status
        self._position = {key: index for index, key in enumerate(keys)}
        self._window, self._next, self._lock = window_seconds(), 0, threading.Lock()
        self._slots: List[_KeySlot] = [_KeySlot() for _ in keys]

    def acquire(self, stream: Optional[str] = None) -> Tuple[str, Slot]:
        """The key to sign the next request of `stream` with, and its slot, to `settle` when the answer arrives.

        Blocks while no key has room or every key rests after a 429; a long wait is announced
        for `stream` (the catalog stream the request serves, or None) and cleared when it ends.
        """
        while True:
            with self._lock:
                key, ready_at, slot, asked = self._try_take(self._clock())
            if key is not None:
                if self._status is not None:
                    self._status.flowing(stream)
                return key, cast(Slot, slot)  # _try_take gives a slot with every key
            wait = ready_at - self._clock()
            # Refused as the server asked it, not as what is left after the CDK's own pause.
            if asked > self._max_wait or wait > self._max_wait:
                raise RateLimitWaitTooLong(max(asked, wait), self._max_wait)
            if self._status is not None:
                self._status.waiting(stream, wait)
            self._sleep(max(wait, 0.0))

    def settle(self, slot: Slot) -> None:
        """The answer arrived: the server counted the request no later than now."""
        now = self._clock()
        with self._lock:
            slot.at = max(slot.at, now)

    def _try_take(self, now: float) -> Tuple[Optional[str], float, Optional[Slot], float]:
        """A key and its new slot, or None with when the soonest key is ready and the rest it was asked for."""
        earliest, earliest_asked = float("inf"), 0.0
        count = len(self._keys)
        for offset in range(count):
            index = (self._next + offset) % count
            window = self._slots[index]
            if window.rejected:
                continue
            cutoff = now - self._window - WINDOW_MARGIN_SECONDS
            sent_at = window.sent_at
            while sent_at and sent_at[0].at <= cutoff:
                sent_at.popleft()
            ready_at = window.resting_until
            if len(sent_at) >= self._limit:
                # Settling stamps slots out of order, so near the limit every slot is looked at, not
                # just the first; below it, the look would cost a high limit a pass over its window per request.
                live = sorted(sent.at for sent in sent_at if sent.at > cutoff)
                if len(live) < len(sent_at):
                    window.sent_at = deque(sent for sent in sent_at if sent.at > cutoff)
                if len(live) >= self._limit:
                    # Room comes back when enough of the live slots have left the window.
                    ready_at = max(ready_at, live[len(live) - self._limit] + self._window + WINDOW_MARGIN_SECONDS)
            if ready_at <= now:
                taken = Slot(now)
                window.sent_at.append(taken)
                # Round-robin keeps the keys' windows even, so none runs dry while another idles.
                self._next = (index + 1) % count
                return self._keys[index], now, taken, 0.0
            if ready_at < earliest:
                earliest = ready_at
                earliest_asked = window.rest_asked if ready_at == window.resting_until else 0.0
        if earliest == float("inf"):
            raise AllKeysRejected(count)
        return None, earliest, None, earliest_asked

    def rest(self, key: str, seconds: float) -> None:
        """The server said 429: this key sends nothing more until `seconds` from now."""
        index = self._position.get(key)
        if index is None:
            return
        with self._lock:
            slot = self._slots[index]
            until = self._clock() + seconds
            if until >= slot.resting_until:
                slot.resting_until, slot.rest_asked = until, seconds

    def reject(self, key: str) -> None:
        """The server said 401: this key leaves the pool for the rest of the read."""
        index = self._position.get(key)
        if index is None:
            return
        with self._lock:
            slot = self._slots[index]
            if slot.rejected:
                return
            slot.rejected = True
            remaining = sum(not s.rejected for s in self._slots)
        if len(self._keys) > 1:
            logger.warning(f"API key #{index + 1} of {len(self._keys)} was rejected (401 UNAUTHORIZED): it is invalid, "
                           f"revoked or expired. It leaves the pool; {remaining} key(s) remain.")


# The wait a 429 asks for, in either of the header's HTTP forms.
def retry_after_seconds(value: Optional[str], now: Callable[[], float] = time.time) -> Optional[float]:
    """Seconds to wait, or None when the header is absent or unreadable.

    "7" -> 7.0;  "Wed, 21 Oct 2026 07:28:00 GMT" -> seconds from now until then (never negative).
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())
