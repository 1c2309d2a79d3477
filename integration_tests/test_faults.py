"""A hostile network against the local Meetlog API: every fault ends in one of two outcomes.

1. The sync completes and every record arrives exactly once, or
2. it stops with a clear error, and the state it leaves (its last state message per stream, or
   the previous sync's when it sent none, as the platform keeps it) lets the next sync deliver
   every record it missed.

Faults are injected by the server (`server.inject`, seeded by `fault_seed`, so a run repeats);
mid-sync changes (revoked keys, deleted records, page drift) by its `on_request` hook. The CDK's sleep
before each retry is capped at 50 ms (conftest.py's `quick_retries`), as the outcome is under test,
not the timing (unit_tests/test_backoff.py pins that); the key pool's waits for Retry-After stay real.

Reproduce one row of RELIABILITY.md: `.venv/bin/pytest integration_tests/test_faults.py -k <name>`.
"""

import threading
import time
from collections import Counter
from typing import Dict, Iterable, List, Optional

import pytest
import requests

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, FailureType, SyncMode, Type

from integration_tests.harness import Sync, config_for, run_sync, unclear_errors
from integration_tests.meetlog_server import MeetlogServer, build_dataset, faults
from integration_tests.meetlog_server.faults import Fault, as_fault
from integration_tests.secrets_scan import assert_no_key_fragment

FAULT_SEED = 20261129
INCREMENTAL = SyncMode.incremental
EXPORT = "/api/v1/export/"


def list_path(stream: str) -> str:
    return f"{EXPORT}{stream}"


def detail_prefix(stream: str) -> str:
    return f"{EXPORT}{stream}/"


@pytest.fixture
def server_options():
    """conftest's `server` with this module's fault seed."""
    return {"fault_seed": FAULT_SEED}


@pytest.fixture
def paged_server(start_server):
    """150 transcripts and 149 reports: lists of two pages of 100, so paging really happens."""
    return start_server(dataset=build_dataset(transcripts=150, reports_per_transcript=1, projects=3), fault_seed=FAULT_SEED)


# ------------------------------------------------------------------------------ helpers


def expected_ids(server: MeetlogServer, stream: str) -> List[str]:
    return sorted(item["id"] for item in server.dataset.list_items(stream))


def assert_exactly_once(sync: Sync, stream: str, expected: Iterable[str]) -> None:
    counts = Counter(sync.ids(stream))
    twice = sorted(i for i, n in counts.items() if n > 1)
    assert not twice, f"{stream}: {len(twice)} record(s) emitted more than once, e.g. {twice[:3]}"
    missing = sorted(set(expected) - set(counts))
    assert not missing, f"{stream}: {len(missing)} record(s) never emitted, e.g. {missing[:3]}"


def assert_clear_errors(sync: Sync) -> None:
    """Errors a user can read: a sentence, no Python traceback, no bare exception name."""
    assert sync.errors, "the sync was expected to stop with an error"
    assert unclear_errors(sync.errors) == []


def state_after(previous: Optional[List[AirbyteStateMessage]], sync: Sync) -> List[AirbyteStateMessage]:
    """What the platform passes to the next sync: each stream's last state message, or the one before."""
    latest: Dict[str, AirbyteStateMessage] = {m.stream.stream_descriptor.name: m for m in previous or []}
    latest.update({m.stream.stream_descriptor.name: m for m in sync.state})
    return list(latest.values())


def fault_list_page(server: MeetlogServer, stream: str, page: int, fault: Fault | str, times: Optional[int] = 1) -> None:
    """Faults only the list request for `page` of `stream`.

    A path prefix cannot tell "/transcripts" from "/transcripts/<id>", so the hook marks the
    handler thread that is answering the right list request and the fault plan serves that
    thread the fault; the hook and the plan run one after the other in that thread.
    """
    fault = as_fault(fault)
    marked = set()
    left = [times]
    lock = threading.Lock()
    previous_hook = server.on_request
    planned_take = server.faults.take

    def mark(request) -> None:
        if previous_hook is not None:
            previous_hook(request)
        if request.path == list_path(stream) and request.query.get("page", "1") == str(page):
            with lock:
                if left[0] is None or left[0] > 0:
                    left[0] = None if left[0] is None else left[0] - 1
                    marked.add(threading.get_ident())

    def take(path: str):
        with lock:
            if threading.get_ident() in marked:
                marked.discard(threading.get_ident())
                return fault
        return planned_take(path)

    server.on_request = mark
    server.faults.take = take


