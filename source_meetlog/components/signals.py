"""Signals to Airbyte: what the user sees of a sync beside its records.

- RateLimitStatus: a stream's STREAM_STATUS `RUNNING` with a `RATE_LIMITED` reason while it waits
  for the rate limit, and until when.
- ProgressLog: a progress line per stream every 30 seconds of a long sync.
- deletion_marker: the record that tells a destination a record synced before is gone.

Rate-limited statuses. The platform turns a stream's STREAM_STATUS `RUNNING` with a `RATE_LIMITED`
reason into "rate limited by the source… resumes in …", using the reason's `quota_reset` (epoch
ms), and clears it on the next `RUNNING` without a reason. The key pool (key_pool.py) calls `waiting` when a request
must wait for a key and `flowing` when it goes out; this class sends at most one pair per stream
per wait, only for a stream of the read's catalog, and only for a wait longer than
ANNOUNCED_WAIT_SECONDS.

    waiting("transcripts", 55.0) -> RUNNING, RATE_LIMITED, quota_reset = now + 55 s (in ms)
    waiting("transcripts", 54.0) -> nothing: this wait is announced already
    flowing("transcripts")       -> RUNNING, no reason
    flowing("transcripts")       -> nothing

Progress lines: records done of the total, requests used, time left. At 60 requests a minute per
key, 20,000 transcripts take hours, so the log says every 30 seconds how far each stream has come:
a list's `meta.total`, and each record done. One log serves one read (ReadContext, read_context.py).

Deletion markers. Meetlog's lists name every record that still exists, so a record synced before
and missing from a complete, settled read of its list was deleted (FetchPlan.deleted). Destinations learn it from the
record's id with `_ab_cdc_deleted_at` set, which Append + Deduped applies as a delete.
"""

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Deque, Dict, Optional

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStreamStatus,
    AirbyteStreamStatusReason,
    AirbyteStreamStatusReasonType,
    StreamDescriptor,
    Type,
)

# Re-exported there by `import *` from the untyped airbyte_protocol_dataclasses, which mypy cannot follow.
from airbyte_cdk.models.airbyte_protocol import AirbyteStreamStatusRateLimitedReason  # type: ignore[attr-defined]
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message

from source_meetlog.core.selection import DELETED_AT_FIELD
from source_meetlog.core.timestamps import format_cursor_value

logger = logging.getLogger("airbyte")

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
        reason = AirbyteStreamStatusReason(type=AirbyteStreamStatusReasonType.RATE_LIMITED,
                                           rate_limited=AirbyteStreamStatusRateLimitedReason(quota_reset=quota_reset))
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
        assert self._repository is not None  # waiting() and flowing() send nothing without one
        self._repository.emit_message(
            as_airbyte_message(StreamDescriptor(name=stream), AirbyteStreamStatus.RUNNING, reasons)
        )


# ------------------------------------------------------------------ progress lines

INTERVAL_SECONDS = 30.0
# "The last minute", a second long: a paced key sends its next burst 60.25 s after the previous
# one (key_pool.py's window and margin), so a 60 s count, taken as that burst starts, would have
# just lost the previous one and read "1 in the last minute; at most 1 h 29 min left".
RATE_WINDOW_SECONDS = 61.0


def format_duration(seconds: float) -> str:
    """3725 -> '1 h 2 min'; 95 -> '2 min'; 20 -> 'under a minute'."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass
class StreamProgress:
    total: Optional[int] = None
    done: int = 0
    recent: Deque[float] = field(default_factory=deque)  # when its last records were done


class ProgressLog:
    """Counts requests, each stream's listed total and records done, and logs one line per stream at
    most every `interval` seconds: the key pool's authenticators tell it of each answer, the routers
    of each list's meta.total, the record filters of each record done (from a detail or a list page)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, interval: Optional[float] = None) -> None:
        self._clock = clock
        self._interval = INTERVAL_SECONDS if interval is None else interval
        self._streams: Dict[str, StreamProgress] = {}
        self._recent: Deque[float] = deque()
        self._requests = 0
        self._last_logged = clock()
        self._lock = threading.Lock()

    def request_done(self) -> None:
        with self._lock:
            self._requests += 1
            _keep_last_minute(self._recent, self._clock())
            self._log_if_due()

    def listed(self, stream: str, total: Any) -> None:
        with self._lock:
            progress = self._streams.setdefault(stream, StreamProgress())
            progress.total = total if isinstance(total, int) and progress.total is None else progress.total
            self._log_if_due()

    def record_done(self, stream: str) -> None:
        with self._lock:
            progress = self._streams.setdefault(stream, StreamProgress())
            progress.done += 1
            _keep_last_minute(progress.recent, self._clock())
            self._log_if_due()

    def _log_if_due(self) -> None:
        """Under the lock, logging included: two threads' lines must not reach the log in swapped order,
        or the last line would not say the last count."""
        now = self._clock()
        if now - self._last_logged >= self._interval:
            self._last_logged = now
            for line in self._lines(now):
                logger.info(line)

    def _lines(self, now: float):
        _keep_last_minute(self._recent, now, add=False)
        for stream, progress in sorted(self._streams.items()):
            _keep_last_minute(progress.recent, now, add=False)
            line = f"Progress of '{stream}': {progress.done:,} records fetched"
            if progress.total is not None:
                line += f" of at most {progress.total:,} listed"
            line += f"; {self._requests:,} requests so far in this sync, {len(self._recent)} in the last minute"
            if progress.total is not None and progress.recent:
                left = max(progress.total - progress.done, 0)
                line += f"; at most {format_duration(left / len(progress.recent) * 60)} left at this rate"
            yield line + "."


def _keep_last_minute(moments: Deque[float], now: float, add: bool = True) -> None:
    if add:
        moments.append(now)
    while moments and moments[0] < now - RATE_WINDOW_SECONDS:
        moments.popleft()


# ------------------------------------------------------------------ deletion markers



def deletion_marker(stream: str, record_id: str, cursor_field: str, now: Optional[datetime] = None) -> AirbyteMessage:
    """A record message that tells a destination `record_id` is gone.

    Its cursor field holds the moment the deletion was noticed: deduplication keeps the version with
    the highest cursor, and a marker must outrank the last version synced for the delete to apply.
    """
    now = now or datetime.now(timezone.utc)
    moment = format_cursor_value(now)
    data = {"id": record_id, cursor_field: moment, DELETED_AT_FIELD: moment}
    return AirbyteMessage(type=Type.RECORD,
                          record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=int(now.timestamp() * 1000)))
