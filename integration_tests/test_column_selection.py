"""Issue #20, "Fetch only what the user selected": column selection decides, per stream, whether the
records' details are fetched at all.

Airbyte's column selection sends `read` a configured catalog whose stream `json_schema.properties`
holds only the selected top-level columns (pruned_catalog.py builds it as the platform does). The
detail-only columns (transcripts' text, summary, file_size_mb, report_ids; reports' content;
projects' transcripts; every column of project_transcripts, whose rows come from projects' details)
need GET /api/v1/export/<stream>/{id}; every other column is on the list pages. So:

- no detail-only column selected: the stream is read from its list pages alone, each record the list
  item as served (null fields kept, no detail-only field invented), and the log says so once;
- a detail-only column selected, or a schema without `properties` or with empty ones (the repo's
  configured_catalog.json has `json_schema: {}`): everything as with every column selected:
  requests, records and state.

Everything runs through the console script, `source-meetlog read`, whose stdout is parsed line by
line (column_selection.console_read), against the local Meetlog API without a rate limit. Reads whose
outcome is under test run in fixtures, so a read that crashes is an error, never an expected failure.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List

import pytest

from integration_tests.column_selection import (
    DELETED_AT,
    ISSUE_SIZES,
    LISTED_STREAMS,
    ConsoleRead,
    Destination,
    console_read,
    issue_dataset,
    list_pages,
    listed,
)
from integration_tests.harness import expected_project_transcripts
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.pruned_catalog import (
    DETAIL_ONLY,
    PlatformRefusal,
    columns,
    discover_streams,
    list_columns,
    platform_view,
    pruned_catalog,
    with_columns,
)
from integration_tests.served_records import differences, served_records

pytestmark = pytest.mark.slow

FULL, INCREMENTAL = "full_refresh", "incremental"
MODES = (FULL, INCREMENTAL)
CURSORS = {"transcripts": "created_at", "reports": "created_at", "projects": "updated_at"}
REPO_CATALOG = Path(__file__).parent / "configured_catalog.json"  # json_schema: {} for each stream
# The issue asks for one log line per stream read from its list pages alone, in these words.
LIST_ONLY_WORDS = re.compile(r"\blist(?:[ -]pages?)?[ -]only\b", re.IGNORECASE)

# The issue's figures: 3 + 2 + 1 list pages, and one detail per record on top when details are needed.
ISSUE_LIST_PAGES = {f"{stream} list": list_pages(count) for stream, count in ISSUE_SIZES.items()}
ISSUE_ALL_REQUESTS = sum(ISSUE_LIST_PAGES.values()) + sum(ISSUE_SIZES.values())


def as_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def only(item: dict, kept) -> dict:
    return {name: value for name, value in item.items() if name in kept}


def normalized_state(read: ConsoleRead) -> Dict[str, dict]:
    """Each stream's last state as the platform keeps it (`stream_state`), without `lookback_window`:
    the CDK writes there how many seconds the read took (concurrent_partition_cursor.Timer), which
    differs between two reads of the same data. (`sourceStats` is left out for the same reason.)"""
    states = {}
    for message in read.state:
        state = dict(message["stream"].get("stream_state") or {})
        state.pop("lookback_window", None)
        states[message["stream"]["stream_descriptor"]["name"]] = state
    return states


def _pop_columns(state: dict, keep: bool = False):
    """The state without the columns its list state remembers; or, with `keep`, those columns."""
    lists = state.get("parent_state") or {}
    columns = [lst.get("columns") for lst in lists.values() if isinstance(lst, dict)]
    if keep:
        return next((c for c in columns if c is not None), None)
    return {**state, "parent_state": {k: {f: v for f, v in lst.items() if f != "columns"} for k, lst in lists.items()}} \
        if lists else state


def list_only_log_lines(read: ConsoleRead, stream: str) -> List[str]:
    """LOG lines saying `stream` (as a word: not inside project_transcripts) is read from list pages only."""
    named = re.compile(rf"(?<![\w]){re.escape(stream)}(?![\w])")
    return [line for line in read.logs if LIST_ONLY_WORDS.search(line) and named.search(line)]


# ------------------------------------------------------------------------------------ the issue's data set, read only


@pytest.fixture(scope="module")
def issue_server():
    """230 transcripts, 140 reports, 12 projects, with nulls in list items. No test changes it."""
    with MeetlogServer(dataset=issue_dataset(), requests_per_window=None) as server:
        counts = {stream: len(items) for stream, items in listed(server).items()}
        assert counts == ISSUE_SIZES, counts
        yield server


@pytest.fixture(scope="module")
def issue_config(issue_server) -> dict:
    return {"api_key": issue_server.add_key(), "base_url": issue_server.base_url, "requests_per_minute": 100_000}


@pytest.fixture(scope="module")
def discovered(issue_config) -> Dict[str, dict]:
    """`source-meetlog discover`'s streams (through the console script, once for the module)."""
    return discover_streams(issue_config)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("column-selection")