def heal(server: MeetlogServer) -> None:
    """Every planned fault and list-page fault gone: the server behaves again."""
    server.faults.clear()
    server.faults.__dict__.pop("take", None)
    server.on_request = None


# ------------------------------------------------------------------------------ faults that heal: complete, exactly once

ONE_SHOT_FAULTS = [
    pytest.param(faults.http_500_html(), id="http_500_html"),
    pytest.param(faults.http_502(), id="http_502_html"),
    pytest.param(faults.http_503(), id="http_503_html"),
    pytest.param(faults.reset(), id="connection_reset"),
    pytest.param(faults.truncated_json("cut"), id="truncated_json_cut"),
    pytest.param(faults.truncated_json("full"), id="truncated_json_full_length"),
    pytest.param(faults.non_json(), id="html_200_login_page"),
]


@pytest.mark.parametrize("fault", ONE_SHOT_FAULTS)
def test_given_a_fault_on_a_list_page_and_on_a_detail_when_read_then_retried_and_every_record_arrives_once(server, fault):
    key = server.add_key()
    server.inject(fault, path_prefix=list_path("reports"), times=1)  # the first request is the list
    server.inject(fault, path_prefix=detail_prefix("reports"), times=1, after=3)

    sync = run_sync(server, config_for(server, key), streams=("reports",))

    assert sync.errors == []
    assert_exactly_once(sync, "reports", expected_ids(server, "reports"))
    assert sum(1 for r in sync.requests if r.fault == fault.kind) == 2
    assert_no_key_fragment(sync.all_text(), key)


def test_given_a_fault_on_page_two_of_two_when_read_then_that_page_is_read_again_and_nothing_is_skipped(
    paged_server
):
    server = paged_server
    key = server.add_key()
    fault_list_page(server, "transcripts", page=2, fault=faults.truncated_json("full"))

    sync = run_sync(server, config_for(server, key), streams=("transcripts",))

    assert sync.errors == []
    assert_exactly_once(sync, "transcripts", expected_ids(server, "transcripts"))
    pages = [(r.query.get("page", "1"), r.fault) for r in sync.list_requests("transcripts")]
    assert pages == [("1", None), ("2", "truncated_json"), ("2", None)]


def test_given_seeded_random_faults_on_every_path_when_read_then_every_record_of_every_stream_arrives_once():
    """Chaos: 4 % of requests fail, each with one of five faults, chosen by a seeded generator."""
    dataset = build_dataset(transcripts=120, reports_per_transcript=1, projects=3)
    with MeetlogServer(dataset=dataset, requests_per_window=None, fault_seed=FAULT_SEED) as server:
        keys = [server.add_key(label="first"), server.add_key(label="second")]
        for fault in (faults.http_502(), faults.reset(), faults.truncated_json(), faults.non_json(),
                      faults.rate_limited(retry_after=1)):
            server.inject(fault, path_prefix=EXPORT, times=None, probability=0.008)

        sync = run_sync(server, config_for(server, ",".join(keys)))

        assert sync.errors == []
        for stream in ("transcripts", "reports", "projects"):
            assert_exactly_once(sync, stream, expected_ids(server, stream))
        assert sum(1 for r in sync.requests if r.fault) >= 3, "the seed should fire a few faults"
        assert_no_key_fragment(sync.all_text(), *keys)


# ------------------------------------------------------------------------------ 429 bursts, Retry-After in both forms


def test_given_a_burst_of_429_in_both_retry_after_forms_when_read_then_each_wait_is_honoured_and_nothing_is_lost(server):
    """Retry-After: 2, then an HTTP-date 2 s ahead (whole seconds, so it may say as little as 1 s)."""
    key = server.add_key()
    server.inject(faults.rate_limited(retry_after=2, retry_after_format="seconds"), path_prefix=list_path("projects"))
    server.inject(faults.rate_limited(retry_after=2, retry_after_format="http-date"), path_prefix=list_path("projects"))

    sync = run_sync(server, config_for(server, key), streams=("projects",))

    assert sync.errors == []
    assert_exactly_once(sync, "projects", expected_ids(server, "projects"))
    lists = sync.list_requests("projects")
    assert [r.status for r in lists] == [429, 429, 200]
    gaps = [later.timestamp - earlier.timestamp for earlier, later in zip(lists, lists[1:])]
    assert gaps[0] >= 2.0 - 0.05 and gaps[1] >= 1.0 - 0.05, gaps


