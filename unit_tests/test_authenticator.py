"""KeyPoolAuthenticator: signs each request with a key from the pool, and learns from 401 and 429.

Built inside a read's ReadContext, authenticators share its pool; outside one, building fails.
Tests that look at timing swap in a pool on a fake clock (`authenticator.pool`).
"""

import itertools
import logging
from typing import List, Tuple

import pytest
import requests

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.http.requests_native_auth import ResponseAwareAuthenticator
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_meetlog.components.keys import KeyPoolAuthenticator
from source_meetlog.components.key_pool import AllKeysRejected, KeyPool, RateLimitWaitTooLong
from source_meetlog.components.read_context import ComponentOutsideRead
from unit_tests.read_contexts import a_read

_serial = itertools.count()


def fresh_keys(count: int) -> Tuple[str, ...]:
    test = next(_serial)
    return tuple(f"tk_live_authTest{test}x{index}" for index in range(count))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def authenticator(keys, **config) -> KeyPoolAuthenticator:
    with a_read(keys, **config).bound():
        return KeyPoolAuthenticator(config={}, parameters={})


def on_fake_clock(auth: KeyPoolAuthenticator, keys, rpm: int = 60, max_wait_seconds: float = 900) -> FakeClock:
    """Swaps in a pool of the same keys whose time only moves when it sleeps."""
    clock = FakeClock()
    auth.pool = KeyPool(tuple(keys), rpm, clock=clock, sleep=clock.sleep, max_wait_seconds=max_wait_seconds)
    return clock


def signed(auth: KeyPoolAuthenticator) -> requests.PreparedRequest:
    request = requests.Request("GET", "https://meetlog.ru/api/v1/export/transcripts").prepare()
    return auth(request)


