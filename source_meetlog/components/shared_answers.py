"""Answers a read already holds: one request per URL per sync, however many streams need its answer,
and none for a record of a stream read from its list pages alone (its list item answers).

`projects` and `project_transcripts` both read the projects list and every project's detail;
`reports` and `transcripts` (for report_ids) both read the reports list. Each of their requesters,
a SharedResponseRequester, asks this read's SharedResponses; for each URL:

- the first reader fetches it, holding that URL's lock through the HTTP client's whole retry
  loop, so a truncated body, a 5xx or a 429 is retried against the server, never from here;
- a reader that arrives meanwhile waits for that fetch, then takes its answer if it was a
  success, or fetches itself if it was not (an exception, a 404, an unreadable body);
- each reader is handed a stored answer once: a reader asking again for a URL it already had
  wants it fresh (ChangedRecordsPartitionRouter re-reads a list that shifted while paged);
- an answer is dropped once its second reader has it: no URL has more than two readers, so the
  store holds only what one stream read and the other has yet to.

Only successes are kept, by their full URL, as copies without the request's Authorization
header, and only up to MAX_STORED_BYTES at once. One store serves one read, and only a read where
two streams share (source.py): each read's ReadContext (read_context.py) holds a new one (one
config: one base_url, one account's keys), so answers never outlive the sync or cross to another source.

Why not the CDK's `use_cache` (requests_cache): its cache sits below the HTTP client's retry
loop, so a cached truncated 200 answers its own retry; without REQUEST_CACHE_PATH every client
in the process shares one in-memory database that outlives the read; its keys leave out the
Authorization header, so two accounts on one base_url would share answers; and two streams
asking at once both go to the server.
"""

import logging
import threading
from dataclasses import InitVar, dataclass, field
from functools import partial
from typing import Any, Callable, Dict, Mapping, Optional, Set

import requests
from requests.structures import CaseInsensitiveDict

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.requester import HttpMethod, Requester
from airbyte_cdk.sources.streams.http.error_handlers import ResponseAction
from airbyte_cdk.sources.types import Config, StreamSlice

from source_meetlog import cdk_internals
from source_meetlog.components.list_items import list_item_answer
from source_meetlog.components.read_context import ReadContext

logger = logging.getLogger("airbyte")