def test_given_429s_with_a_missing_or_unreadable_retry_after_when_read_then_short_waits_and_nothing_is_lost(server):
    """No header, "soon", "-5" and an impossible date: each read as "no advice", a one-slot wait."""
    key = server.add_key()
    for retry_after in (None, "soon", "-5", "Wed, 32 Foo 2026 99:99:99 GMT"):
        server.inject(faults.rate_limited(retry_after=retry_after), path_prefix=detail_prefix("reports"))

    started = time.monotonic()
    sync = run_sync(server, config_for(server, key), streams=("reports",))

    assert sync.errors == []
    assert_exactly_once(sync, "reports", expected_ids(server, "reports"))
    assert server.count(status=429) == 4
    assert time.monotonic() - started < 20


def test_given_a_429_asking_for_an_hour_when_read_then_a_clear_error_at_once_and_the_next_sync_loses_nothing(server):
    key = server.add_key()
    config = config_for(server, key)
    first = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)
    added = [server.add_transcript()["id"] for _ in range(3)]
    server.inject(faults.rate_limited(retry_after=3600), path_prefix=detail_prefix("transcripts"), times=1)

    started = time.monotonic()
    stopped = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert time.monotonic() - started < 10, "it must not sit out the hour"
    assert_clear_errors(stopped)
    assert any("3600 s" in e and "next sync resumes" in e for e in stopped.errors)
    assert any(e.failure_type == FailureType.transient_error and "3600 s" in e.message
               for e in (m.trace.error for m in stopped.output.errors))
    # The key rested an hour in the stopped read's pool; each read has a pool of its own (ReadContext).
    resumed = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL,
                       state=state_after(first.state, stopped))
    assert resumed.errors == []
    assert set(added) <= set(stopped.ids("transcripts")) | set(resumed.ids("transcripts"))
    assert_exactly_once(resumed, "transcripts", set(added) - set(stopped.ids("transcripts")))


# ------------------------------------------------------------------------------ faults that never heal: clear error, resumable state


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(faults.http_503(), id="http_503"),
        pytest.param(faults.reset(), id="connection_reset"),
        pytest.param(faults.truncated_json(), id="truncated_json"),
    ],
)
def test_given_a_detail_that_never_stops_failing_when_read_then_a_clear_error_and_the_next_sync_delivers_every_missed_record(
    server, fault
):
    """A first sync settles; 6 transcripts arrive; one of them fails all six attempts."""
    key = server.add_key()
    config = config_for(server, key)
    first = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)
    assert first.errors == []
    added = [server.add_transcript()["id"] for _ in range(6)]
    server.inject(fault, path_prefix=detail_prefix("transcripts") + added[2], times=None)

    stopped = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert_clear_errors(stopped)
    assert any("kept failing" in e and "next sync resumes" in e for e in stopped.errors), stopped.errors
    assert added[2] not in stopped.ids("transcripts")
    heal(server)
    resumed = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL,
                       state=state_after(first.state, stopped))
    assert resumed.errors == []
    delivered = set(stopped.ids("transcripts")) | set(resumed.ids("transcripts"))
    assert set(added) <= delivered, f"{len(set(added) - delivered)} new transcript(s) lost for good"
    assert_exactly_once(resumed, "transcripts", set(added) - set(stopped.ids("transcripts")))
    assert_no_key_fragment(stopped.all_text() + resumed.all_text(), key)


