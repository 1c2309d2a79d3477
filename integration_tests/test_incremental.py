"""Incremental syncs against the local Meetlog API, whose data changes between two syncs.

Each test runs a first sync, changes the server's data, and checks exactly what the second
sync requests and emits: the rate limit is spent only on what changed, and no change is missed.
"""

import pytest

from airbyte_cdk.models import SyncMode

from integration_tests.harness import STREAMS, config_for, expected_project_transcripts, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from source_meetlog.core.list_state import Table

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
    """A processing transcript behind a newer completed one is not missed when it completes: the cursor
    passes it at once, and `pending` keeps it until it is final."""
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


@pytest.mark.slow  # ~3-6 s: two syncs of more transcripts than the CDK holds partitions for
def test_given_more_transcripts_than_the_cdk_holds_partitions_for_when_synced_twice_then_each_arrives_once_and_the_second_resumes():
    """1,200 transcripts are 1,200 detail partitions: more than the 200 that may wait for the workers
    and the 1,000 partition cursors kept (cdk_internals.py: PENDING_PARTITIONS, KEPT_PARTITION_CURSORS). Dropping a closed
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
        list_state = state.stream.stream_state.parent_state["transcripts_list"]
        assert list_state["created_at"] == newest
        not_final = {t["id"] for t in server.dataset.list_items("transcripts") if t["status"] not in ("completed", "failed")}
        pending = Table.decoded(list_state["pending"])
        assert set(pending.entries) == {pending.key_of(i) for i in not_final}
        assert set(list_state) <= {"created_at", "sent", "pending", "pending_low"}, "no progress left, nothing per record but these"
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
    from airbyte_cdk.models import AirbyteStateMessageSerializer

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


# ------------------------------------------------------------------------------ pending records (core/fetch_plan.py)


def test_given_one_pending_transcript_and_150_newer_when_synced_without_change_then_two_requests_and_nothing_emitted():
    """The pending transcript is on page 2 of the newest-first list, behind 150 newer ones: the cursor has
    moved past it, so a sync reads page 1 only, and re-checks it with one detail request."""
    from datetime import datetime, timedelta, timezone

    with MeetlogServer(dataset=build_dataset(transcripts=0, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server:
        config = config_for(server, server.add_key())
        two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
        pending = server.add_transcript(status="processing", created_at=two_days_ago)["id"]
        for minutes in range(150):
            server.add_transcript(created_at=two_days_ago + timedelta(minutes=minutes + 1))
        first = first_sync(server, config, streams=("transcripts",))

        unchanged = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)
        assert unchanged.errors == [] and unchanged.output.records == []
        assert len(unchanged.requests) == 2 and len(unchanged.detail_requests("transcripts")) == 1

        server.update_transcript(pending, status="completed", text="Итог", summary="Готово")
        completed = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=unchanged.state)

    assert len(completed.requests) == 2
    [final] = completed.records("transcripts")
    assert (final["id"], final["status"], final["text"]) == (pending, "completed", "Итог")
    assert "pending" not in completed.state[0].stream.stream_state.parent_state["transcripts_list"]


def test_given_a_transcript_pending_for_30_days_when_it_completes_then_the_next_sync_emits_it(server, config):
    from datetime import datetime, timedelta, timezone

    month_old = server.add_transcript(status="processing", created_at=datetime.now(timezone.utc) - timedelta(days=30))["id"]
    first = first_sync(server, config, streams=("transcripts",))
    server.update_transcript(month_old, status="completed", text="Наконец", summary="Готово")

    second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert [(r["id"], r["status"], r["text"]) for r in second.records("transcripts")] == [(month_old, "completed", "Наконец")]


@pytest.mark.parametrize("transcripts", [1000, pytest.param(4000, marks=pytest.mark.slow)])  # 4,000: ~13 s
def test_given_a_large_first_sync_then_no_state_message_is_larger_than_at_1000_transcripts_nor_64_kb(transcripts):
    """The transcripts state does not grow with the records synced: while the list is read it holds a
    created_at range (core/list_state.py), not the ids handed out, and at the end the newest page's
    fingerprints. Checkpoints follow the records sent, within the state budget. 1,000: every state
    under the bound; 4,000: the same bound."""
    with MeetlogServer(dataset=build_dataset(transcripts=transcripts, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server:
        sync = first_sync(server, config_for(server, server.add_key()), streams=("transcripts",))

    from airbyte_cdk.models import AirbyteStateMessageSerializer
    import json

    sizes = [len(json.dumps(AirbyteStateMessageSerializer.dump(m.state))) for m in sync.output.state_messages]
    assert len(sizes) >= transcripts // 100, "checkpoints as the records are sent: at least one per list page"
    assert max(sizes) < 2_000, max(sizes)  # about 1 kB at 1,000 transcripts, and at 4,000


def test_given_a_state_written_by_0_1_0_when_synced_then_nothing_is_lost_and_no_more_is_fetched_than_0_1_0_would(server, config):
    """0.1.0 held the list cursor one second short of the oldest transcript not final yet, and an interrupted
    sync left the fingerprints of what it had handed out (`handed_out_this_sync`). Here the cursor is held
    short of transcript 5 and an interrupted sync had handed out 0 and 1: the first sync from that state
    fetches the others newer than the held cursor (what 0.1.0 would have), and writes the current shape."""
    import base64
    from datetime import timedelta

    from airbyte_cdk.test.state_builder import StateBuilder

    from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value
    from source_meetlog.core.legacy_state import handed_out_fingerprint as legacy_fingerprint

    listed = server.dataset.list_items("transcripts")  # newest first
    held = format_cursor_value(parse_cursor_value(listed[5]["created_at"]) - timedelta(seconds=1))
    handed_out = base64.b64encode(b"".join(
        legacy_fingerprint(t, "created_at", "status") for t in listed[:2])).decode()
    state_0_1_0 = {"use_global_cursor": True, "state": {"created_at": listed[0]["created_at"]}, "lookback_window": 3,
                   "parent_state": {"transcripts_list": {"created_at": held, "handed_out_this_sync": handed_out}}}

    sync = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL,
                    state=StateBuilder().with_stream_state("transcripts", state_0_1_0).build())

    assert sync.errors == []
    newer_than_held = [t["id"] for t in listed[2:] if parse_cursor_value(t["created_at"]) > parse_cursor_value(held)]
    assert listed[5]["id"] in newer_than_held
    assert sorted(sync.ids("transcripts")) == sorted(newer_than_held)
    list_state = sync.state[0].stream.stream_state.parent_state["transcripts_list"]
    assert "handed_out_this_sync" not in list_state and list_state["created_at"] == listed[0]["created_at"]


# ------------------------------------------------------------------------------ links: a transcript's report_ids stay current


def _syncs_until_relinked(server, config, state, transcript_id, reconcile=False):
    """Incremental syncs of transcripts and reports until transcript_id is emitted, at most two. Since 0.3.0
    it is the first, the one that sees the report change: the transcripts stream reads the reports list
    itself (core/links.py). 0.2.0 needed the next one when the transcripts stream ended its list first."""
    syncs = []
    for _ in range(2):
        sync = run_sync(server, config, streams=("transcripts", "reports"), mode=INCREMENTAL, state=state)
        assert sync.errors == []
        syncs.append(sync)
        state = sync.state
        if transcript_id in sync.ids("transcripts"):
            break
    return syncs


def test_given_a_new_report_on_a_transcript_synced_before_when_synced_then_that_transcript_is_fetched_once_with_it(
    server, config
):
    first = first_sync(server, config, streams=("transcripts", "reports"))
    old = server.dataset.list_items("transcripts")[-1]["id"]
    report = server.add_report(old)["id"]

    syncs = _syncs_until_relinked(server, config, first.state, old)

    [emitted] = [r for s in syncs for r in s.records("transcripts") if r["id"] == old]
    assert report in emitted["report_ids"]
    assert emitted["report_ids"] == server.dataset.transcript_detail(old)["report_ids"]
    assert sum(len([r for r in s.detail_requests("transcripts") if r.path.endswith(old)]) for s in syncs) == 1
    quiet = run_sync(server, config, streams=("transcripts", "reports"), mode=INCREMENTAL, state=syncs[-1].state)
    assert quiet.output.records == [], "fetched once, not on every sync"


def test_given_reconcile_deletions_and_a_deleted_report_when_synced_then_its_transcript_is_fetched_without_it(server):
    config = config_for(server, server.add_key(), reconcile_deletions=True)
    first = first_sync(server, config, streams=("transcripts", "reports"))
    transcript = next(t for t in server.dataset.details("transcripts") if t["report_ids"])
    gone = transcript["report_ids"][0]
    server.delete_report(gone)

    syncs = _syncs_until_relinked(server, config, first.state, transcript["id"])

    [emitted] = [r for s in syncs for r in s.records("transcripts") if r["id"] == transcript["id"]]
    assert gone not in emitted["report_ids"]
    assert any(r["id"] == gone and r.get("_ab_cdc_deleted_at") for s in syncs for r in s.records("reports"))


def test_given_reports_not_selected_then_transcripts_cost_no_relink_request(server, config):
    first = first_sync(server, config, streams=("transcripts",))
    server.add_report(server.dataset.list_items("transcripts")[-1]["id"])

    second = run_sync(server, config, streams=("transcripts",), mode=INCREMENTAL, state=first.state)

    assert len(second.requests) == 1 and second.output.records == []


def test_given_a_member_transcript_renamed_and_project_transcripts_read_too_then_its_project_is_sent_again(server, config):
    """A project's `transcripts` holds its members' titles, and a rename does not move the project's
    updated_at. project_transcripts reads every project's detail on every sync, so projects compares
    each answer with what it sent (at no request of its own: the answers are shared) and sends again
    the one project that changed: 1 list page + 3 details in all, as without the rename."""
    modes = {"projects": INCREMENTAL, "project_transcripts": SyncMode.full_refresh}
    first = run_sync(server, config, streams=list(modes), mode=modes)
    project = server.dataset.details("projects")[0]
    member = project["transcripts"][0]["id"]
    server.rename_transcript(member, "Переименовано ✏️")

    second = run_sync(server, config, streams=list(modes), mode=modes, state=first.state)

    assert second.errors == []
    assert second.records("projects") == [server.dataset.project_detail(project["id"])]
    assert len(second.requests) == 1 + len(server.dataset.list_items("projects"))
    quiet = run_sync(server, config, streams=list(modes), mode=modes, state=second.state)
    assert quiet.records("projects") == [], "sent once, not on every sync"