def list_only_catalog(discovered, mode, streams=LISTED_STREAMS) -> dict:
    return pruned_catalog(discovered, {stream: list_columns(discovered, stream) for stream in streams}, mode)


@pytest.fixture(scope="module", params=MODES)
def list_only_read(request, issue_server, issue_config, discovered, folder):
    """A first read of the three streams with every detail-only column deselected, and the list items
    the server served meanwhile."""
    catalog = list_only_catalog(discovered, request.param)
    read = console_read(issue_server, folder, issue_config, catalog).assert_succeeded()
    return read, listed(issue_server)


@pytest.fixture(scope="module")
def every_column(issue_server, issue_config, discovered, folder):
    """every_column(streams, mode) -> the read of those streams with every column selected, as the
    platform sends it with column selection off: the figures of a read with details. One read per
    (streams, mode)."""
    done: Dict[tuple, ConsoleRead] = {}

    def read(streams, mode=INCREMENTAL) -> ConsoleRead:
        key = (tuple(streams), mode)
        if key not in done:
            catalog = pruned_catalog(discovered, {stream: None for stream in streams}, mode)
            done[key] = console_read(issue_server, folder, issue_config, catalog).assert_succeeded()
        return done[key]

    return read


def test_given_the_issue_data_set_then_it_has_the_issues_sizes_and_null_fields_in_its_list_items(issue_server):
    """Without nulls on the list pages, "null fields kept" would prove nothing: the failed transcript's
    duration_seconds, every third transcript's source_url, project 2's description."""
    items = listed(issue_server)
    nulls = {stream: sum(value is None for item in by_id.values() for value in item.values()) for stream, by_id in items.items()}

    assert {stream: len(by_id) for stream, by_id in items.items()} == {"transcripts": 230, "reports": 140, "projects": 12}
    assert nulls["transcripts"] > 0 and nulls["projects"] > 0, nulls
    assert ISSUE_LIST_PAGES == {"transcripts list": 3, "reports list": 2, "projects list": 1}
    assert ISSUE_ALL_REQUESTS == 388


# ------------------------------------------------------------------------------------ the helper: the platform's pruning


def test_given_a_selection_when_the_catalog_is_pruned_then_only_those_columns_remain_and_the_rest_is_as_discovered(discovered):
    catalog = pruned_catalog(discovered, {"transcripts": ["created_at", "id", "title"], "project_transcripts": None}, INCREMENTAL)

    transcripts, links = catalog["streams"]
    assert list(transcripts["stream"]["json_schema"]["properties"]) == ["id", "title", "created_at"], "the discovered order"
    pruned_away = {**transcripts["stream"], "json_schema": {**transcripts["stream"]["json_schema"], "properties": None}}
    as_discovered = {**discovered["transcripts"], "json_schema": {**discovered["transcripts"]["json_schema"], "properties": None}}
    assert pruned_away == as_discovered, "everything but the properties goes as discovered (`required` too)"
    assert (transcripts["sync_mode"], transcripts["destination_sync_mode"], transcripts["cursor_field"], transcripts["primary_key"]) == (
        INCREMENTAL, "append_dedup", ["created_at"], [["id"]])
    assert links["stream"] == discovered["project_transcripts"], "no selection: the entry as discovered"
    assert (links["sync_mode"], links["destination_sync_mode"]) == (FULL, "overwrite"), "it has no incremental mode"
    assert list_columns(discovered, "reports") == [c for c in columns(discovered, "reports") if c != "content"]