@pytest.mark.parametrize(
    "fault",
    [pytest.param(faults.http_500_html(), id="http_500_html"), pytest.param(faults.reset(), id="connection_reset")],
)
def test_given_list_page_two_never_stops_failing_when_read_then_a_clear_error_and_the_next_sync_delivers_every_record(
    paged_server, fault
):
    server = paged_server
    key = server.add_key()
    config = config_for(server, key)
    fault_list_page(server, "transcripts", page=2, fault=fault, times=None)

    stopped = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)

    assert_clear_errors(stopped)
    assert any("kept failing" in e and "next sync resumes" in e for e in stopped.errors), stopped.errors
    assert len(set(stopped.ids("transcripts"))) < 150
    heal(server)
    resumed = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=state_after(None, stopped))
    assert resumed.errors == []
    everything = set(expected_ids(server, "transcripts"))
    assert set(stopped.ids("transcripts")) | set(resumed.ids("transcripts")) == everything
    assert_exactly_once(resumed, "transcripts", everything - set(stopped.ids("transcripts")))
    assert_no_key_fragment(stopped.all_text() + resumed.all_text(), key)


# ------------------------------------------------------------------------------ keys revoked in the middle of a sync


@pytest.mark.parametrize("spoil", ["revoke_key", "expire_key"])
def test_given_the_only_key_revoked_mid_sync_when_read_then_a_config_error_and_a_new_key_resumes_without_loss(spoil):
    dataset = build_dataset(transcripts=60, reports_per_transcript=0, projects=0)
    with MeetlogServer(dataset=dataset, requests_per_window=None, fault_seed=FAULT_SEED) as server:
        key = server.add_key()
        seen = [0]

        def spoil_after_20_requests(request):
            seen[0] += 1
            if seen[0] == 20:
                getattr(server, spoil)(key)

        server.on_request = spoil_after_20_requests
        stopped = run_sync(server, config_for(server, key), streams=("transcripts",), mode=INCREMENTAL)

        assert_clear_errors(stopped)
        errors = [m.trace.error for m in stopped.output.errors]
        assert any(e.failure_type == FailureType.config_error and "invalid, revoked or expired" in e.message
                   for e in errors)
        assert 0 < len(stopped.ids("transcripts")) < 60
        server.on_request = None
        new_key = server.add_key()
        resumed = run_sync(server, config_for(server, new_key), streams=("transcripts",), mode=INCREMENTAL,
                           state=state_after(None, stopped))
        assert resumed.errors == []
        everything = set(expected_ids(server, "transcripts"))
        assert set(stopped.ids("transcripts")) | set(resumed.ids("transcripts")) == everything
        assert_exactly_once(resumed, "transcripts", everything - set(stopped.ids("transcripts")))
        assert_no_key_fragment(stopped.all_text() + resumed.all_text(), key, new_key)


def test_given_one_of_two_keys_revoked_mid_sync_when_read_then_the_other_key_finishes_and_every_record_arrives_once(
    paged_server,
):
    server = paged_server
    first, second = server.add_key(label="first"), server.add_key(label="second")
    seen = [0]

    def revoke_second_after_30_requests(request):
        seen[0] += 1
        if seen[0] == 30:
            server.revoke_key(second)

    server.on_request = revoke_second_after_30_requests
    sync = run_sync(server, config_for(server, f"{first},{second}"), streams=("transcripts", "reports"))

    assert sync.errors == []
    assert_exactly_once(sync, "transcripts", expected_ids(server, "transcripts"))
    assert_exactly_once(sync, "reports", expected_ids(server, "reports"))
    assert server.count(status=401, key="second") >= 1
    assert any("API key #2 of 2 was rejected" in m.log.message for m in sync.output.logs)
    assert_no_key_fragment(sync.all_text(), first, second)


# ------------------------------------------------------------------------------ records deleted between list and detail


