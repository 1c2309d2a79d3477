"""RateLimitStatus, and the key pool telling it about waits: one RATE_LIMITED / RUNNING pair per stream per wait."""

import json

import orjson
import pytest

from airbyte_cdk.models import AirbyteMessageSerializer, AirbyteStreamStatus, AirbyteStreamStatusReasonType
from airbyte_cdk.sources.message import InMemoryMessageRepository

from source_meetlog.components.key_pool import WINDOW_MARGIN_SECONDS, WINDOW_SECONDS, KeyPool
from source_meetlog.components.signals import ANNOUNCED_WAIT_SECONDS, RateLimitStatus

WALL = 1_700_000_000.0
A, B = "tk_live_statusKeyOne1", "tk_live_statusKeyTwo2"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def status_for(streams=("transcripts",), **kwargs):
    repository = InMemoryMessageRepository()
    return RateLimitStatus(repository, streams, wall_clock=lambda: WALL, **kwargs), repository


def sent(repository):
    """(stream, status, quota_reset or None, has a reason) of each message, through the protocol's own serializer."""
    out = []
    for message in repository.consume_queue():
        loaded = AirbyteMessageSerializer.load(json.loads(orjson.dumps(AirbyteMessageSerializer.dump(message))))
        trace = loaded.trace.stream_status
        reasons = trace.reasons or []
        out.append((
            trace.stream_descriptor.name,
            trace.status,
            [(r.type, r.rate_limited.quota_reset if r.rate_limited else None) for r in reasons],
        ))
    return out


def test_given_a_long_wait_then_one_rate_limited_status_with_quota_reset_and_one_clearing_running():
    status, repository = status_for()

    status.waiting("transcripts", 55.0)
    status.waiting("transcripts", 54.0)  # another worker of the same stream, same wait
    status.flowing("transcripts")
    status.flowing("transcripts")

    assert sent(repository) == [
        ("transcripts", AirbyteStreamStatus.RUNNING, [(AirbyteStreamStatusReasonType.RATE_LIMITED, 1_700_000_055_000)]),
        ("transcripts", AirbyteStreamStatus.RUNNING, []),
    ]


def test_given_two_waits_then_two_pairs():
    status, repository = status_for()
    for _ in range(2):
        status.waiting("transcripts", 30.0)
        status.flowing("transcripts")

    assert len(sent(repository)) == 4


@pytest.mark.parametrize("seconds", [0.0, 1.0, ANNOUNCED_WAIT_SECONDS])
def test_given_a_wait_no_longer_than_the_threshold_then_nothing(seconds):
    status, repository = status_for()
    status.waiting("transcripts", seconds)
    status.flowing("transcripts")

    assert sent(repository) == []


def test_given_a_stream_not_in_the_catalog_then_nothing():
    status, repository = status_for(streams=("reports",))

    assert status.stream_of("transcripts") is None
    status.waiting(status.stream_of("transcripts"), 55.0)
    status.flowing(status.stream_of("transcripts"))

    assert sent(repository) == []


def test_given_a_stream_not_read_then_its_requesters_waits_are_not_announced():
    status = status_for(streams=("project_transcripts",))[0]

    assert status.stream_of("project_transcripts") == "project_transcripts"
    assert status.stream_of("projects") is None


def test_given_no_message_repository_then_nothing_and_no_error():
    status = RateLimitStatus(None, ("transcripts",))
    status.waiting("transcripts", 55.0)
    status.flowing("transcripts")


def test_after_a_stream_is_done_then_nothing_more_is_said_about_it():
    status, repository = status_for()
    status.waiting("transcripts", 55.0)
    status.stream_done("transcripts")
    status.flowing("transcripts")
    status.waiting("transcripts", 55.0)

    assert [s[2] != [] for s in sent(repository)] == [True]


# ------------------------------------------------------------------------------ the key pool's waits


def pool_with_status(keys=(A,), rpm=2):
    status, repository = status_for()
    clock = FakeClock()
    return KeyPool(tuple(keys), rpm, clock=clock, sleep=clock.sleep, status=status), clock, repository


def test_given_a_full_window_then_the_pool_announces_the_moment_room_comes_back():
    pool, clock, repository = pool_with_status(rpm=2)
    pool.acquire("transcripts")
    pool.acquire("transcripts")
    assert sent(repository) == []

    pool.acquire("transcripts")

    span = WINDOW_SECONDS + WINDOW_MARGIN_SECONDS
    assert sent(repository) == [
        ("transcripts", AirbyteStreamStatus.RUNNING, [(AirbyteStreamStatusReasonType.RATE_LIMITED, round((WALL + span) * 1000))]),
        ("transcripts", AirbyteStreamStatus.RUNNING, []),
    ]
    assert clock.now == pytest.approx(1000.0 + span)


def test_given_a_429s_rest_then_quota_reset_is_when_the_rest_ends():
    pool, clock, repository = pool_with_status(rpm=10)
    pool.rest(A, 7)
    clock.now += 1.001  # the CDK's pause before it signs the retry

    pool.acquire("transcripts")

    quota_reset = sent(repository)[0][2][0][1]
    assert quota_reset == round((WALL + 7 - 1.001) * 1000)  # wall clock frozen: 7 s after the 429, less the pause


def test_given_a_429_on_one_key_and_another_ready_then_no_wait_and_no_status():
    pool, clock, repository = pool_with_status(keys=(A, B), rpm=10)
    pool.rest(A, 30)

    assert pool.acquire("transcripts")[0] == B
    assert sent(repository) == []