@pytest.mark.parametrize("mode, destination, kept, refusal", [
    (INCREMENTAL, "append", ["id", "title"], "Cursor field cannot be de-selected"),
    (FULL, "overwrite_dedup", ["title", "created_at"], "Primary key field cannot be de-selected"),
])
def test_given_a_selection_the_platform_refuses_when_the_catalog_is_pruned_then_it_is_refused(discovered, mode, destination, kept, refusal):
    """The platform never sends these, so the tests below never ask for them: `id` and `created_at`
    may be deselected only in full refresh and append."""
    with pytest.raises(PlatformRefusal, match=refusal):
        pruned_catalog(discovered, {"transcripts": kept}, mode, {"transcripts": destination})


# ------------------------------------------------------------------------------------ list columns only


def test_given_every_detail_only_column_deselected_when_read_then_one_request_per_list_page_and_nothing_else(list_only_read):
    """230 transcripts are 3 list pages of 100, 140 reports 2, 12 projects 1: 6 requests, where with
    every column each of the 382 records' details follows them (388)."""
    read, _ = list_only_read

    assert read.request_counts() == ISSUE_LIST_PAGES
    assert len(read.requests) == 6


def test_given_every_detail_only_column_deselected_when_read_then_each_record_equals_its_list_item_null_included(list_only_read):
    """Field by field, as `differences` compares (absent is not null, 1 is not 1.0): the list item's
    keys and values, none of the detail's (with every column, every transcript has 4 more, every
    report 1 more, every project 1 more)."""
    read, items = list_only_read

    found = differences(read.records_by_stream(), items)
    assert found == [], f"{len(found)} differences, first: {found[:5]}"


def test_given_every_detail_only_column_deselected_when_read_then_every_listed_record_arrives_once_as_the_user_sees_it(
    list_only_read,
):
    """What holds with every column holds here too: 230 + 140 + 12 records, each once, and what the platform
    keeps of each (its selected columns) is its list item."""
    read, items = list_only_read

    for stream in LISTED_STREAMS:
        records = read.records(stream)
        assert sorted(r["id"] for r in records) == sorted(items[stream]), stream
        seen = [as_json(platform_view(r, read.catalog, stream)) for r in records]
        assert sorted(seen) == sorted(as_json(item) for item in items[stream].values()), stream


# ------------------------------------------------------------------------------------ a detail-only column selected: as with every column

EACH_IN_ITS_STREAM = {"transcripts": ("summary",), "reports": ("content",), "projects": ("transcripts",)}
ONE_DETAIL_COLUMN = {
    **{f"{stream}.{name}": ({stream: (name,)}, INCREMENTAL) for stream, names in DETAIL_ONLY.items() for name in names},
    "one in each stream, incremental": (EACH_IN_ITS_STREAM, INCREMENTAL),
    "one in each stream, full refresh": (EACH_IN_ITS_STREAM, FULL),
}


