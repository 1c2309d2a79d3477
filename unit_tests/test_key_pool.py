"""KeyPool: each key held to N requests in any sliding 60 s window (+0.25 s margin), keys served in turn.

All timing runs on a fake clock: `sleep` advances it and records the wait, so nothing really sleeps.
"""

import logging
import random
import sys
import threading
from collections import Counter, defaultdict
from typing import Dict, List

import pytest

from airbyte_cdk.models import FailureType

from source_meetlog.components.key_pool import (
    WINDOW_MARGIN_SECONDS,
    WINDOW_SECONDS,
    AllKeysRejected,
    TEST_WINDOW_ENVIRONMENT_VARIABLE,
    KeyPool,
    RateLimitWaitTooLong,
)

START = 1000.0
SPAN = WINDOW_SECONDS + WINDOW_MARGIN_SECONDS  # 60.25 s: how long a send holds its slot
KEYS = ("tk_live_poolKeyOne1", "tk_live_poolKeyTwo2", "tk_live_poolKeyThree3")
A, B, C = KEYS


class FakeClock:
    """Time moves only when someone sleeps; each thread remembers the last time it read.

    The pool reads the clock under its own lock when it grants a key, so a thread's last reading
    after `acquire` returns is the moment its request was counted.
    """

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.waits: List[float] = []
        self._lock = threading.Lock()
        self._seen = threading.local()

    def __call__(self) -> float:
        with self._lock:
            self._seen.value = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            assert seconds >= 0, f"asked to sleep {seconds}"
            # A pool that never frees a slot would loop here for ever: fail instead of hanging.
            assert len(self.waits) < 100_000, "the pool keeps sleeping without making progress"
            self.waits.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    @property
    def last_seen(self) -> float:
        return self._seen.value



def take(pool: KeyPool) -> str:
    """The key the next request is signed with."""
    return pool.acquire()[0]

def make_pool(keys=(A,), rpm: int = 3, clock: FakeClock = None, **kwargs) -> KeyPool:
    clock = clock or FakeClock()
    return KeyPool(tuple(keys), rpm, clock=clock, sleep=clock.sleep, **kwargs)


