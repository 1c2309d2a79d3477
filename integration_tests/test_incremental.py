"""Incremental syncs against the local Meetlog API, whose data changes between two syncs.

Each test runs a first sync, changes the server's data, and checks exactly what the second
sync requests and emits: the rate limit is spent only on what changed, and no change is missed.
"""

import pytest

from airbyte_cdk.models import SyncMode

from integration_tests.harness import STREAMS, config_for, expected_project_transcripts, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset

INCREMENTAL = SyncMode.incremental


def first_sync(server, config, streams=STREAMS):
    sync = run_sync(server, config, streams=streams, mode=INCREMENTAL)
    assert sync.errors == []
    return sync


def test_given_no_change_when_synced_again_then_one_list_request_per_stream_and_no_record(server, config):
    first = first_sync(server, config)

    second = run_sync(server, config, mode=INCREMENTAL, state=first.state)

    assert second.errors == []
    assert [r.path for r in second.requests] and all(r.path.count("/") == 4 for r in second.requests), (
        "only list requests"
    )
    assert sorted(r.path for r in second.requests) == sorted(f"/api/v1/export/{s}" for s in STREAMS)
    assert second.output.records == []


@pytest.mark.parametrize("new_transcripts", [1, 3])
def test_given_k_new_transcripts_when_synced_again_then_one_list_request_and_k_details(server, config, new_transcripts):
    first = first_sync(server, config, streams=("transcripts",))
    added = [server.add_transcript()["id"] for _ in range(new_transcripts)]

    second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert len(second.requests) == 1 + new_transcripts
    assert sorted(second.ids("transcripts")) == sorted(added)


def test_given_a_transcript_synced_while_processing_when_it_completes_then_the_next_sync_emits_its_final_text(server, config):
    first = first_sync(server, config, streams=("transcripts",))
    pending = server.add_transcript(status="processing")["id"]
    second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)
    assert [(r["id"], r["status"]) for r in second.records("transcripts")] == [(pending, "processing")]

    server.update_transcript(pending, status="completed", text="Итоговый текст ✅", summary="Final summary")
    third = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=second.state)

    [final] = third.records("transcripts")
    assert (final["id"], final["status"], final["text"], final["summary"]) == (
        pending, "completed", "Итоговый текст ✅", "Final summary"
    )
    fourth = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=third.state)
    assert fourth.output.records == [] and len(fourth.requests) == 1


def test_given_a_processing_transcript_older_than_a_completed_one_when_it_completes_then_it_is_not_missed(server, config):
    """The cursor may not pass a record that is not final, even when newer final records exist."""
    first = first_sync(server, config, streams=("transcripts",))
    pending = server.add_transcript(status="processing")["id"]
    newer = server.add_transcript(status="completed")["id"]
    second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)
    assert sorted(second.ids("transcripts")) == sorted([pending, newer])

    server.update_transcript(pending, status="completed", text="done")
    third = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=second.state)

    assert pending in third.ids("transcripts")
    assert next(r for r in third.records("transcripts") if r["id"] == pending)["text"] == "done"


def test_given_a_report_that_completes_when_synced_again_then_its_content_arrives(server, config):
    first = first_sync(server, config, streams=("reports",))
    transcript = server.dataset.list_items("transcripts")[0]["id"]
    report = server.add_report(transcript, status="processing", content=None)["id"]
    second = run_sync(server, config, streams=("reports",), mode=INCREMENTAL, state=first.state)
    assert second.ids("reports") == [report]

    server.update_report(report, status="completed", content="## Итоги\n- готово")
    third = run_sync(server, config, streams=("reports",), mode=INCREMENTAL, state=second.state)

    assert [(r["id"], r["content"]) for r in third.records("reports")] == [(report, "## Итоги\n- готово")]


@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
def test_given_reports_in_any_order_when_a_report_is_added_then_only_it_is_fetched(order):
    with MeetlogServer(dataset=build_dataset(transcripts=60, reports_per_transcript=3), reports_order=order,
                       requests_per_window=None) as server:
        config = config_for(server, server.add_key())
        first = first_sync(server, config, streams=("reports",))
        added = server.add_report(server.dataset.list_items("transcripts")[5]["id"])["id"]

        second = run_sync(server, config, streams=("reports",), mode=INCREMENTAL, state=first.state)

        assert second.ids("reports") == [added]
        assert len(second.detail_requests("reports")) == 1