@pytest.mark.parametrize("selection, mode", list(ONE_DETAIL_COLUMN.values()), ids=list(ONE_DETAIL_COLUMN))
def test_given_a_detail_only_column_selected_when_read_then_requests_records_and_state_are_as_with_every_column(
    selection, mode, issue_server, issue_config, discovered, folder, every_column
):
    """One detail-only column is enough to need every record's detail: the read makes the requests
    of a read with every column (230 + 3 for transcripts, 140 + 2 for reports, 12 + 1 for projects;
    388 with one column in each), emits the same records and leaves the same state, but for the
    columns each list's state remembers (a column selected later sends the stream again, 0.4.1)."""
    catalog = pruned_catalog(discovered, {stream: with_columns(discovered, stream, *extra) for stream, extra in selection.items()},
                             mode)
    read = console_read(issue_server, folder, issue_config, catalog).assert_succeeded()
    today = every_column(tuple(selection), mode)

    assert read.request_counts() == today.request_counts()
    assert Counter(r.path for r in read.requests) == Counter(r.path for r in today.requests), "each detail once, as today"
    for stream in selection:
        assert sorted(map(as_json, read.records(stream))) == sorted(map(as_json, today.records(stream))), stream
    remembered = {stream: _pop_columns(state) for stream, state in normalized_state(read).items()}
    assert remembered == {stream: normalized_state(today)[stream] for stream in remembered}
    for stream, extra in selection.items():  # remembered where not every column is selected
        chosen = set(with_columns(discovered, stream, *extra))
        every = set(discovered[stream]["json_schema"]["properties"])
        assert _pop_columns(normalized_state(read)[stream], keep=True) == (
            sorted(chosen - {"_ab_cdc_deleted_at"}) if chosen != every else None)
    if len(selection) == 3:
        assert len(read.requests) == ISSUE_ALL_REQUESTS


def test_given_every_column_selected_when_read_then_no_stream_is_said_to_be_read_from_list_pages_only(every_column):
    read = every_column(LISTED_STREAMS)

    assert len(read.requests) == ISSUE_ALL_REQUESTS
    assert [line for line in read.logs if LIST_ONLY_WORDS.search(line)] == []


def _without_properties(discovered) -> dict:
    catalog = pruned_catalog(discovered, {stream: None for stream in LISTED_STREAMS}, INCREMENTAL)
    for entry in catalog["streams"]:
        del entry["stream"]["json_schema"]["properties"]
    return catalog


def _empty_properties(discovered) -> dict:
    catalog = pruned_catalog(discovered, {stream: None for stream in LISTED_STREAMS}, INCREMENTAL)
    for entry in catalog["streams"]:
        entry["stream"]["json_schema"]["properties"] = {}
    return catalog


SCHEMAS_WITHOUT_COLUMNS = {
    "configured_catalog.json (json_schema: {})": lambda discovered: json.loads(REPO_CATALOG.read_text()),
    "a schema without properties": _without_properties,
    "empty properties": _empty_properties,
}


@pytest.mark.parametrize("make_catalog", list(SCHEMAS_WITHOUT_COLUMNS.values()), ids=list(SCHEMAS_WITHOUT_COLUMNS))
def test_given_a_schema_that_selects_no_columns_when_read_then_every_detail_is_fetched_as_today(
    make_catalog, issue_server, issue_config, discovered, folder
):
    """No properties to read a selection from: everything, as with every column. 6 list pages and 382 details
    (388), each record its detail answer."""
    read = console_read(issue_server, folder, issue_config, make_catalog(discovered)).assert_succeeded()

    assert read.request_counts() == {**ISSUE_LIST_PAGES, "transcripts detail": 230, "reports detail": 140, "projects detail": 12}
    expected = {stream: by_id for stream, by_id in served_records(issue_server).items() if stream in LISTED_STREAMS}
    assert differences(read.records_by_stream(), expected) == []


# ------------------------------------------------------------------------------------ the log


@pytest.fixture(scope="module")
def mixed_read(issue_server, issue_config, discovered, folder) -> ConsoleRead:
    """transcripts and reports list-only, projects with its detail-only `transcripts` selected."""
    catalog = pruned_catalog(discovered, {
        "transcripts": list_columns(discovered, "transcripts"),
        "reports": list_columns(discovered, "reports"),
        "projects": with_columns(discovered, "projects", "transcripts"),
    }, FULL)
    return console_read(issue_server, folder, issue_config, catalog).assert_succeeded()


def test_given_two_streams_list_only_and_one_not_when_read_then_the_log_says_so_once_for_each_list_only_stream(mixed_read):
    """One LOG line naming the stream and saying "list pages only" (or "list-only", LIST_ONLY_WORDS):
    one for transcripts (3 list pages), one for reports (2), not one a page; none for projects."""
    assert len(list_only_log_lines(mixed_read, "transcripts")) == 1, mixed_read.logs
    assert len(list_only_log_lines(mixed_read, "reports")) == 1, mixed_read.logs
    assert list_only_log_lines(mixed_read, "projects") == []


