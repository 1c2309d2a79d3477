"""What one read shares, made when its streams are built and gone with them.

The manifest builds one requester and one authenticator per stream, hidden list streams included,
but one sync must share: the key pool (the API counts per key, not per stream), the progress log,
the answers two streams both need (shared_responses.py), each stream's fetch plan (fetch_plan.py,
which its router registers and its record filter finds), the report links (report_links.py), and where rate-limited statuses go.
SourceMeetlog.streams() makes a SyncContext and binds it while the CDK builds the streams; each
component takes it in its __post_init__ (`SyncContext.being_built()`), in the building thread.
Nothing lives at class or module level, so two reads in one process (PyAirbyte in a notebook, a
test run) share nothing: a key rejected by the first is tried again by the second.

A component built outside streams() (a unit test, another tool building the manifest) gets
`SyncContext.standalone()`: a pool and progress log of its own, no shared answers, no statuses.
"""

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Collection, Dict, Iterator, Optional, Tuple

from airbyte_cdk.models import AirbyteStreamStatus, AirbyteStreamStatusTraceMessage
from airbyte_cdk.sources.message import MessageRepository

from source_meetlog.components.key_pool import KeyPool
from source_meetlog.components.progress import ProgressLog
from source_meetlog.components.rate_limit_status import RateLimitStatus
from source_meetlog.components.shared_responses import SharedResponses
from source_meetlog.fetch_plan import FetchPlan
from source_meetlog.report_links import ReportLinks

_being_built: ContextVar[Optional["SyncContext"]] = ContextVar("meetlog_sync_context", default=None)


class SyncContext:
    """One read's key pools, progress log, shared answers and rate-limit status.

        with SyncContext(message_repository, streams_read={"transcripts"}).bound():
            streams = build_them()   # every authenticator signs from one pool per (keys, limit)
    """

    def __init__(
        self,
        message_repository: Optional[MessageRepository] = None,
        streams_read: Collection[str] = (),
        share_responses: bool = True,
        report_links: Optional[ReportLinks] = None,
    ) -> None:
        self.status = RateLimitStatus(message_repository, streams_read)
        self.responses: Optional[SharedResponses] = SharedResponses() if share_responses else None
        # By stream: its router registers its plan, its record filter (record_filter.py) finds it there.
        self.plans: Dict[str, FetchPlan] = {}
        # Only when the read syncs transcripts incrementally beside reports (source.py).
        self.report_links = report_links
        self._pools: Dict[Tuple[Tuple[str, ...], int], KeyPool] = {}
        self._progress: Dict[Tuple[str, ...], ProgressLog] = {}
        self._lock = threading.Lock()

    @classmethod
    def standalone(cls) -> "SyncContext":
        """For a component built outside a read: shares nothing and announces nothing."""
        return cls(share_responses=False)

    @contextmanager
    def bound(self) -> Iterator["SyncContext"]:
        """Components built inside this block (in this thread) belong to this read."""
        token = _being_built.set(self)
        try:
            yield self
        finally:
            _being_built.reset(token)

    @staticmethod
    def being_built() -> Optional["SyncContext"]:
        """The read whose streams are being built in this thread, or None."""
        return _being_built.get()

    def observe(self, stream_status: AirbyteStreamStatusTraceMessage) -> None:
        """The read reported a stream's status: once it is complete or incomplete, nothing more is said of it."""
        if stream_status.status in (AirbyteStreamStatus.COMPLETE, AirbyteStreamStatus.INCOMPLETE):
            self.status.stream_done(stream_status.stream_descriptor.name)

    def key_pool(self, keys: Tuple[str, ...], requests_per_minute: int) -> KeyPool:
        """One pool per set of keys and limit in this read, whichever stream asks."""
        with self._lock:
            pool = self._pools.get((keys, requests_per_minute))
            if pool is None:
                pool = self._pools[(keys, requests_per_minute)] = KeyPool(keys, requests_per_minute, status=self.status)
            return pool

    def progress_log(self, keys: Tuple[str, ...]) -> ProgressLog:
        """One progress log per set of keys in this read: every stream's requests count."""
        with self._lock:
            return self._progress.setdefault(keys, ProgressLog())