def test_given_records_deleted_after_they_were_listed_when_read_incrementally_then_the_rest_arrive_and_none_is_lost_next_time(
    paged_server,
):
    server = paged_server
    key = server.add_key()
    config = config_for(server, key)
    transcripts = server.dataset.list_items("transcripts")
    reports = server.dataset.list_items("reports")
    doomed = {"transcripts": {transcripts[i]["id"] for i in (7, 90, 149)},
              "reports": {reports[i]["id"] for i in (3, 120)}}
    # Deleting a transcript deletes its reports: keep those two reports on other transcripts.
    doomed_reports_parents = {r["transcription_id"] for r in reports if r["id"] in doomed["reports"]}
    assert not doomed_reports_parents & doomed["transcripts"]
    lock = threading.Lock()

    def delete_when_its_detail_is_asked(request):
        stream, _, id = request.path[len(EXPORT):].partition("/")
        with lock:
            if id and id in doomed.get(stream, ()):
                (server.delete_transcript if stream == "transcripts" else server.delete_report)(id)
                doomed[stream].discard(id)

    server.on_request = delete_when_its_detail_is_asked
    sync = run_sync(server, config, streams=("transcripts", "reports"), mode=INCREMENTAL)

    assert sync.errors == []
    assert doomed == {"transcripts": set(), "reports": set()}, "every doomed record had its detail asked for"
    for stream in ("transcripts", "reports"):
        assert_exactly_once(sync, stream, expected_ids(server, stream))
    skipped = [m.log.message for m in sync.output.logs if "deleted after it was listed" in m.log.message]
    assert len(skipped) >= 5  # more when a report of a deleted transcript was listed before it went
    server.on_request = None
    later = server.add_transcript()["id"]
    next_sync = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=sync.state)
    assert next_sync.ids("transcripts") == [later]
    assert_no_key_fragment(sync.all_text(), key)


# ------------------------------------------------------------------------------ page drift: items inserted or removed while a list is paged


def drift_on_page_two(server: MeetlogServer, changes) -> Dict[str, Dict[str, List[str]]]:
    """Runs each stream's change once, as page 2 of its list is asked for; returns what each added or removed."""
    done = {stream: {"added": [], "removed": []} for stream in changes}
    fired = set()
    lock = threading.Lock()

    def hook(request):
        for stream, change in changes.items():
            if request.path == list_path(stream) and request.query.get("page") == "2":
                with lock:
                    if stream in fired:
                        return
                    fired.add(stream)
                change(done[stream])

    server.on_request = hook
    return done


def insert_newest(server: MeetlogServer, stream: str, count: int):
    def change(done):
        for _ in range(count):
            if stream == "transcripts":
                done["added"].append(server.add_transcript()["id"])
            else:
                done["added"].append(server.add_report(server.dataset.list_items("transcripts")[10]["id"])["id"])

    return change


def remove_from_page_one(server: MeetlogServer, stream: str, count: int):
    def change(done):
        for item in server.dataset.list_items(stream)[5 : 5 + count]:
            (server.delete_transcript if stream == "transcripts" else server.delete_report)(item["id"])
            done["removed"].append(item["id"])

    return change


DRIFTING = ("transcripts", "reports")


@pytest.mark.parametrize("mode", [SyncMode.full_refresh, INCREMENTAL], ids=["full_refresh", "incremental"])
def test_given_items_inserted_ahead_while_lists_are_paged_when_read_then_no_record_arrives_twice_and_none_is_skipped(
    paged_server, mode
):
    """Newest first: 3 items inserted at the top push page 1's last 3 items onto page 2."""
    server = paged_server
    key = server.add_key()
    before = {stream: expected_ids(server, stream) for stream in DRIFTING}
    drift = drift_on_page_two(server, {stream: insert_newest(server, stream, 3) for stream in DRIFTING})

    sync = run_sync(server, config_for(server, key), streams=DRIFTING, mode=mode)

    assert sync.errors == []
    for stream in DRIFTING:
        assert len(drift[stream]["added"]) == 3
        assert_exactly_once(sync, stream, before[stream])
    if mode == INCREMENTAL:  # what this sync did not see, the next one brings
        server.on_request = None
        after = run_sync(server, config_for(server, key), streams=DRIFTING, mode=mode, state=sync.state)
        for stream in DRIFTING:
            assert set(drift[stream]["added"]) <= set(sync.ids(stream)) | set(after.ids(stream))


