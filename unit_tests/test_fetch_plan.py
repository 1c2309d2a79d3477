"""fetch_plan.py on its own: listed items and a saved list state in; fetches, pending records and the next state out."""

from datetime import datetime, timedelta

from source_meetlog.core.fetch_plan import Fetch, FetchPlan, ListRules, fingerprint
from source_meetlog.core.list_state import ListOrderProgress, ListState, NewestFirstProgress

NOW = datetime(2026, 5, 10, 12, 0, 0)
TRANSCRIPTS = ListRules(cursor_field="created_at", status_field="status", newest_first=True)
REPORTS = ListRules(cursor_field="created_at", status_field="status", newest_first=False)


def at(hours: float) -> str:
    return (datetime(2026, 5, 10) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def item(record_id: str, hours: float, status: str = "completed") -> dict:
    return {"id": record_id, "created_at": at(hours), "status": status}


def plan_for(rules: ListRules, saved: dict, cursor_hours=None) -> FetchPlan:
    resume_after = datetime.strptime(at(cursor_hours), "%Y-%m-%dT%H:%M:%SZ") if cursor_hours is not None else None
    return FetchPlan(rules, ListState.read(saved, "created_at"), resume_after, inclusive=False, now=NOW)


def read(plan: FetchPlan, pages) -> list:
    """Feeds pages (lists of items) the way the router does; returns the fetches, re-checks last."""
    plan.new_read()
    fetches = []
    for number, page in enumerate(pages, start=1):
        for position, listed in enumerate(page):
            if position == 0:
                plan.page_done(next_item=listed)
            fetch = plan.see(listed, number, listed["id"])
            if fetch:
                fetches.append(fetch)
    plan.page_done()
    fetches += plan.finish()
    plan.close()
    return fetches


def test_given_a_cursor_when_read_then_only_newer_records_are_fetched_and_the_cursor_moves_to_the_newest():
    plan = plan_for(TRANSCRIPTS, {"created_at": at(0)}, cursor_hours=0)

    assert read(plan, [[item("a", 2), item("b", 1), item("c", 0), item("d", -1)]]) == [Fetch("a"), Fetch("b")]
    assert plan.state().written("created_at", False) == {"created_at": at(2)}


def test_given_a_record_not_final_when_answered_then_it_is_pending_with_the_fingerprint_of_what_was_sent():
    plan = plan_for(TRANSCRIPTS, {"created_at": at(0)}, cursor_hours=0)
    processing = {"id": "p", "created_at": at(1), "status": "processing", "text": None}

    assert read(plan, [[item("a", 2), item("p", 1, "processing")]]) == [Fetch("a"), Fetch("p")]
    assert plan.answered("a", item("a", 2)) and plan.answered("p", processing)
    assert plan.state().written("created_at", False) == {"created_at": at(2), "pending": {"p": fingerprint(processing)}}


def test_given_a_pending_record_still_processing_on_the_list_then_it_costs_nothing():
    plan = plan_for(REPORTS, {"created_at": at(2), "pending": {"p": "f00d"}}, cursor_hours=2)

    assert read(plan, [[item("a", 2), item("p", 1, "processing")]]) == []
    assert plan.state().pending == {"p": "f00d"}


def test_given_a_pending_record_final_on_the_list_then_it_is_fetched_and_leaves_pending_once_answered():
    plan = plan_for(REPORTS, {"created_at": at(2), "pending": {"p": "f00d"}}, cursor_hours=2)

    assert read(plan, [[item("a", 2), item("p", 1)]]) == [Fetch("p", last_sent="f00d")]
    assert plan.answered("p", item("p", 1)) is True
    assert plan.state().pending == {}


def test_given_a_pending_transcript_the_pages_read_do_not_reach_then_one_recheck_sent_only_if_changed():
    unchanged = {"id": "p", "created_at": at(-30 * 24), "status": "processing"}
    plan = plan_for(TRANSCRIPTS, {"created_at": at(2), "pending": {"p": fingerprint(unchanged)}}, cursor_hours=2)

    assert read(plan, [[item("a", 2), item("b", 1)]]) == [Fetch("p", last_sent=fingerprint(unchanged))]
    assert plan.answered("p", unchanged) is False, "the same answer is not sent again"
    assert plan.answered("p", dict(unchanged, status="completed")) is True


def test_given_a_recheck_never_answered_when_the_sync_ends_then_the_record_is_forgotten_as_deleted():
    plan = plan_for(TRANSCRIPTS, {"created_at": at(2), "pending": {"p": "f00d"}}, cursor_hours=2)

    read(plan, [[item("a", 2), item("b", 1)]])

    assert plan.state().pending == {}, "a 404 yields no record: the record is gone"


def test_given_a_whole_list_without_the_pending_record_then_it_is_forgotten_without_a_request():
    plan = plan_for(REPORTS, {"created_at": at(2), "pending": {"p": "f00d"}}, cursor_hours=2)

    assert read(plan, [[item("a", 2)]]) == []
    assert plan.state().pending == {}


def test_given_pages_read_then_the_checkpoint_says_which_created_at_range_was_handed_out():
    plan = plan_for(TRANSCRIPTS, {}, cursor_hours=None)
    plan.new_read()
    for listed in (item("a", 3), item("b", 2)):
        plan.see(listed, 1, listed["id"])
    plan.page_done(next_item=item("c", 1))

    assert plan.state().progress == NewestFirstProgress(((datetime(2026, 5, 10, 2), datetime(2026, 5, 10, 3)),))


def test_given_a_seam_inside_one_second_then_the_shared_second_is_not_called_done():
    plan = plan_for(TRANSCRIPTS, {}, cursor_hours=None)
    plan.new_read()
    for listed in (item("a", 3), item("b", 2)):
        plan.see(listed, 1, listed["id"])
    plan.page_done(next_item=item("b2", 2))  # the next page starts in b's second

    assert plan.state().progress == NewestFirstProgress(((datetime(2026, 5, 10, 3), datetime(2026, 5, 10, 3)),))


def test_given_the_progress_of_an_interrupted_attempt_then_the_resumed_one_skips_what_it_handed_out():
    saved = {"progress": {"ranges": [[at(2), at(3)]]}}
    plan = plan_for(TRANSCRIPTS, saved, cursor_hours=None)

    assert read(plan, [[item("new", 4), item("a", 3), item("b", 2)], [item("c", 1)]]) == [Fetch("new"), Fetch("c")]


def test_given_an_unordered_list_interrupted_after_page_one_then_the_resume_skips_up_to_its_last_ids():
    read_at = "2026-05-10T11:59:59Z"
    saved = {"progress": ListOrderProgress(read_at=read_at, pages=1, after=("b",)).as_state()}
    plan = plan_for(REPORTS, saved, cursor_hours=None)

    pages = [[item("a", 1), item("new", 12.5), item("b", 2)], [item("c", 3)]]
    assert read(plan, pages) == [Fetch("new"), Fetch("c")], "old records up to b were handed out; new is newer than that read"


def test_given_the_markers_of_an_unordered_list_all_deleted_then_the_resume_skips_no_page_past_those_finished():
    saved = {"progress": ListOrderProgress(read_at="2026-05-10T11:59:59Z", pages=1, after=("gone",)).as_state()}
    plan = plan_for(REPORTS, saved, cursor_hours=None)

    fetched = read(plan, [[item("a", 1)], [item("b", 2)], [item("c", 3)]])

    assert fetched == [Fetch("b"), Fetch("c")], "past the pages that attempt finished, nothing is skipped"


def test_given_reconcile_deletions_then_a_complete_list_names_the_deleted_ids():
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, reconcile_deletions=True)
    saved = ListState(cursor=at(2), synced_ids={"a", "gone"}).written("created_at", True)
    plan = plan_for(rules, saved, cursor_hours=2)

    read(plan, [[item("a", 2)]])

    assert plan.deleted() == ["gone"]
    assert plan.state().synced_ids == {"a"}