def assert_sliding_window_respected(sends: Dict[str, List[float]], limit: int) -> None:
    """No key sends more than `limit` times in any window shorter than 60.25 s:
    for sorted times t, t[i + limit] - t[i] >= 60.25 for every i."""
    for key, times in sends.items():
        times = sorted(times)
        for i in range(len(times) - limit):
            span = times[i + limit] - times[i]
            assert span >= SPAN - 1e-9, f"{limit + 1} sends of one key within {span:.3f} s (from t={times[i]})"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pool_warnings(caplog, monkeypatch):
    """Warnings of the connector's 'airbyte' logger, captured even if the CDK stopped its propagation."""
    monkeypatch.setattr(logging.getLogger("airbyte"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="airbyte")
    return caplog


# ------------------------------------------------------------------------------ one key


def test_given_one_key_then_the_first_n_acquisitions_are_immediate(clock):
    pool = make_pool(rpm=5, clock=clock)

    assert [take(pool) for _ in range(5)] == [A] * 5
    assert clock.waits == []
    assert clock.now == START


def test_given_a_full_window_then_the_next_waits_until_the_oldest_send_is_60_25_s_old(clock):
    """Sends at 1000 and 4 x 1010 (limit 5): the 6th waits till 1000 + 60 + 0.25 = 1060.25,
    the 7th till 1010 + 60.25 = 1070.25."""
    pool = make_pool(rpm=5, clock=clock)
    take(pool)
    clock.advance(10)
    for _ in range(4):
        take(pool)

    take(pool)
    assert clock.now == pytest.approx(1060.25)
    assert sum(clock.waits) == pytest.approx(50.25)

    take(pool)
    assert clock.now == pytest.approx(1070.25)


def test_given_a_slot_freed_by_time_then_acquire_does_not_wait(clock):
    pool = make_pool(rpm=2, clock=clock)
    for _ in range(2):
        take(pool)
    clock.advance(SPAN)

    take(pool)
    assert clock.waits == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_over_500_acquisitions_with_irregular_gaps_no_key_exceeds_its_window(seed):
    """Bursts, pauses and steady runs: every 60.25 s window holds at most N sends of a key,
    and the pool never waits when a slot was free (it sends as soon as the window allows)."""
    rng = random.Random(seed)
    clock = FakeClock()
    limit = 7
    pool = make_pool(keys=(A, B), rpm=limit, clock=clock)
    sends: Dict[str, List[float]] = defaultdict(list)

    for _ in range(500):
        if rng.random() < 0.3:
            clock.advance(rng.choice([0.0, 0.1, 1.5, 7.0, 30.0, 61.0]))
        started, before = clock.now, len(clock.waits)
        key = take(pool)
        if len(clock.waits) > before:
            # It waited: so when it started, both keys had N sends in the last 60.25 s.
            holding = [t for times in sends.values() for t in times if t > started - SPAN]
            assert len(holding) == 2 * limit
        sends[key].append(clock.last_seen)

    assert sum(len(times) for times in sends.values()) == 500
    assert_sliding_window_respected(sends, limit)


# ------------------------------------------------------------------------------ several keys


def test_given_three_keys_then_3n_acquisitions_are_immediate_in_round_robin_order(clock):
    pool = make_pool(keys=KEYS, rpm=4, clock=clock)

    taken = [take(pool) for _ in range(12)]

    assert taken == [A, B, C] * 4
    assert clock.waits == []


def test_given_three_full_keys_then_the_next_acquisition_waits_for_the_first_freed_slot(clock):
    pool = make_pool(keys=KEYS, rpm=2, clock=clock)
    for _ in range(6):
        take(pool)

    assert take(pool) == A
    assert clock.now == pytest.approx(START + SPAN)


def test_given_a_resting_key_then_the_others_serve_and_it_returns_after_the_rest(clock):
    """rest(A, 30) at t=1000 with two keys of limit 2: B, B at once; then B is full until 1060.25
    while A is back at 1030, so the third acquisition waits 30 s and gets A."""
    pool = make_pool(keys=(A, B), rpm=2, clock=clock)
    pool.rest(A, 30)

    assert [take(pool), take(pool)] == [B, B]
    assert clock.waits == []

    assert take(pool) == A
    assert clock.now == pytest.approx(START + 30)


def test_resting_twice_keeps_the_later_end(clock):
    pool = make_pool(keys=(A,), rpm=5, clock=clock)
    pool.rest(A, 30)
    pool.rest(A, 5)  # a shorter Retry-After does not cut an earlier, longer one

    take(pool)
    assert clock.now == pytest.approx(START + 30)


def test_resting_an_unknown_key_changes_nothing(clock):
    pool = make_pool(keys=(A,), rpm=5, clock=clock)
    pool.rest("tk_live_notInThePool", 30)

    take(pool)
    assert clock.waits == []


# ------------------------------------------------------------------------------ rejected keys


def test_a_rejected_key_is_never_chosen_again(clock):
    pool = make_pool(keys=KEYS, rpm=10, clock=clock)
    pool.reject(B)

    assert [take(pool) for _ in range(6)] == [A, C] * 3


def test_rejecting_a_key_logs_its_position_and_never_the_key(clock, pool_warnings):
    pool = make_pool(keys=KEYS, rpm=10, clock=clock)

    pool.reject(B)

    messages = [record.getMessage() for record in pool_warnings.records]
    assert len(messages) == 1
    assert "#2 of 3" in messages[0]
    assert "2 key(s) remain" in messages[0]
    assert all(key not in messages[0] for key in KEYS)
    assert "poolKey" not in messages[0]


def test_rejecting_the_same_key_twice_logs_once(clock, pool_warnings):
    pool = make_pool(keys=KEYS, rpm=10, clock=clock)
    pool.reject(C)
    pool.reject(C)

    assert len(pool_warnings.records) == 1


def test_rejecting_an_unknown_key_changes_nothing(clock, pool_warnings):
    pool = make_pool(keys=(A, B), rpm=10, clock=clock)
    pool.reject("tk_live_notInThePool")

    assert [take(pool) for _ in range(4)] == [A, B, A, B]
    assert pool_warnings.records == []


def test_given_the_only_key_rejected_then_acquire_raises_a_config_error_about_the_key(clock):
    pool = make_pool(keys=(A,), rpm=10, clock=clock)
    pool.reject(A)

    with pytest.raises(AllKeysRejected) as raised:
        take(pool)

    error = raised.value
    assert error.failure_type == FailureType.config_error
    assert "rejected the API key" in error.message
    assert "invalid, revoked or expired" in error.message
    assert A not in error.message


def test_given_every_key_rejected_then_acquire_raises_a_config_error_counting_them(clock):
    pool = make_pool(keys=KEYS, rpm=10, clock=clock)
    for key in KEYS:
        pool.reject(key)

    with pytest.raises(AllKeysRejected) as raised:
        take(pool)

    assert raised.value.failure_type == FailureType.config_error
    assert "all 3 API keys" in raised.value.message
    assert all(key not in raised.value.message for key in KEYS)
    assert clock.waits == []


def test_given_the_key_rejected_while_a_request_waits_for_it_then_the_waiter_raises(clock):
    """A request waits for A's window; meanwhile another request's 401 rejects A: no waiting for ever."""
    pools = []

    def sleep_while_another_request_gets_401(seconds):
        pools[0].reject(A)
        clock.sleep(seconds)

    pool = KeyPool((A,), 1, clock=clock, sleep=sleep_while_another_request_gets_401)
    pools.append(pool)
    take(pool)

    with pytest.raises(AllKeysRejected):
        take(pool)
    assert len(clock.waits) == 1


# ------------------------------------------------------------------------------ waiting too long


def test_given_a_wait_longer_than_max_wait_then_raises_instead_of_sleeping(clock):
    pool = make_pool(keys=(A,), rpm=1, clock=clock, max_wait_seconds=30)
    take(pool)

    with pytest.raises(RateLimitWaitTooLong) as raised:
        take(pool)

    assert raised.value.failure_type == FailureType.transient_error
    assert "60 s" in raised.value.message and "30 s" in raised.value.message
    assert clock.waits == []


def test_given_a_rest_longer_than_max_wait_on_every_key_then_raises(clock):
    pool = make_pool(keys=(A, B), rpm=10, clock=clock, max_wait_seconds=900)
    pool.rest(A, 1000)
    pool.rest(B, 2000)

    with pytest.raises(RateLimitWaitTooLong):
        take(pool)
    assert clock.waits == []


def test_given_a_wait_within_max_wait_then_sleeps_it(clock):
    pool = make_pool(keys=(A,), rpm=10, clock=clock, max_wait_seconds=30)
    pool.rest(A, 29)

    assert take(pool) == A
    assert sum(clock.waits) == pytest.approx(29)


def test_given_a_429_asking_past_max_wait_then_refused_as_asked_even_after_the_cdks_pause(clock):
    """Retry-After: 901 with a 900 s maximum: the CDK pauses 1 s before signing the retry, so
    900 s are left, but the server asked for 901: refused, and the message says 901."""
    pool = make_pool(keys=(A,), rpm=10, clock=clock, max_wait_seconds=900)
    pool.rest(A, 901)
    clock.advance(1.001)

    with pytest.raises(RateLimitWaitTooLong) as raised:
        take(pool)

    assert "901 s" in raised.value.message
    assert clock.waits == []


def test_given_one_key_asked_to_rest_an_hour_then_another_key_signs_at_once(clock):
    pool = make_pool(keys=(A, B), rpm=10, clock=clock, max_wait_seconds=900)
    pool.rest(A, 3600)

    assert [take(pool) for _ in range(3)] == [B, B, B]
    assert clock.waits == []


def test_given_one_key_resting_an_hour_and_the_other_full_then_waits_for_the_others_window(clock):
    pool = make_pool(keys=(A, B), rpm=1, clock=clock, max_wait_seconds=900)
    assert take(pool) == A
    assert take(pool) == B
    pool.rest(A, 3600)

    assert take(pool) == B
    assert sum(clock.waits) == pytest.approx(SPAN)


def test_given_the_test_window_variable_then_the_window_is_that_long(clock, monkeypatch):
    """For tests only (not in the spec): a server limited to 6 per 6 s needs a 6 s window."""
    monkeypatch.setenv(TEST_WINDOW_ENVIRONMENT_VARIABLE, "6")
    pool = make_pool(keys=(A,), rpm=1, clock=clock)
    take(pool)
    take(pool)

    assert clock.waits == [pytest.approx(6 + WINDOW_MARGIN_SECONDS)]


def test_without_the_test_window_variable_then_the_window_is_a_minute(clock, monkeypatch):
    monkeypatch.delenv(TEST_WINDOW_ENVIRONMENT_VARIABLE, raising=False)
    pool = make_pool(keys=(A,), rpm=1, clock=clock)
    take(pool)
    take(pool)

    assert clock.waits == [pytest.approx(60 + WINDOW_MARGIN_SECONDS)]


# ------------------------------------------------------------------------------ threads


def test_given_several_threads_then_every_acquisition_is_served_and_windows_hold():
    """8 threads x 30 acquisitions on 2 keys of limit 10: 240 grants, 120 per key (round robin),
    and no key sends 11 times within 60.25 s."""
    clock = FakeClock()
    limit = 10
    pool = make_pool(keys=(A, B), rpm=limit, clock=clock)
    sends: Dict[str, List[float]] = defaultdict(list)
    record_lock = threading.Lock()
    errors: List[BaseException] = []
    start = threading.Barrier(8)

    def worker():
        try:
            start.wait()
            for _ in range(30):
                key = take(pool)
                with record_lock:
                    sends[key].append(clock.last_seen)
        except BaseException as error:  # surfaced below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so races get their chance
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        sys.setswitchinterval(switch_interval)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert Counter({key: len(times) for key, times in sends.items()}) == Counter({A: 120, B: 120})
    assert_sliding_window_respected(sends, limit)


def test_a_slot_settled_when_its_answer_arrives_keeps_its_place_until_60_25_s_after_the_answer(clock):
    """The server counts a request when it arrives, which may be long after it was signed (a slow
    connection, a busy machine). Settling the slot at the answer's arrival keeps it in the window
    until 60.25 s after that: limit 2, both signed at 0, the first answered at 5 -> the third
    request waits for the second slot (60.25), the fourth for the first (65.25)."""
    pool = make_pool(rpm=2, clock=clock)
    start = clock.now
    _, first = pool.acquire()
    take(pool)
    clock.sleep(5)
    pool.settle(first)

    take(pool)
    third_at = clock.now
    take(pool)

    assert (third_at - start, clock.now - start) == (pytest.approx(60.25), pytest.approx(65.25))


@pytest.mark.parametrize("seed", [4, 5])
def test_given_answers_arriving_out_of_order_then_no_key_exceeds_its_window_counted_from_the_answers(seed):
    """Slots settle late and out of order (slow answers): every 60.25 s window, counted from when
    each answer arrived, still holds at most N sends of a key, with N high enough that the pool
    mostly runs below it and only sometimes at it."""
    rng = random.Random(seed)
    clock = FakeClock()
    limit = 40
    pool = make_pool(keys=(A,), rpm=limit, clock=clock)
    answered_at: List[float] = []
    unsettled = []

    for _ in range(600):
        clock.advance(rng.choice([0.0, 0.2, 1.0, 3.0]))
        unsettled.append(pool.acquire()[1])
        while unsettled and rng.random() < 0.6:
            slot = unsettled.pop(rng.randrange(len(unsettled)))
            pool.settle(slot)
            answered_at.append(slot.at)
    for slot in unsettled:
        pool.settle(slot)
        answered_at.append(slot.at)

    assert clock.waits, "the traffic reached the limit at least once"
    assert_sliding_window_respected({A: answered_at}, limit)