def test_given_two_streams_list_only_and_one_not_when_read_then_only_projects_fetch_details(mixed_read):
    """3 + 2 list pages for transcripts and reports; 1 + 12 for projects: 18 requests, not 388."""
    assert mixed_read.request_counts() == {**ISSUE_LIST_PAGES, "projects detail": 12}


# ------------------------------------------------------------------------------------ project_transcripts


@pytest.mark.parametrize("link_columns", [None, ["project_id", "transcript_id"]], ids=["every link column", "its keys only"])
@pytest.mark.parametrize("projects_mode", MODES)
def test_given_project_transcripts_selected_and_projects_list_only_when_read_then_each_project_detail_is_fetched_once(
    projects_mode, link_columns, issue_server, issue_config, discovered, folder
):
    """project_transcripts' rows come from the projects' details, whatever its columns: 1 list page
    and 12 details, each once, shared by the two streams; the projects as the user sees them are
    their list items."""
    catalog = pruned_catalog(discovered, {"projects": list_columns(discovered, "projects"), "project_transcripts": link_columns},
                             {"projects": projects_mode, "project_transcripts": FULL})

    read = console_read(issue_server, folder, issue_config, catalog).assert_succeeded()

    projects = listed(issue_server, ("projects",))["projects"]
    assert read.request_counts() == {"projects list": 1, "projects detail": 12}
    assert Counter(r.path for r in read.detail_requests()) == Counter(f"/api/v1/export/projects/{id}" for id in projects)
    rows = {(r["project_id"], r["transcript_id"]): platform_view(r, catalog, "project_transcripts")
            for r in read.records("project_transcripts")}
    expected = {key: platform_view({**fields, "project_id": key[0], "transcript_id": key[1]}, catalog, "project_transcripts")
                for key, fields in expected_project_transcripts(issue_server).items()}
    assert len(read.records("project_transcripts")) == len(rows) and rows == expected
    assert sorted(as_json(platform_view(r, catalog, "projects")) for r in read.records("projects")) == sorted(
        as_json(item) for item in projects.values())


# ------------------------------------------------------------------------------------ id and created_at deselected


@pytest.fixture(scope="module")
def untitled_columns_read(issue_server, issue_config, discovered, folder):
    """Full refresh of transcripts with neither `id` nor `created_at` selected (allowed in overwrite)."""
    kept = ["title", "status", "duration_seconds", "source_url"]
    catalog = pruned_catalog(discovered, {"transcripts": kept}, FULL)
    return console_read(issue_server, folder, issue_config, catalog).assert_succeeded(), kept


def test_given_id_and_created_at_deselected_too_when_read_in_full_refresh_then_three_list_pages_only(untitled_columns_read):
    """230 transcripts: 3 list pages, not 3 + 230."""
    read, _ = untitled_columns_read

    assert read.request_counts() == {"transcripts list": 3}


def test_given_id_and_created_at_deselected_too_when_read_in_full_refresh_then_the_user_sees_each_list_item_once(
    untitled_columns_read, issue_server
):
    read, kept = untitled_columns_read

    seen = sorted(as_json(platform_view(r, read.catalog, "transcripts")) for r in read.records("transcripts"))
    assert seen == sorted(as_json(only(item, kept)) for item in issue_server.dataset.list_items("transcripts"))


# ------------------------------------------------------------------------------------ start_date


@pytest.fixture(scope="module")
def start_date_read(issue_server, discovered, folder):
    """Incremental list-only read of transcripts and reports from the 120th newest transcript's created_at."""
    start_date = issue_server.dataset.list_items("transcripts")[119]["created_at"]
    config = {"api_key": issue_server.add_key(), "base_url": issue_server.base_url, "requests_per_minute": 100_000,
              "start_date": start_date}
    read = console_read(issue_server, folder, config, list_only_catalog(discovered, INCREMENTAL, ("transcripts", "reports")))
    return read.assert_succeeded(), start_date


