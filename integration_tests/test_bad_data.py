"""Bad data from the API: unexpected types, extra or missing fields, nulls where the doc shows values.

Records still flow, extra fields kept, and a mismatch is reported clearly without killing the sync.
Answers are rewritten on their way out of the local server (`Rewrite`), so the server's data and
the rest of its behaviour stay as documented.

Reproduce: `.venv/bin/pytest integration_tests/test_bad_data.py -k <name>`.
"""

import json
import re
import time
from typing import Any, Callable, Dict, List

import pytest

from airbyte_cdk.models import SyncMode

from integration_tests.harness import Sync, config_for, run_sync
from integration_tests.meetlog_server import MeetlogServer
from integration_tests.meetlog_server.responses import json_response

EXPORT = "/api/v1/export/"
MODES = [pytest.param(SyncMode.full_refresh, id="full_refresh"), pytest.param(SyncMode.incremental, id="incremental")]
MISSING = object()


class Rewrite:
    """Rewrites the JSON of successful answers: `detail(stream, fn)` and `list_item(stream, fn)` each take a
    function of one object that returns the object to send instead (MISSING drops a list item)."""

    def __init__(self, server: MeetlogServer):
        self._details: Dict[str, Callable] = {}
        self._items: Dict[str, Callable] = {}
        self._pages: Dict[str, Callable] = {}
        self._respond = server.api.respond
        server.api.respond = self.respond

    def detail(self, stream: str, change: Callable[[dict], Any]) -> "Rewrite":
        self._details[stream] = change
        return self

    def list_item(self, stream: str, change: Callable[[dict], Any]) -> "Rewrite":
        self._items[stream] = change
        return self

    def page(self, stream: str, change: Callable[[dict], Any]) -> "Rewrite":
        self._pages[stream] = change
        return self

    def respond(self, method, path, query, authorization):
        response = self._respond(method, path, query, authorization)
        if response.status != 200 or not path.startswith(EXPORT):
            return response
        stream, _, id = path[len(EXPORT):].partition("/")
        body = json.loads(response.body)
        if id and stream in self._details:
            body = self._details[stream](body)
        elif not id:
            if stream in self._items:
                items = [self._items[stream](item) for item in body["items"]]
                body["items"] = [item for item in items if item is not MISSING]
            if stream in self._pages:
                body = self._pages[stream](body)
        return json_response(body, response.status, response.headers)


def only(record_id: str, change: Callable[[dict], Any]) -> Callable[[dict], Any]:
    """`change` applied to one record, the others sent as they are."""
    return lambda body: change(body) if body.get("id") == record_id else body


def with_(**values) -> Callable[[dict], dict]:
    return lambda body: {**body, **values}


def without(*fields) -> Callable[[dict], dict]:
    return lambda body: {k: v for k, v in body.items() if k not in fields}


def listed_ids(server: MeetlogServer, stream: str) -> List[str]:
    return sorted(item["id"] for item in server.dataset.list_items(stream))


def reports_of(sync: Sync) -> List[str]:
    """Warnings, errors and error traces: where a mismatch must be reported."""
    logs = [m.log.message for m in sync.output.logs if m.log.level.name in ("WARN", "ERROR", "FATAL")]
    return logs + sync.errors


# ------------------------------------------------------------------------------ records flow, as sent


@pytest.mark.parametrize("mode", MODES)
def test_given_extra_fields_in_details_and_list_items_when_read_then_records_arrive_with_the_extra_fields_kept(
    server, mode
):
    extra = {"speaker_count": 3, "labels": ["q2", "продажи"], "nested": {"a": {"b": None}}, "": "empty name"}
    Rewrite(server).detail("transcripts", with_(**extra)).list_item("transcripts", with_(internal_rank=7))

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",), mode=mode)

    assert sync.errors == []
    assert sorted(sync.ids("transcripts")) == listed_ids(server, "transcripts")
    for record in sync.records("transcripts"):
        assert {k: record[k] for k in extra if k in record} == {k: v for k, v in extra.items()}, record.keys()


WRONG_TYPES = [
    pytest.param("transcripts", {"duration_seconds": "1842s"}, id="transcript_duration_as_text"),
    pytest.param("transcripts", {"status": 3, "title": ["a", "list"]}, id="transcript_status_number_title_list"),
    pytest.param("transcripts", {"report_ids": "a,b", "file_size_mb": "big"}, id="transcript_report_ids_text"),
    pytest.param("transcripts", {"created_at": 1715159662}, id="transcript_created_at_epoch_number"),
    pytest.param("reports", {"is_auto_generated": "yes", "content": 42}, id="report_bool_as_text_content_number"),
    pytest.param("projects", {"transcripts": {"not": "a list"}, "color": 7}, id="project_transcripts_object"),
]