def test_given_items_removed_from_page_one_while_lists_are_paged_when_read_then_no_surviving_record_is_skipped(
    paged_server,
):
    """3 items of page 1 deleted as page 2 is asked for: page 2 now starts 3 items later, so the
    3 items that slid onto page 1 are seen only if the change of meta.total makes the list re-read."""
    server = paged_server
    key = server.add_key()
    before = {stream: expected_ids(server, stream) for stream in DRIFTING}
    drift = drift_on_page_two(server, {stream: remove_from_page_one(server, stream, 3) for stream in DRIFTING})

    sync = run_sync(server, config_for(server, key), streams=DRIFTING)

    assert sync.errors == []
    for stream in DRIFTING:
        assert len(drift[stream]["removed"]) == 3
        # Deleting a transcript deletes its reports too: survivors are what exists before and after.
        assert_exactly_once(sync, stream, set(before[stream]) & set(expected_ids(server, stream)))
    assert any("changed while it was paged" in m.log.message for m in sync.output.logs)


def test_given_items_removed_while_paged_when_synced_incrementally_then_no_surviving_record_is_lost_for_good(
    paged_server,
):
    server = paged_server
    key = server.add_key()
    before = expected_ids(server, "transcripts")
    drift = drift_on_page_two(server, {"transcripts": remove_from_page_one(server, "transcripts", 3)})
    first = run_sync(server, config_for(server, key), streams=("transcripts",), mode=INCREMENTAL)
    server.on_request = None

    second = run_sync(server, config_for(server, key), streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    survivors = set(before) - set(drift["transcripts"]["removed"])
    lost = survivors - set(first.ids("transcripts")) - set(second.ids("transcripts"))
    assert not lost, f"{len(lost)} transcript(s) that never changed are lost for good"
    assert_exactly_once(first, "transcripts", survivors)


def test_given_a_list_that_never_stops_shifting_when_read_incrementally_then_the_next_sync_brings_what_slipped_past(
    paged_server,
):
    """One transcript of page 1 deleted at every read of page 2: no read of the list is ever stable."""
    server = paged_server
    key = server.add_key()
    before = expected_ids(server, "transcripts")
    removed: List[str] = []

    def delete_one_each_time_page_two_is_read(request):
        if request.path == list_path("transcripts") and request.query.get("page") == "2":
            victim = server.dataset.list_items("transcripts")[5]["id"]
            server.delete_transcript(victim)
            removed.append(victim)

    server.on_request = delete_one_each_time_page_two_is_read
    shifting = run_sync(server, config_for(server, key), streams=("transcripts",), mode=INCREMENTAL)
    server.on_request = None
    settled = run_sync(server, config_for(server, key), streams=("transcripts",), mode=INCREMENTAL,
                       state=state_after(None, shifting))

    assert shifting.errors == [] and settled.errors == []
    assert len(removed) >= 2
    assert any("kept changing" in m.log.message for m in shifting.output.logs)
    survivors = set(before) - set(removed)
    lost = survivors - set(shifting.ids("transcripts")) - set(settled.ids("transcripts"))
    assert not lost, f"{len(lost)} transcript(s) that never changed are lost for good"
    assert_exactly_once(shifting, "transcripts", set())


# ------------------------------------------------------------------------------ responses slower than the timeout

@pytest.fixture
def sent_timeouts(monkeypatch) -> List:
    """Every requests.Session.send of this process, by its `timeout`; a timeout is cut to 1 s to keep tests short."""
    seen: List = []
    lock = threading.Lock()
    real_send = requests.Session.send

    def send(session, request, **kwargs):
        timeout = kwargs.get("timeout")
        with lock:
            seen.append((request.url, timeout))
        if timeout is not None:
            kwargs["timeout"] = (1.0, 1.0)
        return real_send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    return seen


def test_every_request_a_sync_sends_carries_a_timeout(server, sent_timeouts):
    key = server.add_key()

    sync = run_sync(server, config_for(server, key))

    assert sync.errors == []
    without = [url for url, timeout in sent_timeouts if timeout is None]
    assert sent_timeouts and not without, f"{len(without)} of {len(sent_timeouts)} requests had no timeout"


def test_every_request_a_check_sends_carries_a_timeout(server, sent_timeouts):
    import logging

    from source_meetlog import SourceMeetlog

    key = server.add_key()
    config = config_for(server, key)

    status = SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert status.status.name == "SUCCEEDED"
    assert len(sent_timeouts) == 3 and all(timeout is not None for _, timeout in sent_timeouts)


def test_given_a_detail_slower_than_the_timeout_when_read_then_it_is_abandoned_retried_and_nothing_is_lost(
    server, sent_timeouts
):
    """The server stalls one answer for 8 s; with any timeout (cut to 1 s here) the retry gets it."""
    key = server.add_key()
    slow_one = server.dataset.list_items("transcripts")[2]["id"]
    server.inject(faults.slow(8), path_prefix=detail_prefix("transcripts") + slow_one, times=1)

    started = time.monotonic()
    sync = run_sync(server, config_for(server, key), streams=("transcripts",))
    elapsed = time.monotonic() - started

    assert sync.errors == []
    assert_exactly_once(sync, "transcripts", expected_ids(server, "transcripts"))
    sends = [url for url, _ in sent_timeouts if url.endswith(f"/transcripts/{slow_one}")]
    assert len(sends) == 2, "abandoned, then asked again"
    assert elapsed < 7, f"the stalled answer held the sync for {elapsed:.1f} s"


# ------------------------------------------------------------------------------ an interrupted sync resumes where it was checkpointed


def test_given_a_first_sync_that_stops_on_page_three_when_resumed_then_at_most_page_three_is_fetched_again():
    """A sync that stops with an error (detail 221, on page 3, failing on every attempt) leaves, in the
    state the CDK emits as the stream fails, the records handed out before it (the `progress` of
    core/list_state.py): the next sync fetches again the failed record and those after it, never pages 1
    and 2, and its own state, the list read to the end, drops that progress. The checkpoints as records
    are sent are not needed here, as the CDK saves that state on failure anyway: the killed sync below
    is the test that needs them."""
    dataset = build_dataset(transcripts=250, reports_per_transcript=1, projects=3)
    with MeetlogServer(dataset=dataset, requests_per_window=None, fault_seed=FAULT_SEED) as server:
        key = server.add_key()
        config = config_for(server, key)
        ids = [t["id"] for t in server.dataset.list_items("transcripts")]  # newest first, 100 a page
        server.inject(faults.http_503(), path_prefix=detail_prefix("transcripts") + ids[220], times=None)

        stopped = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)
        assert_clear_errors(stopped)
        heal(server)
        resumed = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=state_after(None, stopped))

    assert resumed.errors == []
    fetched_again = {r.path.rsplit("/", 1)[1] for r in resumed.detail_requests("transcripts")}
    assert set(ids[220:]) <= fetched_again <= set(ids[200:]), len(fetched_again)
    assert_exactly_once(resumed, "transcripts", sorted(fetched_again))
    assert set(stopped.ids("transcripts")) | set(resumed.ids("transcripts")) == set(ids)
    assert "progress" not in str([AirbyteStateMessageSerializer.dump(m) for m in resumed.state]), "a finished sync keeps no progress"