def test_given_a_start_date_and_list_columns_only_when_read_then_older_records_never_arrive(start_date_read, issue_server):
    """120 transcripts (and the reports made after the start date) of 230; what the user sees of each
    is its list item."""
    read, start_date = start_date_read

    for stream in ("transcripts", "reports"):
        newer = [item for item in issue_server.dataset.list_items(stream) if item["created_at"] >= start_date]
        seen = sorted(as_json(platform_view(r, read.catalog, stream)) for r in read.records(stream))
        assert seen == sorted(as_json(item) for item in newer), stream
    assert len(read.records("transcripts")) == 120


def test_given_a_start_date_and_list_columns_only_when_read_then_no_detail_and_no_list_page_twice(start_date_read):
    """The list pages the start date needs (transcripts are newest first: pages 1 and 2 hold the 120;
    reports promise no order: both pages), each once, and no detail: 4 requests, where with every
    column the 120 transcripts' and the 140 reports' details follow."""
    read, _ = start_date_read

    assert read.detail_requests() == []
    pages = Counter((r.path, r.query.get("page", "1")) for r in read.requests)
    assert all(count == 1 for count in pages.values()), pages


# ------------------------------------------------------------------------------------ incremental over several syncs


@pytest.fixture(scope="module")
def incremental_syncs(tmp_path_factory):
    """Four incremental list-only syncs of the three streams over build_dataset's sample data (7
    transcripts, 1 of them processing, 11 reports, 3 projects: one list page each), with
    1. the first sync;
    2. a new transcript and a new one still processing;
    3. that one completed;
    4. no change.
    Returns [(the sync, the list items when it ran)]."""
    folder = tmp_path_factory.mktemp("incremental")
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        config = {"api_key": server.add_key(), "base_url": server.base_url, "requests_per_minute": 100_000}
        catalog = list_only_catalog(discover_streams(config, in_process=True), INCREMENTAL)
        syncs, state = [], None

        def sync():
            nonlocal state
            done = console_read(server, folder, config, catalog, state).assert_succeeded()
            syncs.append((done, listed(server)))
            state = done.state

        sync()
        added = server.add_transcript()["id"]
        pending = server.add_transcript(status="processing")["id"]
        sync()
        server.update_transcript(pending, status="completed", text="Итоговый текст ✅", summary="Готово")
        sync()
        sync()
        yield syncs, added, pending


def test_given_list_columns_only_when_synced_incrementally_four_times_then_each_change_arrives_once_as_listed(incremental_syncs):
    """Sync 1: all 7 + 11 + 3. Sync 2: the 2 new transcripts. Sync 3: the pending one, now completed.
    Sync 4: nothing, from 3 list requests. Each record as the user sees it is its list item then."""
    syncs, added, pending = incremental_syncs
    emitted = [{stream: sorted(r["id"] for r in read.records(stream)) for stream in LISTED_STREAMS} for read, _ in syncs]

    assert emitted[0] == {stream: sorted(items) for stream, items in syncs[0][1].items()}
    assert emitted[1] == {"transcripts": sorted([added, pending]), "reports": [], "projects": []}
    assert emitted[2] == {"transcripts": [pending], "reports": [], "projects": []}
    assert [r["status"] for r in syncs[2][0].records("transcripts")] == ["completed"]
    assert emitted[3] == {stream: [] for stream in LISTED_STREAMS}
    assert syncs[3][0].request_counts() == {"transcripts list": 1, "reports list": 1, "projects list": 1}
    for read, items in syncs:
        for stream in LISTED_STREAMS:
            assert all(platform_view(r, read.catalog, stream) == items[stream][r["id"]] for r in read.records(stream))


def test_given_list_columns_only_when_synced_incrementally_four_times_then_every_sync_reads_list_pages_only_and_emits_list_items(
    incremental_syncs,
):
    """One list page a stream a sync (3 requests), the pending transcript's completion seen on its
    list page; with every column sync 1 costs 3 + 21 details, sync 2 3 + 2, sync 3 3 + 1."""
    syncs, _, _ = incremental_syncs

    for number, (read, items) in enumerate(syncs, start=1):
        assert read.request_counts() == {"transcripts list": 1, "reports list": 1, "projects list": 1}, f"sync {number}"
        emitted = {stream: {r["id"]: items[stream][r["id"]] for r in read.records(stream)} for stream in LISTED_STREAMS}
        assert differences(read.records_by_stream(), emitted) == [], f"sync {number}"