@pytest.mark.parametrize("stream, values", WRONG_TYPES)
def test_given_fields_of_unexpected_types_when_read_then_every_record_arrives_with_the_values_as_sent(
    server, stream, values
):
    """Incrementally, where the cursor reads the records too (a full refresh passes alike)."""
    Rewrite(server).detail(stream, with_(**values))

    sync = run_sync(server, config_for(server, server.add_key()), streams=(stream,), mode=SyncMode.incremental)

    assert sync.errors == []
    assert sorted(sync.ids(stream)) == listed_ids(server, stream)
    assert all({k: r.get(k) for k in values} == values for r in sync.records(stream))


NULLS_AND_GAPS = [
    pytest.param("transcripts", with_(title=None, status=None, created_at=None, duration_seconds=None, report_ids=None),
                 id="transcript_nulls"),
    pytest.param("transcripts", without("title", "created_at", "status", "report_ids", "text"),
                 id="transcript_missing_fields"),
    pytest.param("reports", with_(transcription_id=None, template_code=None, created_at=None), id="report_nulls"),
    pytest.param("projects", without("name", "updated_at", "transcripts"), id="project_missing_fields"),
]


@pytest.mark.parametrize("stream, change", NULLS_AND_GAPS)
def test_given_nulls_or_missing_fields_in_details_when_read_then_every_record_still_arrives(server, stream, change):
    Rewrite(server).detail(stream, change)

    sync = run_sync(server, config_for(server, server.add_key()), streams=(stream,), mode=SyncMode.incremental)

    assert sync.errors == []
    assert sorted(sync.ids(stream)) == listed_ids(server, stream)


LIST_ITEM_CURSORS = [
    pytest.param(with_(created_at=None), id="created_at_null"),
    pytest.param(without("created_at"), id="created_at_missing"),
    pytest.param(with_(created_at=1715159662), id="created_at_number"),
    pytest.param(with_(status=None), id="status_null"),
]


@pytest.mark.parametrize("change", LIST_ITEM_CURSORS)
@pytest.mark.parametrize("mode", MODES)
def test_given_list_items_with_a_null_missing_or_odd_cursor_when_read_then_every_record_still_arrives(server, change, mode):
    Rewrite(server).list_item("transcripts", change)

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",), mode=mode)

    assert sync.errors == []
    assert sorted(sync.ids("transcripts")) == listed_ids(server, "transcripts")


@pytest.mark.parametrize("stray", ["oops", None, 42, ["a"]], ids=["text", "null", "number", "list"])
def test_given_a_list_page_with_a_stray_non_object_item_when_read_then_the_real_items_all_arrive(server, stray):
    Rewrite(server).page("transcripts", lambda page: {**page, "items": page["items"] + [stray]})

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",))

    assert sync.errors == []
    assert sorted(sync.ids("transcripts")) == listed_ids(server, "transcripts")


def test_given_meta_numbers_as_text_when_read_then_paging_still_ends_and_every_record_arrives(server):
    Rewrite(server).page("projects", lambda page: {**page, "meta": {k: str(v) for k, v in page["meta"].items()}})

    sync = run_sync(server, config_for(server, server.add_key()), streams=("projects",))

    assert sync.errors == []
    assert sorted(sync.ids("projects")) == listed_ids(server, "projects")


# ------------------------------------------------------------------------------ bodies too wrong to use: a clear stop


@pytest.mark.parametrize(
    "stream, rewrite",
    [
        pytest.param("projects", lambda r: r.page("projects", lambda page: {"items": page["items"]}),
                     id="list_without_meta"),
        pytest.param("projects", lambda r: r.detail("projects", lambda body: [body]), id="detail_is_an_array"),
    ],
)
def test_given_a_body_of_the_wrong_shape_every_time_when_read_then_the_stream_stops_with_a_clear_error(
    server, stream, rewrite
):
    rewrite(Rewrite(server))

    sync = run_sync(server, config_for(server, server.add_key()), streams=(stream, "transcripts"))

    assert sync.errors and all("Traceback" not in e for e in sync.errors)
    assert any("kept failing" in e and "next sync resumes" in e for e in sync.errors), sync.errors
    assert sorted(sync.ids("transcripts")) == listed_ids(server, "transcripts"), "other streams are not harmed"


def test_given_a_base_url_with_a_path_the_api_does_not_have_when_read_then_a_config_error_names_base_url(server):
    config = config_for(server, server.add_key(), base_url=server.base_url + "/api")

    sync = run_sync(server, config, streams=("transcripts",))

    error = sync.output.errors[0]  # the API answers 403 "API keys can only be used on export endpoints"
    assert error.trace.error.failure_type.name == "config_error"
    assert "as no Export API endpoint" in error.trace.error.message and "check 'base_url'" in error.trace.error.message
    assert "scope" not in error.trace.error.message


@pytest.mark.parametrize("mode", MODES)
def test_given_a_not_final_list_item_with_an_unreadable_created_at_when_read_then_every_record_still_arrives(server, mode):
    """'yesterday' cannot be placed on the cursor: the record is fetched (again next time), never skipped."""
    processing = next(t["id"] for t in server.dataset.list_items("transcripts") if t["status"] == "processing")
    Rewrite(server).list_item("transcripts", only(processing, with_(created_at="yesterday")))

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",), mode=mode)

    assert sync.errors == []
    assert sorted(sync.ids("transcripts")) == listed_ids(server, "transcripts")