def test_given_more_transcripts_than_the_cdk_holds_partitions_for_when_synced_twice_then_each_arrives_once_and_the_second_resumes():
    """1,200 transcripts are 1,200 detail partitions: more than the 200 that may wait for the workers
    and the 1,000 partition cursors kept (components/partition_bounds.py). Dropping a closed
    partition's cursor changes nothing emitted or saved: each record once, the minimum of requests,
    the state's cursors at the newest transcript, and an open partition never dropped (the CDK warns)."""
    with MeetlogServer(dataset=build_dataset(transcripts=1200, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server:
        config = config_for(server, server.add_key())
        first = first_sync(server, config, streams=("transcripts",))
        ids, newest = first.ids("transcripts"), server.dataset.list_items("transcripts")[0]["created_at"]
        assert len(ids) == len(set(ids)) == 1200 and len(first.requests) == 12 + 1200
        [state] = first.state
        assert state.stream.stream_state.state == {"created_at": newest}
        assert state.stream.stream_state.parent_state == {"transcripts_list": {"created_at": newest}}
        assert not any("maximum number of partitions" in m.log.message for m in first.output.logs)
        added = server.add_transcript()["id"]

        second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

        assert second.ids("transcripts") == [added] and len(second.requests) == 2


def test_given_an_updated_project_when_synced_again_then_only_that_project_is_fetched(server, config):
    first = first_sync(server, config, streams=("projects",))
    project = server.dataset.list_items("projects")[0]["id"]
    server.update_project(project, name="Команда А 🚀")

    second = run_sync(server, config, streams=("projects",), mode=INCREMENTAL, state=first.state)

    assert [(r["id"], r["name"]) for r in second.records("projects")] == [(project, "Команда А 🚀")]
    assert len(second.requests) == 2


def test_given_an_updated_project_when_synced_again_with_project_transcripts_then_every_row_at_one_request_per_project(
    server, config
):
    """projects (incremental) fetches only the updated project; project_transcripts (full refresh) takes
    its rows from every project's detail, so it needs them all, and shares the one projects fetched:
    1 list page + 3 details, each once (projects alone: 1 + 1; project_transcripts alone: 1 + 3)."""
    modes = {"projects": INCREMENTAL, "project_transcripts": SyncMode.full_refresh}
    first = run_sync(server, config, streams=list(modes), mode=modes)
    project = server.dataset.list_items("projects")[0]["id"]
    server.update_project(project, name="Команда А 🚀")

    second = run_sync(server, config, streams=list(modes), mode=modes, state=first.state)

    projects = server.dataset.list_items("projects")
    for sync in (first, second):
        assert sync.errors == []
        assert sync.project_transcripts() == expected_project_transcripts(server)
        assert sorted(r.path for r in sync.requests) == sorted(
            ["/api/v1/export/projects"] + [f"/api/v1/export/projects/{p['id']}" for p in projects]
        )
    assert [(r["id"], r["name"]) for r in second.records("projects")] == [(project, "Команда А 🚀")]


def test_given_a_cursor_in_the_future_when_synced_then_no_record_no_detail_request_and_a_warning_per_stream(
    server, config
):
    first = first_sync(server, config)
    future = [
        _with_cursor(message, "2100-01-01T00:00:00Z") for message in first.state
    ]

    sync = run_sync(server, config, mode=INCREMENTAL, state=future)

    assert sync.errors == []
    assert sync.output.records == []
    assert all(r.path.count("/") == 4 for r in sync.requests)
    warnings = [m.log.message for m in sync.output.logs if m.log.level.name == "WARN"]
    for stream in ("transcripts", "reports", "projects"):
        assert any(f"'{stream}' stream is ahead of now" in w and "2100-01-01T00:00:00Z" in w for w in warnings), warnings


def test_given_a_start_date_when_synced_incrementally_then_older_records_never_arrive(server):
    transcripts = server.dataset.list_items("transcripts")
    start_date = transcripts[3]["created_at"]
    config = config_for(server, server.add_key(), start_date=start_date)

    sync = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL)

    assert sorted(sync.ids("transcripts")) == sorted(t["id"] for t in transcripts if t["created_at"] >= start_date)


def _with_cursor(state_message, value):
    """A copy of a stream's state whose cursors (own and list's) all say `value`."""
    from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer

    raw = AirbyteStateMessageSerializer.dump(state_message)
    blob = raw["stream"]["stream_state"]
    for holder in [blob.get("state", {}), *blob.get("parent_state", {}).values()]:
        for field in ("created_at", "updated_at"):
            if field in holder:
                holder[field] = value
    return AirbyteStateMessageSerializer.load(raw)


@pytest.mark.parametrize(
    "saved_state",
    [{"created_at": "yesterday"}, {"state": {"created_at": 12}}, {"cursor": "2026-05-08T09:14:22Z"}, {"state": "x"}],
)
def test_given_a_state_this_connector_never_writes_when_synced_then_the_stream_restarts_with_a_warning(server, config, saved_state):
    from airbyte_cdk.test.state_builder import StateBuilder

    state = StateBuilder().with_stream_state("transcripts", saved_state).build()

    sync = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=state)

    assert sync.errors == []
    assert sorted(sync.ids("transcripts")) == sorted(t["id"] for t in server.dataset.list_items("transcripts"))
    assert any("starts again from start_date" in m.log.message for m in sync.output.logs)


def test_given_a_legacy_single_cursor_state_when_synced_then_it_resumes_from_that_cursor(server, config):
    from airbyte_cdk.test.state_builder import StateBuilder

    transcripts = server.dataset.list_items("transcripts")
    state = StateBuilder().with_stream_state("transcripts", {"created_at": transcripts[1]["created_at"]}).build()

    sync = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=state)

    assert sync.ids("transcripts") == [transcripts[0]["id"]]