# ------------------------------------------------------------------------------------ a selection that changes


SELECTION_CHANGES = {"transcripts": "text", "reports": "content", "projects": "transcripts"}


@pytest.fixture(scope="module", params=list(SELECTION_CHANGES))
def selection_change(request, tmp_path_factory):
    """An Append + Deduped destination of one stream after two incremental syncs of sample data: the
    first with list columns only, the second with the list columns and one detail-only column (for
    transcripts, `text`), and one new record between them."""
    stream, column = request.param, SELECTION_CHANGES[request.param]
    folder = tmp_path_factory.mktemp(f"selection-{stream}")
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        config = {"api_key": server.add_key(), "base_url": server.base_url, "requests_per_minute": 100_000}
        discovered = discover_streams(config, in_process=True)
        destination = Destination()
        first = console_read(server, folder, config, list_only_catalog(discovered, INCREMENTAL, (stream,))).assert_succeeded()
        destination.load(first)
        assert destination.tables[stream] and all(column not in row for row in destination.tables[stream].values()), (
            "the platform keeps no unselected column")
        if stream == "transcripts":
            server.add_transcript()
        elif stream == "reports":
            server.add_report(server.dataset.list_items("transcripts")[0]["id"])
        else:
            server.add_project(transcript_ids=[server.dataset.list_items("transcripts")[0]["id"]])
        catalog = pruned_catalog(discovered, {stream: with_columns(discovered, stream, column)}, INCREMENTAL)
        second = console_read(server, folder, config, catalog, first.state).assert_succeeded()
        destination.load(second)
        yield stream, column, destination.tables[stream], {d["id"]: d for d in server.dataset.details(stream)}


def test_given_a_list_only_sync_when_a_detail_only_column_is_selected_for_the_next_then_every_synced_record_has_it(selection_change):
    """Sync 1 (list columns) leaves 7 transcripts without `text` (11 reports without `content`, 3
    projects without `transcripts`); sync 2 selects it and adds one record. After sync 2 each of the 8
    rows has the column as the server serves it: the connector restarted the stream, or fetched the
    details of what it had synced list-only. 0.3.0 restarts the stream, with a log line: sync 2 sends
    all 8 with their details. Sending the new record alone would leave the other 7 without the column."""
    stream, column, rows, served = selection_change

    missing = sorted(id for id, row in rows.items() if column not in row or as_json(row[column]) != as_json(served[id][column]))
    assert missing == [], f"{len(missing)} of {len(rows)} {stream} rows without the served {column!r}"


def test_given_a_list_only_sync_when_a_detail_only_column_is_selected_for_the_next_then_every_record_is_there_once(selection_change):
    """Whatever the connector does about it, the table holds every record the server has (7 + 1
    transcripts, 11 + 1 reports, 3 + 1 projects), and no other."""
    stream, _, rows, served = selection_change

    assert sorted(rows) == sorted(served)


# ------------------------------------------------------------------------------------ deletion markers


@pytest.fixture(scope="module")
def deletion_syncs(tmp_path_factory):
    """Three incremental list-only syncs with reconcile_deletions of sample data; between the first
    two, a transcript (with its 3 reports), another transcript's report, and a project are deleted."""
    folder = tmp_path_factory.mktemp("deletions")
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        config = {"api_key": server.add_key(), "base_url": server.base_url, "requests_per_minute": 100_000,
                  "reconcile_deletions": True}
        catalog = list_only_catalog(discover_streams(config, in_process=True), INCREMENTAL)
        first = console_read(server, folder, config, catalog).assert_succeeded()
        before = listed(server)
        with_reports = [t for t in server.dataset.details("transcripts") if t["report_ids"]]
        server.delete_transcript(with_reports[0]["id"])
        server.delete_report(with_reports[1]["report_ids"][0])
        server.delete_project(server.dataset.list_items("projects")[0]["id"])
        gone = {stream: sorted(set(before[stream]) - set(ids)) for stream, ids in listed(server).items()}
        second = console_read(server, folder, config, catalog, first.state).assert_succeeded()
        third = console_read(server, folder, config, catalog, second.state).assert_succeeded()
        yield [first, second, third], gone, listed(server)


