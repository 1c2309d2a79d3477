"""Keys and waits: which key signs a request (KeyPoolAuthenticator, over key_pool.py's pool), and how
long to wait before a failed request is retried (MeetlogBackoffStrategy).

- 429: no wait of its own. The authenticator has rested the key in the pool for what
  `Retry-After` says, and the CDK's retry signs again through the pool, which goes out on
  another key at once or waits until the rest is over, and refuses a rest past its maximum.
  One owner of that wait: the pool, which also tells Airbyte about it.
- 5xx, timeouts, resets, truncated bodies: exponential backoff with jitter, at most
  `max_retries` times for one request (manifest.yaml sets both budgets, side by side). These are
  counted apart from 429s, so waiting out the rate limit never uses up the retries meant for a
  flaky server.
- 401: retried at once; the key pool has already dropped the key, so the retry goes out
  on another key, or fails with a clear message when none is left.
"""

import random
import threading
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_meetlog.components.key_pool import retry_after_seconds
from source_meetlog.components.read_context import ReadContext

BEARER = "Bearer "
# Without a readable Retry-After, one slot of a 60-a-minute window is the least that can help.
FALLBACK_REST_SECONDS = 1.0
# The request carries its place in the key's window, so the answer can stamp it.
SLOT_ATTRIBUTE = "_meetlog_slot"


def _key_of(request: requests.PreparedRequest) -> Optional[str]:
    headers: Mapping[str, Any] = request.headers or {}
    header = headers.get("Authorization", "")
    return header[len(BEARER) :] if header.startswith(BEARER) else None


@dataclass
class KeyPoolAuthenticator(DeclarativeAuthenticator):
    """Signs each request with the key that has room; learns from 401 and 429 which keys to spare.

    a read of config {"api_key": "tk_live_a,tk_live_b", "requests_per_minute": 60}
    -> request.headers["Authorization"] == "Bearer tk_live_a", the next one "Bearer tk_live_b", …
    (every stream's authenticator signs from the read's one pool: ReadContext)

    It implements the CDK's ResponseAwareAuthenticator protocol, so the HTTP client shows it
    every response. A 429 rests its key in the pool, and the CDK's retry, which signs again,
    goes out on another key at once, or waits in the pool until a key may send: the pool alone
    waits for the rate limit (MeetlogBackoffStrategy asks the CDK for no wait of its own).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        read = ReadContext.of(self)
        self.pool, self.progress, self._status = read.key_pool, read.progress, read.status
        # The stream a wait belongs to, as the catalog names it: $parameters.name. Not a declared field
        # `name`, which the CDK fills with the requester's own stream's (a hidden list's: transcripts_list).
        self._requester_name = (parameters or {}).get("name")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        key, slot = self.pool.acquire(self._status.stream_of(self._requester_name))
        request.headers["Authorization"] = BEARER + key
        setattr(request, SLOT_ATTRIBUTE, slot)
        return request

    def get_auth_header(self) -> Mapping[str, Any]:
        # The requester asks for headers and the session then calls us too: choosing a key in
        # both places would spend two slots per request, so only __call__ chooses one.
        return {}

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        raise NotImplementedError("KeyPoolAuthenticator signs requests in __call__ only")

    def update_from_response(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        slot = getattr(request, SLOT_ATTRIBUTE, None)
        if slot is not None:
            self.pool.settle(slot)
        self.progress.request_done()
        key = _key_of(request)
        if key is None:
            return
        if response.status_code == 401:
            self.pool.reject(key)
        elif response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            # No readable Retry-After: rest the key for one window slot rather than not at all.
            self.pool.rest(key, wait if wait is not None else FALLBACK_REST_SECONDS)


# ------------------------------------------------------------------ retries
# The CDK sleeps this plus a second of its own, then signs the retry again, so the key pool
# decides how much longer it waits. 0 would make the CDK fall back to its exponential backoff.
RETRY_THROUGH_THE_POOL_SECONDS = 0.001


class RetriesExhausted(AirbyteTracedException):
    def __init__(self, attempts: int, problem: str) -> None:
        message = (f"The Meetlog API kept failing ({problem}) after {attempts} attempts. It may be down or overloaded; "
                   "the next sync resumes from the last state. If it persists, check 'base_url' and Meetlog's status.")
        super().__init__(message=message, internal_message=message, failure_type=FailureType.transient_error)


def describe_failure(response_or_exception: Union[requests.Response, Exception, None]) -> str:
    """A short, key-free description: 'HTTP 502', 'a timeout', 'HTTP 200 with a body that is not the documented JSON'."""
    if isinstance(response_or_exception, requests.Response):
        if response_or_exception.status_code == 200:
            return "HTTP 200 with a body that is not the documented JSON"
        return f"HTTP {response_or_exception.status_code}"
    if isinstance(response_or_exception, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(response_or_exception, requests.ConnectionError):
        return "the connection failed or was reset"
    return type(response_or_exception).__name__ if response_or_exception is not None else "unknown error"


@dataclass
class MeetlogBackoffStrategy(BackoffStrategy):
    """The key pool's wait for 429 and 401, jittered exponential backoff for everything else.

    <- 429 (any Retry-After) or 401                  -> 0.001 (the pool waits, see above)
    <- 502, third failure of this request            -> between 2 and 4 (base 1 s, doubled, jittered)
    <- 502, sixth failure with max_retries 5         -> raises RetriesExhausted
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    max_retries: int = 5
    base_seconds: float = 1.0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        # One request's attempts run one after another on one worker thread (the CDK's HttpClient):
        # the 429s and 401s of the request in flight are counted per thread, from its first failure.
        self._this_thread = threading.local()
        self.max_retries = int(self.max_retries)
        self.base_seconds = float(self.base_seconds)

    def backoff_time(self, response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
                     attempt_count: int) -> Optional[float]:
        """`attempt_count` is the CDK's count of this request's failures, 1 on the first."""
        if attempt_count <= 1:
            self._this_thread.rate_limited = 0
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code in (429, 401):
            # Not the server failing: the pool waits or changes key, and the budget stays untouched.
            self._this_thread.rate_limited = getattr(self._this_thread, "rate_limited", 0) + 1
            return RETRY_THROUGH_THE_POOL_SECONDS
        failures = max(attempt_count - getattr(self._this_thread, "rate_limited", 0), 1)
        if failures > self.max_retries:
            raise RetriesExhausted(failures, describe_failure(response_or_exception))
        ceiling = self.base_seconds * 2 ** (failures - 1)
        # "Equal jitter": never less than half the ceiling, so retries still back off, but spread out
        # so that parallel workers failing together do not retry together.
        return ceiling / 2 + random.uniform(0, ceiling / 2)
