"""Reading a read's rate-limited stream statuses from its stdout, against the requests the server saw.

Used by test_rate_limited_status.py and bench/run_benchmarks.py. Each stdout line is loaded with
the CDK's own AirbyteMessageSerializer, so a status that is not valid protocol fails here. The
server's request log uses time.monotonic(); statuses carry wall-clock epoch ms: `wall_offset`
(time.time() - time.monotonic(), taken in the same process as the server) converts between them.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence

from airbyte_cdk.models import AirbyteMessageSerializer, AirbyteStreamStatusReasonType, Type

from integration_tests.meetlog_server import RequestRecord

_EXPORT = re.compile(r"^/api/v1/export/(?P<segment>[a-z_]+)")
# The URL path segment each stream's requests go to (project_transcripts reads the projects' paths).
SEGMENT_OF_STREAM = {"transcripts": "transcripts", "reports": "reports", "projects": "projects",
                     "project_transcripts": "projects"}


def wall_offset() -> float:
    return time.time() - time.monotonic()


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    emitted_at: float  # epoch seconds
    quota_reset: Optional[float]  # epoch seconds, RATE_LIMITED only
    rate_limited: bool
    line: str  # the stdout line as printed


def stream_statuses(stdout_lines: Iterable[str]) -> List[StreamStatus]:
    """Every STREAM_STATUS RUNNING message of the output, rate-limited or clearing, in order."""
    statuses = []
    for line in stdout_lines:
        if '"STREAM_STATUS"' not in line:
            continue
        message = AirbyteMessageSerializer.load(json.loads(line))
        if message.type != Type.TRACE or message.trace.stream_status is None:
            continue
        trace = message.trace.stream_status
        if trace.status.name != "RUNNING":
            continue
        reasons = trace.reasons or []
        limited = [r for r in reasons if r.type == AirbyteStreamStatusReasonType.RATE_LIMITED]
        reset = limited[0].rate_limited.quota_reset if limited and limited[0].rate_limited else None
        statuses.append(StreamStatus(
            stream=trace.stream_descriptor.name,
            emitted_at=message.trace.emitted_at / 1000,
            quota_reset=reset / 1000 if reset is not None else None,
            rate_limited=bool(limited),
            line=line.strip(),
        ))
    return statuses


def rate_limited(statuses: Sequence[StreamStatus]) -> List[StreamStatus]:
    return [s for s in statuses if s.rate_limited]


# The server logs a request as it answers it, so a request signed just before the status was sent
# (the burst's last one) may be logged a few ms after it. None signed after the status can go
# sooner than the announced wait, which is over 3 s (signals.ANNOUNCED_WAIT_SECONDS).
IN_FLIGHT_SECONDS = 0.5


def next_request_after(status: StreamStatus, requests: Sequence[RequestRecord], offset: float) -> Optional[RequestRecord]:
    """The first request of the status's stream that was sent after the status: the next one the
    server logged once the requests in flight when the status was sent had arrived."""
    segment = SEGMENT_OF_STREAM.get(status.stream, status.stream)
    after = status.emitted_at - offset + IN_FLIGHT_SECONDS
    for request in sorted(requests, key=lambda r: r.timestamp):
        match = _EXPORT.match(request.path)
        if match and match["segment"] == segment and request.timestamp > after:
            return request
    return None


def quota_reset_errors(statuses: Sequence[StreamStatus], requests: Sequence[RequestRecord], offset: float) -> List[float]:
    """For each RATE_LIMITED status: |quota_reset - when that stream's next request reached the server|, in s."""
    errors = []
    for status in rate_limited(statuses):
        request = next_request_after(status, requests, offset)
        errors.append(float("inf") if request is None or status.quota_reset is None
                      else abs(status.quota_reset - (request.timestamp + offset)))
    return errors


def median(values: Sequence[float]) -> Optional[float]:
    return statistics.median(values) if values else None
