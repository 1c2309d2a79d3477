"""Change detection on messy data (issue #19): what an incremental sync costs and emits when some
records never stop being `processing`.

The data: build_dataset(230 transcripts, 1 report each, 12 projects, stuck_every=7,
stuck_reports_every=10). Newest first, 33 transcripts stay `processing`, at list places
1, 13, ..., 99 (15 on page 1), 110, ..., 195 (13 on page 2) and 200, ..., 224 (5 on page 3):
18 below the first page, the oldest on page 3. 21 of the 197 reports stay `processing`.

The first incremental sync of every stream is taken once per reconcile_deletions setting, on a
server of its own (`first_state`); each test runs a fresh server with the same data and syncs on
from that state. With one key the CDK generates partitions one stream at a time, in the catalog's
order, so the catalog's order is the order the streams' lists are read in.
"""

import copy
from typing import Dict, List, Sequence

import pytest

from airbyte_cdk.models import SyncMode

from integration_tests.harness import STREAMS, Sync, config_for, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset

INCREMENTAL = SyncMode.incremental
MESSY = dict(transcripts=230, reports_per_transcript=1, projects=12, stuck_every=7, stuck_reports_every=10)
# 600 transcripts, 4 pending at places 1, 193, 358, 528: 6 pages down to the oldest, 1 + 3 re-checks.
SPARSE = dict(transcripts=600, reports_per_transcript=0, projects=0, stuck_every=200)
PAGE = 100


@pytest.fixture(scope="module")
def first_state():
    """first_state(reconcile, sizes=MESSY) -> the state messages after a first incremental sync of every stream."""
    taken: Dict[tuple, list] = {}

    def state(reconcile: bool = False, sizes: dict = MESSY) -> list:
        key = (reconcile, tuple(sorted(sizes.items())))
        if key not in taken:
            with MeetlogServer(build_dataset(**sizes), requests_per_window=None) as server:
                sync = run_sync(server, config_for(server, server.add_key(), reconcile_deletions=reconcile), mode=INCREMENTAL)
            assert sync.errors == [] and len(sync.ids("transcripts")) == sizes["transcripts"]
            taken[key] = sync.state
        return copy.deepcopy(taken[key])

    return state


@pytest.fixture
def server(start_server) -> MeetlogServer:
    return start_server(build_dataset(**MESSY))


def sync_on(server: MeetlogServer, state: list, reconcile: bool = False, streams: Sequence[str] = STREAMS) -> Sync:
    sync = run_sync(server, config_for(server, server.add_key(), reconcile_deletions=reconcile), streams=streams,
                    mode=INCREMENTAL, state=copy.deepcopy(state))
    assert sync.errors == []
    return sync


def transcript_requests(sync: Sync) -> int:
    return len(sync.list_requests("transcripts")) + len(sync.detail_requests("transcripts"))


def list_requests(sync: Sync) -> Dict[str, int]:
    return {stream: len(sync.list_requests(stream)) for stream in STREAMS}


def pending_places(server: MeetlogServer) -> List[int]:
    return [place for place, t in enumerate(server.dataset.list_items("transcripts")) if t["status"] == "processing"]