def test_given_a_0_1_0_state_then_its_cursor_and_handed_out_fingerprints_still_work():
    from source_meetlog.core.list_state import legacy_fingerprint
    import base64

    handed_out = base64.b64encode(legacy_fingerprint(item("a", 3), "created_at", "status")).decode()
    plan = plan_for(TRANSCRIPTS, {"created_at": at(1), "handed_out_this_sync": handed_out}, cursor_hours=1)

    assert read(plan, [[item("a", 3), item("b", 2), item("c", 0)]]) == [Fetch("b")]
    assert "handed_out_this_sync" not in plan.state().written("created_at", False)


def test_given_the_same_state_twice_then_it_is_written_once_per_page_not_per_record():
    plan = plan_for(TRANSCRIPTS, {}, cursor_hours=None)
    plan.new_read()
    plan.see(item("a", 3, "processing"), 1, "a")
    first = plan.state()
    plan.see(item("b", 2, "processing"), 1, "b")

    assert plan.state() is first, "no new state until the page is done"


def test_given_rechecks_handed_out_when_a_checkpoint_is_taken_before_they_are_answered_then_they_stay_pending():
    """The CDK asks for the state after each re-check slice too: until close(), no unanswered re-check
    may leave `pending`, or a sync killed then would lose it."""
    plan = plan_for(TRANSCRIPTS, {"created_at": at(2), "pending": {"p": "f00d", "q": "beef"}}, cursor_hours=2)
    plan.new_read()
    plan.see(item("a", 2), 1, "a")
    plan.page_done()

    assert [f.record_id for f in plan.finish()] == ["p", "q"]
    assert plan.state().pending == {"p": "f00d", "q": "beef"}
    plan.close()
    assert plan.state().pending == {}, "after close, unanswered means 404"


def test_given_a_new_record_not_final_whose_detail_is_404_then_it_does_not_stay_pending():
    plan = plan_for(TRANSCRIPTS, {}, cursor_hours=None)

    assert read(plan, [[item("p", 1, "processing")]]) == [Fetch("p")]
    assert plan.state().pending == {}
