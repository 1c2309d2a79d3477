"""Telling Airbyte that a stream waits for the rate limit, and until when.

The platform turns a stream's STREAM_STATUS `RUNNING` with a `RATE_LIMITED` reason into "rate
limited by the source… resumes in …", using the reason's `quota_reset` (epoch ms), and clears it on
the next `RUNNING` without a reason. The key pool (key_pool.py) calls `waiting` when a request
must wait for a key and `flowing` when it goes out; this class sends at most one pair per stream
per wait, only for a stream of the read's catalog, and only for a wait longer than
ANNOUNCED_WAIT_SECONDS.

    waiting("transcripts", 55.0) -> RUNNING, RATE_LIMITED, quota_reset = now + 55 s (in ms)
    waiting("transcripts", 54.0) -> nothing: this wait is announced already
    flowing("transcripts")       -> RUNNING, no reason
    flowing("transcripts")       -> nothing
"""

import threading
import time
from typing import Callable, Collection, Optional

from airbyte_cdk.models import (
    AirbyteStreamStatus,
    AirbyteStreamStatusReason,
    AirbyteStreamStatusReasonType,
    StreamDescriptor,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStreamStatusRateLimitedReason
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message

# Waits of a few seconds are pacing, not news: the CDK pauses 1 s before every retry, and a paced
# key sends about one request a second once its window is full. A wait shorter than this would
# also be over before the platform shows it, and is within the 2 s that quota_reset may be off by.
# Every wait for a key's 60 s window is far longer, so each is announced.
ANNOUNCED_WAIT_SECONDS = 3.0


class RateLimitStatus:
    """Sends a stream's rate-limited status when its wait is long, and clears it when it ends."""

    def __init__(
        self,
        message_repository: Optional[MessageRepository],
        streams_read: Collection[str] = (),
        threshold_seconds: float = ANNOUNCED_WAIT_SECONDS,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._repository = message_repository
        self._read = frozenset(streams_read)
        self._threshold = threshold_seconds
        self._wall_clock = wall_clock
        self._announced: set = set()
        self._done: set = set()
        self._lock = threading.Lock()

    def stream_of(self, requester_name: Optional[str]) -> Optional[str]:
        """The stream of the catalog a requester's wait belongs to, or None if it is not read (or done).

        A requester is named by its stream's `$parameters.name`, hidden list streams included
        (each stream's list carries its stream's name; the URL path is `parameters.path`).
        """
        with self._lock:
            return requester_name if requester_name in self._read and requester_name not in self._done else None

    def waiting(self, stream: Optional[str], seconds: float) -> None:
        """A request of `stream` waits `seconds` for the pool: announce it if long and not announced."""
        if self._repository is None or stream is None or seconds <= self._threshold:
            return
        with self._lock:
            if stream in self._announced or stream in self._done:
                return
            self._announced.add(stream)
        quota_reset = round((self._wall_clock() + seconds) * 1000)
        reason = AirbyteStreamStatusReason(
            type=AirbyteStreamStatusReasonType.RATE_LIMITED,
            rate_limited=AirbyteStreamStatusRateLimitedReason(quota_reset=quota_reset),
        )
        self._send(stream, [reason])

    def flowing(self, stream: Optional[str]) -> None:
        """A request of `stream` went out: clear its announced wait, if any."""
        if self._repository is None or stream is None:
            return
        with self._lock:
            if stream not in self._announced:
                return
            self._announced.discard(stream)
            if stream in self._done:
                return
        self._send(stream, None)

    def stream_done(self, stream: str) -> None:
        """The read reported `stream` complete or incomplete: nothing more is said about it."""
        with self._lock:
            self._done.add(stream)

    def _send(self, stream: str, reasons) -> None:
        self._repository.emit_message(
            as_airbyte_message(StreamDescriptor(name=stream), AirbyteStreamStatus.RUNNING, reasons)
        )
