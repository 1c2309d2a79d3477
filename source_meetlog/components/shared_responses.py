"""One request per project URL per sync, however many streams need its answer.

`projects` and `project_transcripts` both read the projects list and every project's detail.
Each of their requesters asks this store (see shared_requester.py); for each URL:

- the first reader fetches it, holding that URL's lock through the HTTP client's whole retry
  loop, so a truncated body, a 5xx or a 429 is retried against the server, never from here;
- a reader that arrives meanwhile waits for that fetch, then takes its answer if it was a
  success, or fetches itself if it was not (an exception, a 404, an unreadable body);
- each reader is handed a stored answer once: a reader asking again for a URL it already had
  wants it fresh (ChangedRecordsPartitionRouter re-reads a list that shifted while paged).

Only successes are kept, by their full URL, as copies without the request's Authorization
header, and only up to MAX_STORED_BYTES. One store serves one read: each read's SyncContext
(sync_context.py) holds a new one (one config: one base_url, one account's keys), so answers
never outlive the sync or cross to another source.

Why not the CDK's `use_cache` (requests_cache): its cache sits below the HTTP client's retry
loop, so a cached truncated 200 answers its own retry; without REQUEST_CACHE_PATH every client
in the process shares one in-memory database that outlives the read; its keys leave out the
Authorization header, so two accounts on one base_url would share answers; and two streams
asking at once both go to the server.
"""

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Set

import requests
from requests.structures import CaseInsensitiveDict

logger = logging.getLogger("airbyte")

# Projects are few (a detail is a few kB); this bound only matters if an account has thousands.
MAX_STORED_BYTES = 64 * 1024 * 1024


@dataclass
class _Answer:
    response: requests.Response
    size: int
    readers: Set[object] = field(default_factory=set)


def _copy(response: requests.Response) -> requests.Response:
    """A Response of its own (headers, cookies, request), sharing only the immutable body bytes.

    The request is copied without its Authorization header: a stored answer holds no key.
    """
    duplicate = requests.Response()
    duplicate.__setstate__(response.__getstate__())  # Response's pickled state: the body is read, no socket
    duplicate.headers = CaseInsensitiveDict(response.headers)
    duplicate.cookies = response.cookies.copy()
    duplicate.history = []
    if response.request is not None:
        duplicate.request = response.request.copy()
        duplicate.request.headers.pop("Authorization", None)
    return duplicate


class SharedResponses:
    """A sync's successful answers by URL, each fetched by whichever reader asks first.

    fetch("…/projects/p1", reader=projects, send=…)           -> sends; keeps the answer
    fetch("…/projects/p1", reader=project_transcripts, send=…) -> that answer; sends nothing
    fetch("…/projects/p1", reader=projects, send=…)           -> sends again (projects had it)
    """

    def __init__(self, max_bytes: int = MAX_STORED_BYTES) -> None:
        self._max_bytes = max_bytes
        self._stored_bytes = 0
        self._answers: Dict[str, _Answer] = {}
        self._url_locks: Dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._warned_full = False

    def fetch(
        self,
        url: str,
        reader: object,
        send: Callable[[], Optional[requests.Response]],
        is_success: Callable[[requests.Response], bool],
    ) -> Optional[requests.Response]:
        """The answer to GET `url` for `reader`: another reader's success, else `send()`'s."""
        with self._lock_for(url):
            with self._lock:
                answer = self._answers.get(url)
                unseen = answer is not None and reader not in answer.readers
                if unseen:
                    answer.readers.add(reader)
            if unseen:
                return _copy(answer.response)
            response = send()
            self._keep(url, reader, response, is_success)
            return response

    def _lock_for(self, url: str) -> threading.Lock:
        with self._lock:
            return self._url_locks.setdefault(url, threading.Lock())

    def _keep(
        self,
        url: str,
        reader: object,
        response: Optional[requests.Response],
        is_success: Callable[[requests.Response], bool],
    ) -> None:
        """The newest answer replaces the one before; a failure removes it."""
        keep = response is not None and response.status_code == 200 and is_success(response)
        size = len(response.content or b"") if keep else 0
        with self._lock:
            previous = self._answers.pop(url, None)
            self._stored_bytes -= previous.size if previous else 0
            if not keep:
                return
            if self._stored_bytes + size <= self._max_bytes:
                self._answers[url] = _Answer(_copy(response), size, {reader})
                self._stored_bytes += size
                return
            first_time_full, self._warned_full = not self._warned_full, True
        if first_time_full:
            logger.info(
                f"Over {self._max_bytes // (1024 * 1024)} MB of project answers are kept for this sync; further "
                "ones are not shared, so a second stream that needs one requests it again."
            )
