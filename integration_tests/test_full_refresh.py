"""Full-refresh reads against the local Meetlog API: every record, every field, no wasted request."""

import math
from collections import defaultdict

import pytest

from airbyte_cdk.models import FailureType, SyncMode

from integration_tests.harness import (
    STREAMS,
    config_for,
    expected_project_transcripts,
    minimum_requests,
    run_sync,
)
from integration_tests.meetlog_server import MeetlogServer, build_dataset, faults
from integration_tests.secrets_scan import assert_no_key_fragment
from source_meetlog.components.shared_answers import READERS_PER_URL, SharedResponses


def test_given_every_scope_when_read_then_every_record_of_the_account_arrives_with_its_detail_fields(server):
    key = server.add_key()

    sync = run_sync(server, config_for(server, key))

    assert sync.errors == []
    for stream in STREAMS:
        # Exact: a field the API served as null is there as null, not absent (issue #10).
        expected = {d["id"]: d for d in server.dataset.details(stream)}
        assert {r["id"]: r for r in sync.records(stream)} == expected, stream
        assert len(sync.ids(stream)) == len(expected), f"{stream}: a record was emitted twice"
    other_ids = {d["id"] for stream in STREAMS for d in server.dataset.details(stream, account="other")}
    assert other_ids and not other_ids & {i for stream in STREAMS for i in sync.ids(stream)}


def test_given_a_full_sync_when_read_then_it_makes_exactly_the_minimum_number_of_requests(server):
    """Minimum: sum over streams of ceil(n/100) list pages + n details (7 + 11 + 3 records -> 24)."""
    key = server.add_key()

    sync = run_sync(server, config_for(server, key))

    counts = [len(server.dataset.list_items(stream)) for stream in STREAMS]
    assert len(sync.requests) == minimum_requests(counts) == 24
    assert all(r.query.get("page_size") == "100" for stream in STREAMS for r in sync.list_requests(stream))