def response(status: int, retry_after: str = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    if retry_after is not None:
        answer.headers["Retry-After"] = retry_after
    return answer


# ------------------------------------------------------------------------------ building


def test_it_signs_from_the_pool_and_progress_log_of_the_read_it_was_built_in():
    read = a_read(fresh_keys(2), requests_per_minute=30)
    with read.bound():
        auth = KeyPoolAuthenticator(config={}, parameters={})

    assert auth.pool is read.key_pool and auth.progress is read.progress


def test_two_streams_authenticators_of_one_read_share_one_pool_and_one_progress_log():
    """The manifest builds one authenticator per stream; the API counts per key, not per stream."""
    with a_read(fresh_keys(2)).bound():
        first, second = KeyPoolAuthenticator(config={}, parameters={}), KeyPoolAuthenticator(config={}, parameters={})

    assert first.pool is second.pool
    assert first.progress is second.progress


def test_authenticators_of_two_reads_share_nothing():
    keys = fresh_keys(2)
    first, second = authenticator(keys), authenticator(keys)

    assert first.pool is not second.pool
    assert first.progress is not second.progress


def test_built_outside_a_read_then_it_refuses_with_what_to_do():
    """A second pool for the same key would pace it a second time: the two could exceed the limit together."""
    with pytest.raises(ComponentOutsideRead) as refused:
        KeyPoolAuthenticator(config={"api_key": fresh_keys(1)[0]}, parameters={})

    assert "KeyPoolAuthenticator was built outside a read" in str(refused.value)
    assert "SourceMeetlog" in str(refused.value)


def test_it_offers_the_cdks_response_aware_protocol():
    """So the HTTP client shows it every response (and it learns of 401 and 429)."""
    assert isinstance(authenticator(fresh_keys(1)), ResponseAwareAuthenticator)


# ------------------------------------------------------------------------------ signing


def test_calling_it_sets_a_bearer_authorization_header():
    keys = fresh_keys(1)

    assert signed(authenticator(keys)).headers["Authorization"] == f"Bearer {keys[0]}"


def test_calling_it_takes_the_keys_in_turn():
    keys = fresh_keys(3)
    auth = authenticator(keys)

    headers = [signed(auth).headers["Authorization"] for _ in range(6)]

    assert headers == [f"Bearer {key}" for key in keys * 2]


def test_get_auth_header_is_empty_and_spends_no_slot():
    """The CDK asks twice for each request: HttpRequester merges get_auth_header() into the
    request's headers, and HttpClient installs the authenticator as the session's auth, which
    calls __call__ when the request is prepared (and again on each retry). If both chose a key,
    every request would spend two slots of the per-minute window — half the throughput, and a
    429 from a window the pool thinks is still open. So only __call__ chooses.

    With a limit of 1 and no waiting allowed: get_auth_header() x 3, then one __call__ must
    still find the key's only slot free.
    """
    keys = fresh_keys(1)
    auth = authenticator(keys)
    clock = on_fake_clock(auth, keys, rpm=1, max_wait_seconds=0)

    assert [auth.get_auth_header() for _ in range(3)] == [{}, {}, {}]

    signed(auth)
    assert clock.waits == []
    with pytest.raises(RateLimitWaitTooLong):  # and the slot __call__ took is the only one spent
        signed(auth)


def test_a_request_sent_through_the_cdk_requester_spends_exactly_one_slot():
    """The real flow: HttpRequester (headers) + HttpClient (session auth) -> one key, one slot.

    HttpMocker answers at the transport, after the session's auth has signed the request: it matches
    only a request that carries the key, and counts them.
    """
    key = fresh_keys(1)[0]
    transcripts = HttpRequest("https://meetlog.ru/api/v1/export/transcripts", headers={"Authorization": f"Bearer {key}"})
    empty_page = '{"items": [], "meta": {"page": 1, "page_size": 100, "total": 0, "total_pages": 0}}'
    with HttpMocker() as http_mocker:
        http_mocker.get(transcripts, HttpResponse(empty_page))
        auth = authenticator([key])
        on_fake_clock(auth, [key], rpm=1, max_wait_seconds=0)
        requester = HttpRequester(
            name="transcripts",
            url_base="https://meetlog.ru",
            path="/api/v1/export/transcripts",
            http_method="GET",
            config={},
            parameters={},
            authenticator=auth,
        )

        answer = requester.send_request()

        assert answer.status_code == 200
        http_mocker.assert_number_of_calls(transcripts, 1)


def test_given_every_key_rejected_then_signing_raises_all_keys_rejected():
    keys = fresh_keys(1)
    auth = authenticator(keys)
    on_fake_clock(auth, keys)
    auth.update_from_response(signed(auth), response(401))

    with pytest.raises(AllKeysRejected):
        signed(auth)


def test_the_token_property_is_not_how_it_signs():
    with pytest.raises(NotImplementedError):
        authenticator(fresh_keys(1)).token


# ------------------------------------------------------------------------------ responses


def test_given_401_then_the_key_leaves_the_pool_and_the_others_sign(caplog):
    keys = fresh_keys(3)
    auth = authenticator(keys)
    on_fake_clock(auth, keys)
    rejected = signed(auth)  # keys[0]

    with caplog.at_level(logging.WARNING):
        auth.update_from_response(rejected, response(401))

    assert [signed(auth).headers["Authorization"] for _ in range(4)] == [f"Bearer {k}" for k in keys[1:] * 2]
    assert all(keys[0] not in record.getMessage() for record in caplog.records)


def test_given_429_with_retry_after_then_the_key_rests_that_long_while_another_signs():
    keys = fresh_keys(2)
    auth = authenticator(keys)
    clock = on_fake_clock(auth, keys)
    limited = signed(auth)  # keys[0]

    auth.update_from_response(limited, response(429, retry_after="30"))

    assert [signed(auth).headers["Authorization"] for _ in range(3)] == [f"Bearer {keys[1]}"] * 3
    clock.now += 30
    assert f"Bearer {keys[0]}" in {signed(auth).headers["Authorization"] for _ in range(2)}


def test_given_429_with_an_http_date_retry_after_then_the_key_rests_until_then():
    keys = fresh_keys(1)
    auth = authenticator(keys)
    clock = on_fake_clock(auth, keys)
    limited = signed(auth)

    auth.update_from_response(limited, response(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))  # past

    signed(auth)
    assert clock.waits == []


@pytest.mark.parametrize("retry_after", [None, "soon"], ids=["missing", "unreadable"])
def test_given_429_without_a_readable_retry_after_then_the_key_rests_one_second(retry_after):
    keys = fresh_keys(1)
    auth = authenticator(keys)
    clock = on_fake_clock(auth, keys)
    limited = signed(auth)

    auth.update_from_response(limited, response(429, retry_after=retry_after))
    signed(auth)

    assert sum(clock.waits) == pytest.approx(1.0)


@pytest.mark.parametrize("status", [200, 403, 404, 500, 502])
def test_other_answers_leave_the_key_alone(status):
    keys = fresh_keys(1)
    auth = authenticator(keys)
    clock = on_fake_clock(auth, keys)
    request = signed(auth)

    auth.update_from_response(request, response(status, retry_after="30"))

    assert signed(auth).headers["Authorization"] == f"Bearer {keys[0]}"
    assert clock.waits == []


def test_a_response_to_an_unsigned_or_foreign_request_changes_nothing():
    keys = fresh_keys(1)
    auth = authenticator(keys)
    on_fake_clock(auth, keys)
    unsigned = requests.Request("GET", "https://meetlog.ru/api/v1/export/transcripts").prepare()
    foreign = requests.Request(
        "GET", "https://meetlog.ru/api/v1/export/transcripts", headers={"Authorization": "Bearer tk_live_foreign"}
    ).prepare()
    basic = requests.Request("GET", "https://meetlog.ru/", headers={"Authorization": "Basic dXNlcjpwYXNz"}).prepare()

    for request in (unsigned, foreign, basic):
        auth.update_from_response(request, response(401))

    assert signed(auth).headers["Authorization"] == f"Bearer {keys[0]}"