def promised_no_change_cost(server: MeetlogServer) -> int:
    """min(pages of 100 down to the oldest pending transcript, 1 + pending transcripts below page 1)."""
    places = pending_places(server)
    return min(places[-1] // PAGE + 1, 1 + sum(place >= PAGE for place in places))


def emitted_as_served(sync: Sync, stream: str, ids: Sequence[str], server: MeetlogServer) -> None:
    """The sync emitted exactly these records of `stream`, each equal to its detail now (nulls included)."""
    resource = {"transcripts": server.dataset.transcript_detail, "reports": server.dataset.report_detail}[stream]
    assert sorted(sync.ids(stream)) == sorted(ids)
    assert sync.records(stream) and all(record == resource(record["id"]) for record in sync.records(stream))


# ------------------------------------------------------------------------------ no change


def test_given_messy_data_and_no_change_when_synced_then_nothing_is_emitted_and_reports_and_projects_cost_their_list_pages(
    server, first_state
):
    """The 21 pending reports are on the report list's 2 pages and still pending there: nothing to fetch."""
    sync = sync_on(server, first_state())

    assert sync.output.records == []
    assert {stream: len(sync.list_requests(stream)) + len(sync.detail_requests(stream))
            for stream in ("reports", "projects")} == {"reports": 2, "projects": 1}


@pytest.mark.parametrize("sizes", [
    pytest.param(MESSY, id="messy"),
    pytest.param(SPARSE, id="sparse"),
])
def test_given_pending_transcripts_and_no_change_when_synced_then_transcripts_cost_the_cheaper_of_pages_or_rechecks(
    start_server, first_state, sizes
):
    """Messy: the oldest pending transcript is on page 3 and 18 are below page 1, so min(3, 1 + 18) = 3
    (0.2.0: 1 + 18 = 19). Sparse: 6 pages down to the oldest, 3 below page 1, so min(6, 1 + 3) = 4."""
    server = start_server(build_dataset(**sizes))

    sync = sync_on(server, first_state(sizes=sizes), streams=("transcripts",))

    assert sync.output.records == []
    assert transcript_requests(sync) == promised_no_change_cost(server), (
        f"{transcript_requests(sync)} transcript requests, promised {promised_no_change_cost(server)}")


# ------------------------------------------------------------------------------ new and completed transcripts


@pytest.mark.parametrize("k", [1, 3])
def test_given_k_new_transcripts_when_synced_then_only_they_are_emitted(server, first_state, k):
    added = [server.add_transcript()["id"] for _ in range(k)]

    sync = sync_on(server, first_state(), streams=("transcripts",))

    emitted_as_served(sync, "transcripts", added, server)


@pytest.mark.parametrize("k", [1, 3])
def test_given_k_new_transcripts_when_synced_then_the_sync_costs_k_requests_more_than_one_without_change(
    server, first_state, k
):
    """0.2.0: no change costs 19; one new transcript moves the pending one at place 99 to page 2, so the
    sync costs 19 + 1 + 1 = 21, not 20."""
    unchanged = sync_on(server, first_state(), streams=("transcripts",))
    [server.add_transcript() for _ in range(k)]

    sync = sync_on(server, first_state(), streams=("transcripts",))

    assert transcript_requests(sync) == transcript_requests(unchanged) + k


@pytest.mark.parametrize("which", ["on page 1", "oldest"])
def test_given_a_pending_transcript_that_completes_when_synced_then_it_alone_is_emitted_with_its_final_values(
    server, first_state, which
):
    places = pending_places(server)
    pending = server.dataset.list_items("transcripts")[places[1] if which == "on page 1" else places[-1]]["id"]
    server.update_transcript(pending, status="completed", text="Готово ✅", summary="Final summary")

    sync = sync_on(server, first_state(), streams=("transcripts",))

    emitted_as_served(sync, "transcripts", [pending], server)


@pytest.mark.parametrize("which", [
    "on page 1",
    "oldest",
])
def test_given_a_pending_transcript_that_completes_when_synced_then_the_sync_costs_one_request_more_than_one_without_change(
    server, first_state, which
):
    """On page 1 (place 13): the list shows it completed, its detail is the one more. The oldest (place
    224, page 3): the promised sync reads the list down to it anyway, and its detail is the one more."""
    places = pending_places(server)
    pending = server.dataset.list_items("transcripts")[places[1] if which == "on page 1" else places[-1]]["id"]
    unchanged = sync_on(server, first_state(), streams=("transcripts",))
    server.update_transcript(pending, status="completed", text="Готово ✅", summary="Final summary")

    sync = sync_on(server, first_state(), streams=("transcripts",))

    assert transcript_requests(sync) == transcript_requests(unchanged) + 1


# ------------------------------------------------------------------------------ renamed records (reconcile_deletions on)


def test_given_reconcile_deletions_and_no_change_when_synced_then_the_whole_lists_and_nothing_else(server, first_state):
    """The transcripts list is read whole to reconcile (3 pages), and there every pending one is seen still pending."""
    sync = sync_on(server, first_state(reconcile=True), reconcile=True)

    assert sync.output.records == []
    assert list_requests(sync) == {"transcripts": 3, "reports": 2, "projects": 1} and len(sync.requests) == 6


def test_given_reconcile_deletions_and_an_old_transcript_renamed_when_synced_then_it_is_emitted_at_one_detail_request(
    server, first_state
):
    """Place 150 (page 2), completed: the sync reads the 3 list pages as without change, plus its detail."""
    renamed = server.dataset.list_items("transcripts")[150]["id"]
    server.rename_transcript(renamed, "Переименовано ✏️ — renamed")

    sync = sync_on(server, first_state(reconcile=True), reconcile=True)

    emitted_as_served(sync, "transcripts", [renamed], server)
    assert [r.path for r in sync.detail_requests("transcripts")] == [f"/api/v1/export/transcripts/{renamed}"]
    assert list_requests(sync) == {"transcripts": 3, "reports": 2, "projects": 1}


def test_given_reconcile_deletions_and_a_report_retitled_when_synced_then_it_is_emitted_at_one_detail_request(
    server, first_state
):
    """The first completed report on the reports list's page 2: the 2 list pages as without change, plus its detail."""
    report = next(r for r in server.dataset.list_items("reports")[PAGE:] if r["status"] == "completed")
    server.retitle_report(report["id"], "Протокол v2 📝")

    sync = sync_on(server, first_state(reconcile=True), reconcile=True)

    emitted_as_served(sync, "reports", [report["id"]], server)
    assert [r.path for r in sync.detail_requests("reports")] == [f"/api/v1/export/reports/{report['id']}"]
    assert list_requests(sync) == {"transcripts": 3, "reports": 2, "projects": 1}


# ------------------------------------------------------------------------------ report_ids of an old transcript

@pytest.mark.parametrize("order", [
    pytest.param(("transcripts", "reports"), id="transcripts_first"),
    pytest.param(("reports", "transcripts"), id="reports_first"),
])
@pytest.mark.parametrize("change", ["report_added", "report_deleted"])
def test_given_an_old_transcripts_report_added_or_deleted_when_synced_then_that_transcript_is_emitted_with_its_report_ids(
    server, first_state, order, change
):
    """The oldest transcript with a report (page 3). A deletion is seen with reconcile_deletions on. The sync
    reads no list page more than the same sync without the change, and emits the transcript as it is now."""
    reconcile = change == "report_deleted"
    old = next(t["id"] for t in reversed(server.dataset.list_items("transcripts"))
               if server.dataset.transcript_detail(t["id"])["report_ids"])
    unchanged = sync_on(server, first_state(reconcile), reconcile, streams=order)
    if change == "report_added":
        server.add_report(old)
    else:
        server.delete_report(server.dataset.transcript_detail(old)["report_ids"][0])

    sync = sync_on(server, first_state(reconcile), reconcile, streams=order)

    [emitted] = [r for r in sync.records("transcripts") if r["id"] == old] or [None]
    assert emitted == server.dataset.transcript_detail(old), f"{old} not emitted with its current report_ids"
    assert list_requests(sync) == list_requests(unchanged)