@pytest.mark.parametrize("transcripts, expected_pages", [(100, 1), (200, 2), (201, 3)])
def test_given_a_total_on_a_page_boundary_when_read_then_paging_stops_from_meta_without_an_empty_page(
    transcripts, expected_pages
):
    """The list's strategy stops at meta.page >= meta.total_pages. 200 items: page 2 >= 2 stops; no page 3.
    manifest: `cursor_value: "{{ response.meta.page + 1 }}"`
    """
    with MeetlogServer(dataset=build_dataset(transcripts=transcripts, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server:
        key = server.add_key()

        sync = run_sync(server, config_for(server, key), streams=("transcripts",))

        assert [r.query.get("page", "1") for r in sync.list_requests("transcripts")] == [
            str(page) for page in range(1, expected_pages + 1)
        ]
        assert len(sync.records("transcripts")) == len(server.dataset.list_items("transcripts"))


def test_given_a_key_without_the_reports_scope_when_read_then_only_reports_fail_naming_the_scope(server):
    key = server.add_key(scopes=("export:transcripts", "export:projects"))

    sync = run_sync(server, config_for(server, key))

    assert len(sync.records("transcripts")) == len(server.dataset.list_items("transcripts"))
    assert len(sync.records("projects")) == len(server.dataset.list_items("projects"))
    assert sync.records("reports") == []
    config_errors = [m.trace.error for m in sync.output.errors if m.trace.error.failure_type == FailureType.config_error]
    assert any("export:reports" in e.message and "reports" in e.message for e in config_errors)
    assert_no_key_fragment(sync.all_text(), key)


def test_given_a_revoked_key_when_read_then_a_config_error_says_so_and_no_key_leaks(server):
    key = server.add_key()
    server.revoke_key(key)

    sync = run_sync(server, config_for(server, key), streams=("transcripts",))

    assert sync.records("transcripts") == []
    errors = [m.trace.error for m in sync.output.errors]
    assert any(e.failure_type == FailureType.config_error and "invalid, revoked or expired" in e.message for e in errors)
    assert_no_key_fragment(sync.all_text(), key)


def test_given_a_transcript_deleted_after_it_was_listed_when_read_then_it_is_skipped_with_a_log_and_the_rest_arrive(server):
    key = server.add_key()
    doomed = server.dataset.list_items("transcripts")[2]["id"]

    def delete_after_listing(request):
        if request.path == "/api/v1/export/transcripts" and doomed in {t["id"] for t in server.dataset.list_items("transcripts")}:
            # The list page is built after this hook, so delete on the first detail request instead.
            return
        if request.path.startswith("/api/v1/export/transcripts/") and doomed in {t["id"] for t in server.dataset.list_items("transcripts")}:
            server.delete_transcript(doomed)

    server.on_request = delete_after_listing
    sync = run_sync(server, config_for(server, key), streams=("transcripts",))

    assert sync.errors == []
    assert doomed not in sync.ids("transcripts")
    assert sorted(sync.ids("transcripts")) == sorted(t["id"] for t in server.dataset.list_items("transcripts"))
    assert any("deleted after it was listed" in m.log.message for m in sync.output.logs)


@pytest.mark.parametrize("retry_after_format", ["seconds", "http-date"])
def test_given_a_429_burst_when_read_then_the_sync_waits_as_told_and_loses_nothing(server, retry_after_format):
    key = server.add_key()
    server.inject(faults.rate_limited(retry_after=1, retry_after_format=retry_after_format),
                  path_prefix="/api/v1/export/projects/", times=2)

    sync = run_sync(server, config_for(server, key), streams=("projects",))

    assert sync.errors == []
    assert sorted(sync.ids("projects")) == sorted(p["id"] for p in server.dataset.list_items("projects"))
    assert server.count(status=429) == 2


def test_given_a_server_error_and_a_truncated_page_when_read_then_both_are_retried_and_nothing_is_lost(server):
    key = server.add_key()
    server.inject(faults.http_502(), path_prefix="/api/v1/export/reports/", times=1)
    server.inject(faults.truncated_json(), path_prefix="/api/v1/export/reports", times=1)

    sync = run_sync(server, config_for(server, key), streams=("reports",))

    assert sync.errors == []
    assert sorted(sync.ids("reports")) == sorted(r["id"] for r in server.dataset.list_items("reports"))


def test_given_a_start_date_when_read_then_older_records_are_neither_fetched_nor_emitted(server):
    key = server.add_key()
    transcripts = server.dataset.list_items("transcripts")
    start_date = transcripts[2]["created_at"]

    sync = run_sync(server, config_for(server, key, start_date=start_date), streams=("transcripts",))

    expected = [t["id"] for t in transcripts if t["created_at"] >= start_date]
    assert sorted(sync.ids("transcripts")) == sorted(expected)
    assert len(sync.detail_requests("transcripts")) == len(expected)


def test_given_two_keys_when_read_then_requests_are_shared_between_them(server):
    first, second = server.add_key(label="first"), server.add_key(label="second")

    sync = run_sync(server, config_for(server, f"{first}, {second}"))

    assert sync.errors == []
    used = {r.key for r in sync.requests}
    assert used == {"first", "second"}
    per_key = [sum(1 for r in sync.requests if r.key == label) for label in ("first", "second")]
    assert abs(per_key[0] - per_key[1]) <= 3, per_key


@pytest.mark.parametrize("change", ["delete a record already read", "insert a record at the top"])
def test_given_the_list_changes_while_it_is_paged_when_read_then_every_record_arrives_exactly_once(change):
    """A deletion on page 1 moves the first record of page 2 onto page 1, after page 1 was read;
    an insertion moves the last record of page 1 onto page 2, to be read twice. Both change
    meta.total between pages, so the list is read again and ids are yielded once."""
    with MeetlogServer(dataset=build_dataset(transcripts=250, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server:
        key = server.add_key()
        victim = server.dataset.list_items("transcripts")[10]["id"]
        changed = []

        def change_before_page_2(request):
            if request.path == "/api/v1/export/transcripts" and request.query.get("page") == "2" and not changed:
                changed.append(server.delete_transcript(victim) if change.startswith("delete") else server.add_transcript())

        server.on_request = change_before_page_2
        sync = run_sync(server, config_for(server, key), streams=("transcripts",))

        assert changed and sync.errors == []
        ids = sync.ids("transcripts")
        remaining = {t["id"] for t in server.dataset.list_items("transcripts")}
        assert len(ids) == len(set(ids)), "a record was emitted twice"
        # The deleted record arrives only if its detail was fetched before the deletion.
        assert remaining <= set(ids) <= remaining | {victim}
        assert len(sync.list_requests("transcripts")) > 3, "the list was read again"


def test_given_a_list_that_changes_on_every_read_when_synced_then_the_cursor_does_not_move():
    """After the extra reads the list still shifts: records may have slipped past every read, so
    the list cursor stays where it was and the next sync covers the same stretch again."""
    from airbyte_cdk.models import SyncMode

    with MeetlogServer(dataset=build_dataset(transcripts=250, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server:
        key = server.add_key()

        def add_one_before_every_page_2(request):
            if request.path == "/api/v1/export/transcripts" and request.query.get("page") == "2":
                server.add_transcript()

        server.on_request = add_one_before_every_page_2
        sync = run_sync(server, config_for(server, key), streams=("transcripts",), mode=SyncMode.incremental)

        [state] = sync.state
        assert state.stream.stream_state.parent_state["transcripts_list"]["created_at"] == "1970-01-01T00:00:00Z"
        assert any("kept changing" in m.log.message for m in sync.output.logs)


def test_given_projects_with_transcripts_when_project_transcripts_is_read_then_one_row_per_pair_from_the_details(server):
    key = server.add_key()

    sync = run_sync(server, config_for(server, key), streams=("project_transcripts",))

    assert sync.errors == [] and sync.project_transcripts() == expected_project_transcripts(server)
    assert len(sync.records("project_transcripts")) == len(expected_project_transcripts(server)) == 5
    # Only the projects' own requests: one list page and one detail per project.
    assert len(sync.requests) == 1 + len(server.dataset.list_items("projects"))


# ---------------------------------------------------------------- projects and project_transcripts together


def project_requests(server):
    """The minimum for projects: each list page (100 a page) and each project's detail, once."""
    projects = server.dataset.list_items("projects")
    pages = ["/api/v1/export/projects"] * math.ceil(len(projects) / 100)
    return sorted(pages + [f"/api/v1/export/projects/{p['id']}" for p in projects])


@pytest.mark.parametrize(
    "projects, keys",
    [pytest.param(3, 1, id="3 projects"), pytest.param(150, 4, id="150 projects, 2 pages, 9 workers")],
)
def test_given_projects_and_project_transcripts_when_read_then_each_project_page_and_detail_is_requested_once(
    projects, keys
):
    """Both streams need the projects list and every project's detail. Whichever asks for a URL first
    requests it; the other, even asking at the same moment, gets that answer: with 3 projects,
    1 list page + 3 details, where each stream alone costs the same 4."""
    with MeetlogServer(dataset=build_dataset(projects=projects), requests_per_window=None) as server:
        key = ",".join(server.add_key() for _ in range(keys))

        sync = run_sync(server, config_for(server, key), streams=("projects", "project_transcripts"))

        assert sync.errors == []
        assert sorted(sync.ids("projects")) == sorted(p["id"] for p in server.dataset.list_items("projects"))
        assert sync.project_transcripts() == expected_project_transcripts(server)
        assert len(sync.records("project_transcripts")) == len(expected_project_transcripts(server))
        assert sorted(r.path for r in sync.requests) == project_requests(server)
        assert sorted(r.query.get("page", "1") for r in sync.list_requests("projects")) == [
            str(page) for page in range(1, math.ceil(projects / 100) + 1)
        ]


@pytest.mark.parametrize("mode", [SyncMode.full_refresh, SyncMode.incremental])
def test_given_every_stream_when_read_then_no_shared_url_has_more_readers_than_the_store_keeps_an_answer_for(
    monkeypatch, mode
):
    """SharedResponses drops an answer once READERS_PER_URL streams have had it. A stream the manifest
    made a third reader of one URL would then request it again: this read must show at most two."""
    readers = defaultdict(set)  # URL -> the readers that asked the store for it
    fetch = SharedResponses.fetch

    def counting_fetch(store, url, reader, *rest):
        readers[url].add(reader)
        return fetch(store, url, reader, *rest)

    monkeypatch.setattr(SharedResponses, "fetch", counting_fetch)
    dataset = build_dataset(transcripts=230, projects=12, stuck_every=7, stuck_reports_every=10)
    with MeetlogServer(dataset=dataset, requests_per_window=None) as server:
        sync = run_sync(server, config_for(server, server.add_key()), streams=STREAMS + ("project_transcripts",), mode=mode)

    assert sync.errors == []
    shared = {url for url, who in readers.items() if len(who) == READERS_PER_URL}
    assert {len(who) for who in readers.values()} <= {1, READERS_PER_URL}, readers
    assert len(shared) >= 1 + 12, "the projects list page and each of the 12 projects' details are read twice"
    assert len(sync.requests) == minimum_requests(len(server.dataset.list_items(s)) for s in STREAMS)


@pytest.mark.parametrize("content_length", ["cut", "full"])
@pytest.mark.parametrize(
    "path_prefix", [pytest.param("/api/v1/export/projects/", id="a detail"), pytest.param("/api/v1/export/projects", id="the list page")]
)
def test_given_a_truncated_project_answer_when_both_streams_are_read_then_the_retry_goes_to_the_server_and_both_get_every_row(
    server, path_prefix, content_length
):
    """A truncated 200 is never shared and never replayed: the stream that asked retries it against the
    server (its unreadable body, or the connection closing early), and the good answer serves both streams.
    Cost: the minimum plus that one retry.
    manifest: `unreadable_body: type: HttpResponseFilter`, `unreadable_detail_body: type: HttpResponseFilter`
    """
    key = server.add_key()
    server.inject(faults.truncated_json(content_length), path_prefix=path_prefix, times=1)

    sync = run_sync(server, config_for(server, key), streams=("projects", "project_transcripts"))

    assert sync.errors == []
    assert sorted(sync.ids("projects")) == sorted(p["id"] for p in server.dataset.list_items("projects"))
    assert sync.project_transcripts() == expected_project_transcripts(server)
    [truncated] = [r for r in sync.requests if r.fault == "truncated_json"]
    assert [(r.status, r.fault) for r in sync.requests if r.path == truncated.path] == [
        (200, "truncated_json"),
        (200, None),
    ], "the retry was answered by the server"
    assert sorted(r.path for r in sync.requests) == sorted(project_requests(server) + [truncated.path])


def test_given_the_projects_list_changes_while_paged_when_both_streams_are_read_then_both_read_it_again_from_the_server():
    """A project deleted from page 1 while page 2 is asked for moves page 2's first project onto page 1.
    A stream that sees meta.total change reads the list again, and a page it already had comes from the
    server (or from the other stream's newer read), never as the stale answer it had: the moved project
    reaches both streams."""
    with MeetlogServer(dataset=build_dataset(projects=150), requests_per_window=None) as server:
        key = server.add_key()
        listed = server.dataset.list_items("projects")
        victim, moved = listed[10]["id"], listed[100]["id"]
        # Rows of its own, so that project_transcripts missing the moved project would show.
        server.set_project_transcripts(moved, [t["id"] for t in server.dataset.list_items("transcripts")[:2]])
        victim_rows = {pair for pair in expected_project_transcripts(server) if pair[0] == victim}
        deleted = []

        def delete_before_page_2(request):
            if request.path == "/api/v1/export/projects" and request.query.get("page") == "2" and not deleted:
                deleted.append(server.delete_project(victim))

        server.on_request = delete_before_page_2
        sync = run_sync(server, config_for(server, key), streams=("projects", "project_transcripts"))

        assert deleted and sync.errors == []
        remaining = {p["id"] for p in server.dataset.list_items("projects")}
        ids = sync.ids("projects")
        assert len(ids) == len(set(ids)) and remaining <= set(ids) <= remaining | {victim} and moved in ids
        rows, expected = set(sync.project_transcripts()), set(expected_project_transcripts(server))
        assert expected <= rows <= expected | victim_rows and any(project == moved for project, _ in rows)
        assert len(sync.list_requests("projects")) > 2, "the list was read again"