def test_given_a_sync_killed_on_page_three_when_resumed_from_its_last_state_then_only_its_last_records_are_fetched_again():
    """A killed process sends no final state: what counts is the last state message before the kill.
    One follows the records sent within the state budget (cdk_internals.checkpoint_as_records_are_sent),
    so the last one before record 230 covers all but its last few records: fewer than 20 are fetched
    again. Without those checkpoints the CDK's first state comes after the 250th record, no state
    precedes the kill, and the resumed sync fetches all 250 details again."""
    dataset = build_dataset(transcripts=250, reports_per_transcript=1, projects=3)
    with MeetlogServer(dataset=dataset, requests_per_window=None, fault_seed=FAULT_SEED) as server:
        config = config_for(server, server.add_key())
        ids = [t["id"] for t in server.dataset.list_items("transcripts")]
        whole = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)
        before_the_kill = last_state_before_record(whole, 230)

        resumed = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=[before_the_kill])

    assert resumed.errors == []
    fetched_again = {r.path.rsplit("/", 1)[1] for r in resumed.detail_requests("transcripts")}
    assert set(ids[230:]) <= fetched_again <= set(ids[210:]), f"{len(fetched_again) - 20} fetched again"


def last_state_before_record(sync: Sync, position: int) -> AirbyteStateMessage:
    last, records = None, 0
    for message in sync.output.get_message_iterator():
        if message.type == Type.STATE:
            last = message.state
        elif message.type == Type.RECORD:
            records += 1
            if records == position:
                return last
    raise AssertionError(f"the sync sent fewer than {position} records")
