"""MeetlogBackoffStrategy: no wait of its own for 429 (the key pool's), jittered exponential backoff for 5xx and network errors.

5xx failures are counted per request object and apart from 429s: waiting out the rate limit
never uses up the retries meant for a flaky server.
"""

import random
import time
from email.utils import formatdate

import pytest
import requests

from airbyte_cdk.models import FailureType

from source_meetlog.components import keys as backoff  # the backoff strategy lives with the keys
from source_meetlog.components.keys import (
    RETRY_THROUGH_THE_POOL_SECONDS,
    MeetlogBackoffStrategy,
    RetriesExhausted,
)


def strategy(**kwargs) -> MeetlogBackoffStrategy:
    return MeetlogBackoffStrategy(config={}, parameters={}, **kwargs)


def new_request() -> requests.PreparedRequest:
    return requests.Request("GET", "https://meetlog.ru/api/v1/export/transcripts?page=1").prepare()


def answer(status: int, request: requests.PreparedRequest = None, retry_after: str = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.request = request if request is not None else new_request()
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


@pytest.fixture
def jitter(monkeypatch):
    """Pins the jitter to one end of its range: jitter('low') -> ceiling / 2, jitter('high') -> ceiling."""

    def pin(end: str) -> None:
        monkeypatch.setattr(backoff.random, "uniform", lambda low, high: low if end == "low" else high)

    return pin


# ------------------------------------------------------------------------------ 429: the key pool waits


@pytest.mark.parametrize(
    "header",
    ["7", "0", "900", "3600", None, "soon", formatdate(time.time() + 30, usegmt=True)],
    ids=["7s", "0s", "900s", "an-hour", "missing", "unreadable", "http-date"],
)
def test_given_429_with_any_retry_after_then_only_the_tiny_wait_that_sends_the_retry_through_the_pool(header):
    """The key pool rests the key as Retry-After says and refuses a rest past its maximum
    (test_key_pool.py); a wait here would be a second owner of it. 0 would hand the wait to the
    CDK's own exponential backoff, so the answer is tiny but positive."""
    wait = strategy().backoff_time(answer(429, retry_after=header), attempt_count=1)

    assert wait == RETRY_THROUGH_THE_POOL_SECONDS
    assert 0 < wait < 0.01


# ------------------------------------------------------------------------------ 5xx and network errors


def test_given_5xx_then_waits_double_with_each_failure_of_the_same_request(jitter):
    """base 1 s, ceiling 1, 2, 4, 8, 16 for failures 1..5; equal jitter keeps the wait in
    [ceiling / 2, ceiling]."""
    request = new_request()
    jitter("high")
    highs = [strategy().backoff_time(answer(502, request), attempt_count=n) for n in range(1, 4)]
    jitter("low")
    lows = [strategy().backoff_time(answer(502, request), attempt_count=n) for n in range(4, 6)]

    assert highs == [1.0, 2.0, 4.0]
    assert lows == [4.0, 8.0]


@pytest.mark.parametrize("seed", range(5))
def test_jittered_waits_stay_between_half_the_ceiling_and_the_ceiling(seed, monkeypatch):
    monkeypatch.setattr(backoff.random, "uniform", random.Random(seed).uniform)
    request = new_request()
    waits = [strategy().backoff_time(answer(503, request), attempt_count=n) for n in range(1, 6)]

    for failure, wait in enumerate(waits, start=1):
        ceiling = 2 ** (failure - 1)
        assert ceiling / 2 <= wait <= ceiling


def test_jitter_spreads_workers_that_fail_together():
    waits = {strategy().backoff_time(answer(502), attempt_count=1) for _ in range(20)}

    assert len(waits) > 1


@pytest.mark.parametrize(
    "failure, named",
    [
        (lambda request: answer(502, request), "HTTP 502"),
        (lambda request: answer(500, request), "HTTP 500"),
        (lambda request: answer(200, request), "HTTP 200 with a body that is not the documented JSON"),
        (lambda request: requests.ReadTimeout("read timed out", request=request), "timeout"),
        (lambda request: requests.ConnectionError("Connection reset by peer", request=request), "reset"),
    ],
    ids=["502", "500", "unreadable-200", "timeout", "reset"],
)
def test_the_sixth_failure_of_a_request_raises_retries_exhausted_naming_the_failure(failure, named):
    request = new_request()
    strategy_ = strategy()
    for attempt in range(1, 6):
        assert strategy_.backoff_time(failure(request), attempt_count=attempt) > 0

    with pytest.raises(RetriesExhausted) as raised:
        strategy_.backoff_time(failure(request), attempt_count=6)

    error = raised.value
    assert named in error.message
    assert "6 attempts" in error.message
    assert error.failure_type == FailureType.transient_error


def test_max_retries_is_configurable():
    request = new_request()
    strategy_ = strategy(max_retries=1)
    strategy_.backoff_time(answer(502, request), attempt_count=1)

    with pytest.raises(RetriesExhausted):
        strategy_.backoff_time(answer(502, request), attempt_count=2)


def test_429s_between_5xx_do_not_use_up_the_5xx_budget():
    """502, 429, 502, 429, … : ten 429s and five 502s pass; only the sixth 502 ends the request."""
    request = new_request()
    strategy_ = strategy()
    for attempt in range(1, 6):
        strategy_.backoff_time(answer(429, request, retry_after="1"), attempt_count=2 * attempt - 1)
        strategy_.backoff_time(answer(502, request), attempt_count=2 * attempt)
        strategy_.backoff_time(answer(429, request, retry_after="1"), attempt_count=2 * attempt)

    with pytest.raises(RetriesExhausted):
        strategy_.backoff_time(answer(502, request), attempt_count=16)


def test_many_429s_on_one_request_never_exhaust_it():
    request = new_request()
    strategy_ = strategy()

    waits = [strategy_.backoff_time(answer(429, request, retry_after="2"), attempt_count=n) for n in range(1, 41)]

    assert waits == [RETRY_THROUGH_THE_POOL_SECONDS] * 40
    assert 0.5 <= strategy_.backoff_time(answer(502, request), attempt_count=41) <= 1.0  # still its first 5xx


def test_401_waits_a_moment_only_and_is_not_counted_as_a_server_failure():
    """The pool has dropped the key; the retry goes out on another key at once."""
    request = new_request()
    strategy_ = strategy()

    waits = [strategy_.backoff_time(answer(401, request), attempt_count=n) for n in range(1, 10)]

    assert all(0 < wait < 0.1 for wait in waits)
    assert 0.5 <= strategy_.backoff_time(answer(502, request), attempt_count=10) <= 1.0


def test_failures_are_counted_per_request():
    """Five failures of one page do not shorten the retries of another."""
    first, second = new_request(), new_request()
    strategy_ = strategy()
    for attempt in range(1, 6):
        strategy_.backoff_time(answer(502, first), attempt_count=attempt)

    assert 0.5 <= strategy_.backoff_time(answer(502, second), attempt_count=1) <= 1.0
    with pytest.raises(RetriesExhausted):
        strategy_.backoff_time(answer(502, first), attempt_count=6)


def test_the_count_lives_on_the_request_so_two_strategies_agree():
    """The manifest builds several error handlers; the count belongs to the request, not to one of them."""
    request = new_request()
    for attempt in range(1, 6):
        strategy().backoff_time(answer(503, request), attempt_count=attempt)

    with pytest.raises(RetriesExhausted):
        strategy().backoff_time(answer(503, request), attempt_count=6)


def test_an_exception_without_a_request_still_gets_a_first_retry_wait():
    assert 0.5 <= strategy().backoff_time(requests.ConnectionError("refused"), attempt_count=1) <= 1.0
