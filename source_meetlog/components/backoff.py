"""How long to wait before retrying a Meetlog request, and when to stop retrying.

- 429: no wait of its own. The authenticator has rested the key in the pool for what
  `Retry-After` says, and the CDK's retry signs again through the pool, which goes out on
  another key at once or waits until the rest is over, and refuses a rest past its maximum.
  One owner of that wait: the pool (key_pool.py), which also tells Airbyte about it.
- 5xx, timeouts, resets, truncated bodies: exponential backoff with jitter, at most
  `max_retries` times for one request. These are counted apart from 429s, so waiting out the
  rate limit never uses up the retries meant for a flaky server.
- 401: retried at once; the key pool has already dropped the key, so the retry goes out
  on another key, or fails with a clear message when none is left.
"""

import random
import threading
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

# The CDK sleeps this plus a second of its own, then signs the retry again, so the key pool
# decides how much longer it waits. 0 would make the CDK fall back to its exponential backoff.
RETRY_THROUGH_THE_POOL_SECONDS = 0.001


class RetriesExhausted(AirbyteTracedException):
    def __init__(self, attempts: int, problem: str) -> None:
        message = (
            f"The Meetlog API kept failing ({problem}) after {attempts} attempts. It may be down or overloaded; "
            "the next sync resumes from the last state. If it persists, check 'base_url' and Meetlog's status."
        )
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
        self._rate_limited: Dict[Tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.max_retries = int(self.max_retries)
        self.base_seconds = float(self.base_seconds)

    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
        attempt_count: int,
    ) -> Optional[float]:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code in (429, 401):
            self._note_rate_limited(response_or_exception, attempt_count)
            return RETRY_THROUGH_THE_POOL_SECONDS
        failures = self._count_failure(response_or_exception, attempt_count)
        if failures > self.max_retries:
            raise RetriesExhausted(failures, describe_failure(response_or_exception))
        ceiling = self.base_seconds * 2 ** (failures - 1)
        # "Equal jitter": never less than half the ceiling, so retries still back off, but spread out
        # so that parallel workers failing together do not retry together.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _count_failure(self, response_or_exception: Any, attempt_count: int) -> int:
        """Failures so far of this request that were not 429s or 401s.

        The CDK counts every attempt of a request (`attempt_count`, 1 on the first failure). The
        429s and 401s among them are counted here, per request URL, and taken away. The URL, not the
        request object, is the key: a mock or a cache may hand a new object to each attempt.
        """
        key = self._request_key(response_or_exception)
        with self._lock:
            if attempt_count <= 1 or key not in self._rate_limited:
                self._rate_limited[key] = 0
            return max(attempt_count - self._rate_limited[key], 1)

    def _note_rate_limited(self, response: requests.Response, attempt_count: int) -> None:
        """A 429 (or a 401, retried on another key) is not the server failing: keep it off the budget."""
        key = self._request_key(response)
        with self._lock:
            earlier = self._rate_limited.get(key, 0) if attempt_count > 1 else 0
            self._rate_limited[key] = earlier + 1

    @staticmethod
    def _request_key(response_or_exception: Any) -> Tuple[str, str]:
        request = getattr(response_or_exception, "request", None)
        return (getattr(request, "method", "") or "", getattr(request, "url", "") or "")
