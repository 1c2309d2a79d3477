"""report_links.py and FetchPlan's links: a transcript's report_ids kept current at one request per transcript."""

from datetime import datetime

from source_meetlog.core.fetch_plan import Fetch, FetchPlan, ListRules
from source_meetlog.core.list_state import ListState
from source_meetlog.core.links import ReportLinks

REPORTS = ListRules(cursor_field="created_at", status_field="status", link_field="transcription_id")
NOW = datetime(2026, 5, 10, 12)


def report(record_id: str, created_at: str, transcript: str) -> dict:
    return {"id": record_id, "created_at": created_at, "status": "completed", "transcription_id": transcript}


def read(plan: FetchPlan, items) -> list:
    plan.new_read()
    fetches = [f for f in (plan.see(i, 1, i["id"]) for i in items) if f]
    plan.page_done()
    fetches += plan.finish()
    plan.close()
    return fetches


def test_given_the_reports_list_ends_first_then_the_transcripts_stream_takes_its_transcripts():
    links = ReportLinks()
    assert links.offer({"t1"}) == set()
    assert links.take() == {"t1"}


def test_given_the_transcripts_list_ends_first_then_the_offer_waits_for_the_next_sync():
    links = ReportLinks(carried_over={"t0"})
    assert links.take() == {"t0"}, "what the last sync could not hand over"
    assert links.offer({"t1"}) == {"t1"}


def test_given_a_new_report_on_a_synced_transcript_then_its_transcript_is_a_changed_link():
    plan = FetchPlan(REPORTS, ListState.read({"created_at": "2026-05-10T10:00:00Z"}, "created_at"),
                     datetime(2026, 5, 10, 10), inclusive=False, now=NOW)

    assert read(plan, [report("new", "2026-05-10T11:00:00Z", "t1"), report("old", "2026-05-09T11:00:00Z", "t2")]) == [Fetch("new")]
    assert plan.changed_links() == {"t1"}


def test_given_a_first_sync_then_no_link_changes_since_every_transcript_is_new_too():
    plan = FetchPlan(REPORTS, ListState(), None, inclusive=False, now=NOW, first_sync=True)

    read(plan, [report("r", "2026-05-10T11:00:00Z", "t1")])

    assert plan.changed_links() == set()


def test_given_reconcile_deletions_then_a_deleted_report_relinks_its_transcript_from_the_state():
    rules = ListRules(cursor_field="created_at", status_field="status", link_field="transcription_id", reconcile_deletions=True)
    saved = ListState(cursor="2026-05-10T10:00:00Z", synced_ids={"kept", "gone"}, synced_links={"kept": "t1", "gone": "t2"})
    plan = FetchPlan(rules, ListState.read(saved.written("created_at", True), "created_at"),
                     datetime(2026, 5, 10, 10), inclusive=False, now=NOW)

    read(plan, [report("kept", "2026-05-09T11:00:00Z", "t1")])

    assert plan.deleted() == ["gone"] and plan.changed_links() == {"t2"}


def test_given_a_transcript_fetched_already_this_sync_then_its_link_costs_nothing_more():
    plan = FetchPlan(ListRules(cursor_field="created_at", status_field="status", newest_first=True), ListState(), None,
                     inclusive=False, now=NOW)
    read(plan, [{"id": "t1", "created_at": "2026-05-10T11:00:00Z", "status": "completed"}])

    assert plan.fetch_link("t1") is None
    assert plan.fetch_link("t2") == Fetch("t2")