# ------------------------------------------------------------------------------ mismatches must be reported, and no record dropped in silence


def _wrong_type(server):
    Rewrite(server).detail("transcripts", with_(duration_seconds="1842s"))
    return "duration_seconds"


def _unreadable_created_at(server):
    processing = next(t["id"] for t in server.dataset.list_items("transcripts") if t["status"] == "processing")
    Rewrite(server).list_item("transcripts", only(processing, with_(created_at="yesterday")))
    return "created_at"


def _list_item_without_id(server):
    victim = server.dataset.list_items("transcripts")[3]["id"]
    Rewrite(server).list_item("transcripts", only(victim, with_(id=None)))
    return "id"


def _items_null(server):
    Rewrite(server).page("transcripts", lambda page: {**page, "items": None})
    return "items"


MISMATCHES = [
    pytest.param(_wrong_type, id="field_of_the_wrong_type"),
    pytest.param(_unreadable_created_at, id="unreadable_created_at_in_a_list_item"),
    pytest.param(_list_item_without_id, id="list_item_without_id"),
    pytest.param(_items_null, id="list_page_with_items_null"),
]


@pytest.mark.parametrize("mismatch", MISMATCHES)
def test_given_a_mismatch_with_the_documented_shape_when_read_then_a_warning_names_the_stream_and_the_field(
    server, mismatch
):
    field = mismatch(server)

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",))

    reported = reports_of(sync)
    assert any("transcripts" in m and re.search(rf"\b{field}\b", m) for m in reported), reported


def test_given_a_start_date_and_a_list_item_without_created_at_when_read_then_the_record_arrives_or_is_reported(server):
    victim = server.dataset.list_items("transcripts")[3]["id"]
    Rewrite(server).list_item("transcripts", only(victim, without("created_at")))

    sync = run_sync(server, config_for(server, server.add_key(), start_date="2020-01-01"), streams=("transcripts",))

    assert victim in sync.ids("transcripts") or any(victim in m or "created_at" in m for m in reports_of(sync))


def test_given_one_detail_without_its_id_when_read_then_it_arrives_with_the_id_it_was_fetched_by_and_is_reported(
    server
):
    victim = server.dataset.list_items("transcripts")[3]["id"]
    Rewrite(server).detail("transcripts", only(victim, without("id")))

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",))

    assert sync.errors == []
    assert sorted(sync.ids("transcripts")) == listed_ids(server, "transcripts")
    assert any(victim in m and "without its id" in m for m in reports_of(sync)), reports_of(sync)


def test_given_a_list_page_without_items_when_synced_again_after_it_recovers_then_its_records_arrive(server):
    key = server.add_key()
    rewrite = Rewrite(server).page("transcripts", lambda page: {**page, "items": None})
    first = run_sync(server, config_for(server, key), streams=("transcripts",), mode=SyncMode.incremental)
    assert first.ids("transcripts") == [] and first.errors == []

    rewrite.page("transcripts", lambda page: page)
    second = run_sync(server, config_for(server, key), streams=("transcripts",), mode=SyncMode.incremental,
                      state=first.state)

    assert sorted(second.ids("transcripts")) == listed_ids(server, "transcripts")


def test_given_the_same_mismatch_in_every_record_when_read_then_it_is_reported_once(server):
    Rewrite(server).detail("transcripts", with_(duration_seconds="1842s"))

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",))

    assert len(sync.ids("transcripts")) == len(listed_ids(server, "transcripts")) > 1
    assert len([m for m in reports_of(sync) if "duration_seconds" in m]) == 1


@pytest.mark.parametrize("mode", MODES)
def test_given_a_transcript_stamped_a_week_in_the_future_when_read_then_it_arrives(server, mode):
    victim = server.dataset.list_items("transcripts")[3]["id"]
    server.update_transcript(victim, created_at=_utc(time.time() + 7 * 86400))

    sync = run_sync(server, config_for(server, server.add_key()), streams=("transcripts",), mode=mode)

    assert sync.errors == []
    assert victim in sync.ids("transcripts")


@pytest.mark.parametrize("ahead_days", [7, 365 * 70], ids=["a_week_ahead", "in_2096"])
def test_given_a_transcript_stamped_in_the_future_when_synced_again_then_transcripts_created_meanwhile_still_arrive(
    server, ahead_days
):
    key = server.add_key()
    victim = server.dataset.list_items("transcripts")[3]["id"]
    server.update_transcript(victim, created_at=_utc(time.time() + ahead_days * 86400))
    first = run_sync(server, config_for(server, key), streams=("transcripts",), mode=SyncMode.incremental)
    created_now = server.add_transcript(created_at=_utc(time.time()))["id"]

    second = run_sync(server, config_for(server, key), streams=("transcripts",), mode=SyncMode.incremental,
                      state=first.state)

    assert created_now in second.ids("transcripts"), "a transcript created after the last sync never arrives"


def _utc(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))
