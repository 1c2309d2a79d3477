"""Progress lines for rate-bound syncs: records done of the total, requests used, time left.

At 60 requests a minute per key, 20,000 transcripts take hours, so the log says every
30 seconds how far each stream has come, counting what the responses show: a list page's
`meta.total`, and each detail answered. One log serves one read (SyncContext, sync_context.py).
"""

import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Dict, Optional

import requests

logger = logging.getLogger("airbyte")

INTERVAL_SECONDS = 30.0
# "The last minute", a second long: a paced key sends its next burst 60.25 s after the previous
# one (key_pool.py's window and margin), so a 60 s count, taken as that burst starts, would have
# just lost the previous one and read "1 in the last minute; at most 1 h 29 min left".
RATE_WINDOW_SECONDS = 61.0
_EXPORT_PATH = re.compile(r"/api/v1/export/(?P<stream>[a-z_]+)(?P<detail>/[^/?]+)?/?$")


@dataclass
class StreamProgress:
    total: Optional[int] = None
    details_done: int = 0


def format_duration(seconds: float) -> str:
    """3725 -> '1 h 2 min'; 95 -> '2 min'; 20 -> 'under a minute'."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class ProgressLog:
    """Counts responses per stream and logs one line per stream at most every `interval` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, interval: Optional[float] = None) -> None:
        self._clock = clock
        self._interval = INTERVAL_SECONDS if interval is None else interval
        self._streams: Dict[str, StreamProgress] = {}
        self._recent: Deque[float] = deque()
        self._requests = 0
        self._last_logged = clock()
        self._lock = threading.Lock()

    def count(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        match = _EXPORT_PATH.search(request.path_url.split("?", 1)[0]) if request.path_url else None
        now = self._clock()
        with self._lock:
            self._requests += 1
            self._recent.append(now)
            while self._recent and self._recent[0] < now - RATE_WINDOW_SECONDS:
                self._recent.popleft()
            if match and response.status_code == 200:
                progress = self._streams.setdefault(match["stream"], StreamProgress())
                if match["detail"]:
                    progress.details_done += 1
                elif progress.total is None:
                    progress.total = _meta_total(response)
            due = now - self._last_logged >= self._interval
            if due:
                self._last_logged = now
                lines = list(self._lines())
        if due:
            for line in lines:
                logger.info(line)

    def _lines(self):
        rate = len(self._recent)  # requests in the last minute
        for stream, progress in sorted(self._streams.items()):
            line = f"Progress of '{stream}': {progress.details_done:,} records fetched"
            if progress.total is not None:
                line += f" of at most {progress.total:,} listed"
            line += f"; {self._requests:,} requests so far in this sync, {rate} in the last minute"
            if progress.total is not None and rate:
                left = max(progress.total - progress.details_done, 0)
                line += f"; at most {format_duration(left / rate * 60)} left at this rate"
            yield line + "."


def _meta_total(response: requests.Response) -> Optional[int]:
    try:
        total = response.json().get("meta", {}).get("total")
    except (ValueError, AttributeError):
        return None
    return total if isinstance(total, int) else None