# Projects are few (a detail is a few kB); this bound only matters if an account has thousands.
MAX_STORED_BYTES = 64 * 1024 * 1024
# Two streams read each shared URL: projects and project_transcripts, reports and transcripts' links.
READERS_PER_URL = 2


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
    # Response's pickled state: the body is read, no socket (requests defines both; its stubs do not).
    duplicate.__setstate__(response.__getstate__())  # type: ignore[attr-defined]
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
    fetch("…/projects/p1", reader=project_transcripts, send=…) -> that answer, now dropped; sends nothing
    fetch("…/projects/p1", reader=projects, send=…)           -> sends again (projects had it)
    """

    def __init__(self, max_bytes: int = MAX_STORED_BYTES) -> None:
        self._max_bytes = max_bytes
        self._stored_bytes = 0
        self._answers: Dict[str, _Answer] = {}
        self._url_locks: Dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._warned_full = False

    def fetch(self, url: str, reader: object, send: Callable[[], Optional[requests.Response]],
              is_success: Callable[[requests.Response], bool]) -> Optional[requests.Response]:
        """The answer to GET `url` for `reader`: another reader's success, else `send()`'s."""
        with self._lock_for(url):
            with self._lock:
                answer = self._answers.get(url)
                if answer is not None and reader in answer.readers:
                    answer = None  # a reader asking again wants it fresh
                if answer is not None:
                    answer.readers.add(reader)
                    if len(answer.readers) == READERS_PER_URL:  # its last reader: the memory is free again
                        self._stored_bytes -= self._answers.pop(url).size
            if answer is not None:
                return _copy(answer.response)
            response = send()
            self._keep(url, reader, response, is_success)
            return response

    def _lock_for(self, url: str) -> threading.Lock:
        with self._lock:
            return self._url_locks.setdefault(url, threading.Lock())

    def _keep(self, url: str, reader: object, response: Optional[requests.Response],
              is_success: Callable[[requests.Response], bool]) -> None:
        """The newest answer replaces the one before; a failure removes it."""
        keep = response if response is not None and response.status_code == 200 and is_success(response) else None
        size = len(keep.content or b"") if keep is not None else 0
        with self._lock:
            previous = self._answers.pop(url, None)
            self._stored_bytes -= previous.size if previous else 0
            if keep is None:
                return
            if self._stored_bytes + size <= self._max_bytes:
                self._answers[url] = _Answer(_copy(keep), size, {reader})
                self._stored_bytes += size
                return
            first_time_full, self._warned_full = not self._warned_full, True
        if first_time_full:
            logger.info(
                f"Over {self._max_bytes // (1024 * 1024)} MB of shared answers are waiting for their second stream; "
                "further ones are not shared, so the second stream that needs one requests it again."
            )

@dataclass
class SharedResponseRequester(Requester):
    """Sends through `requester` (an HttpRequester, declared in full in the manifest), except when
    the read holds the answer already: another stream's successful answer to the same GET, or, for
    a stream read from its list pages alone, the list item the slice carries.

    projects:            GET …/projects/p1  -> sent (with retries), its answer kept
    project_transcripts: GET …/projects/p1  -> that answer, no request
    transcripts, list-only: GET …/transcripts/t1 with the item in the slice -> the item, no request

    A wrapper rather than an HttpRequester subclass: the CDK builds a custom component's fields
    generically, and would drop what only it wires into an HttpRequester (request_headers, the
    message repository, disabled retries in test reads).
    """

    requester: HttpRequester
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    # False where no other stream asks for the same URLs (a transcript's or report's detail): its
    # answers are not kept, so a read's memory does not grow with its records.
    share_answers: bool = True

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        # None: nothing shared, each GET is sent
        self._responses = ReadContext.of(self).answers if self.share_answers else None
        self._reader = object()  # this stream's copy of the request, as the store tells readers apart

    # Every keyword goes on to the wrapped requester as it came: the signature need not spell them out.
    def send_request(self, stream_slice: Optional[StreamSlice] = None, **request: Any) -> Optional[requests.Response]:  # type: ignore[override]
        listed = list_item_answer(stream_slice)
        if listed is not None:
            return listed
        send = partial(self.requester.send_request, stream_slice=stream_slice, **request)
        if self._responses is None or self.requester.get_method() != HttpMethod.GET:
            return send()
        # The URL send_request would send, query included (unit_tests/test_shared_requester.py checks it).
        url = cdk_internals.url_of_request(self.requester, request.get("stream_state"), stream_slice,
                                           request.get("next_page_token"), request.get("path"), request.get("request_params"))
        return self._responses.fetch(url, self._reader, send, self._is_success)

    def _is_success(self, response: requests.Response) -> bool:
        """What the error handler calls a success: never a body it would retry (unreadable_body)."""
        handler = self.requester.error_handler
        return handler is None or handler.interpret_response(response).response_action == ResponseAction.SUCCESS


# The rest of the Requester interface is the wrapped requester's.
for _method in ("get_authenticator", "get_url", "get_url_base", "get_path", "get_method", "get_request_params",
                "get_request_headers", "get_request_body_data", "get_request_body_json"):
    setattr(SharedResponseRequester, _method,
            lambda self, *args, _method=_method, **kwargs: getattr(self.requester, _method)(*args, **kwargs))
SharedResponseRequester.exit_on_rate_limit = property(  # type: ignore[attr-defined]
    lambda self: self.requester.exit_on_rate_limit, lambda self, value: setattr(self.requester, "exit_on_rate_limit", value))