def test_given_list_columns_only_and_reconcile_deletions_when_records_are_deleted_then_one_marker_each_and_the_table_matches_the_lists(
    deletion_syncs,
):
    """1 transcript, 3 + 1 reports, 1 project deleted: sync 2 sends those 6 markers (id, cursor,
    _ab_cdc_deleted_at), sync 3 none; the destination's rows are then the list items, as the user sees them."""
    syncs, gone, items = deletion_syncs
    destination = Destination()
    for read in syncs:
        destination.load(read)

    assert {stream: len(ids) for stream, ids in gone.items()} == {"transcripts": 1, "reports": 4, "projects": 1}
    for stream, cursor in CURSORS.items():
        markers = [r for r in syncs[1].records(stream) if r.get(DELETED_AT)]
        assert sorted(m["id"] for m in markers) == gone[stream], stream
        assert all(set(m) == {"id", cursor, DELETED_AT} for m in markers), markers
        assert [r for r in syncs[2].records(stream) if r.get(DELETED_AT)] == [], "no marker twice"
        assert destination.tables[stream] == items[stream], stream


def test_given_list_columns_only_and_reconcile_deletions_when_synced_three_times_then_only_list_pages_are_read(deletion_syncs):
    """One list page a stream a sync, 3 requests each: no detail for the first sync's 21 records, nor
    for the transcript whose report went (its report_ids are not selected). With every column: 3 + 21,
    then that transcript's detail again in sync 2 (in 0.2.0, in sync 2 or 3)."""
    syncs, _, _ = deletion_syncs

    assert [read.request_counts() for read in syncs] == [{"transcripts list": 1, "reports list": 1, "projects list": 1}] * 3


# ------------------------------------------------------------------------------------ append, without `id`


@pytest.fixture(scope="module")
def append_without_id(tmp_path_factory):
    """Two incremental syncs of transcripts into Append (not deduped), `id` deselected (the cursor,
    created_at, must stay), one transcript added between them."""
    folder = tmp_path_factory.mktemp("append")
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        config = {"api_key": server.add_key(), "base_url": server.base_url, "requests_per_minute": 100_000}
        discovered = discover_streams(config, in_process=True)
        kept = [name for name in list_columns(discovered, "transcripts") if name != "id"]
        catalog = pruned_catalog(discovered, {"transcripts": kept}, INCREMENTAL, {"transcripts": "append"})
        first = console_read(server, folder, config, catalog).assert_succeeded()
        before = server.dataset.list_items("transcripts")
        added = server.add_transcript(status="processing")["id"]
        second = console_read(server, folder, config, catalog, first.state).assert_succeeded()
        yield first, second, before, next(t for t in server.dataset.list_items("transcripts") if t["id"] == added)


def test_given_id_deselected_in_append_when_synced_twice_then_the_second_sync_appends_the_new_transcript_alone(append_without_id):
    first, second, before, added = append_without_id
    kept = set(first.catalog["streams"][0]["stream"]["json_schema"]["properties"])

    assert "id" not in kept
    assert sorted(as_json(platform_view(r, first.catalog, "transcripts")) for r in first.records("transcripts")) == sorted(
        as_json(only(item, kept)) for item in before)
    assert [platform_view(r, second.catalog, "transcripts") for r in second.records("transcripts")] == [only(added, kept)]


def test_given_id_deselected_in_append_when_synced_twice_then_each_sync_reads_one_list_page(append_without_id):
    """7 transcripts, then 8: one list page each sync; with every column 1 + 7, then 1 + 1."""
    first, second, _, _ = append_without_id

    assert [first.request_counts(), second.request_counts()] == [{"transcripts list": 1}] * 2
