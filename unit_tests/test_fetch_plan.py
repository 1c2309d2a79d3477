"""core/fetch_plan.py on its own: listed items and a saved list state in; fetches, how far to read,
and the next state out. Hours are from 2026-05-10T00:00Z; ids are single letters."""

from datetime import datetime, timedelta
from typing import List, Optional, Sequence

import base64

import pytest

from source_meetlog.core.fetch_plan import Fetch, FetchPlan, ListRules, PlanOutOfOrder, StateBudget
from source_meetlog.core.legacy_state import handed_out_fingerprint
from source_meetlog.core.list_state import ListState, Table
from source_meetlog.core.resume import Ranges
from source_meetlog.core.sent import Sent, fingerprint, id_hash

NOW = datetime(2026, 5, 10, 12, 0, 0)
TRANSCRIPTS = ListRules(cursor_field="created_at", status_field="status", newest_first=True)
REPORTS = ListRules(cursor_field="created_at", status_field="status")


def at(hours: float) -> str:
    return (datetime(2026, 5, 10) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment(hours: float) -> datetime:
    return datetime(2026, 5, 10) + timedelta(hours=hours)


def item(record_id: str, hours: float, status: str = "completed", **fields) -> dict:
    return {"id": record_id, "created_at": at(hours), "status": status, **fields}


def plan_for(rules: ListRules, saved: Optional[dict] = None, cursor_hours: Optional[float] = None, **read) -> FetchPlan:
    resume_after = moment(cursor_hours) if cursor_hours is not None else None
    return FetchPlan(rules, ListState.read(saved, "created_at", **read), resume_after, inclusive=False, now=NOW)


class Reading:
    """Feeds pages to the plan the way the router does; records what it fetched and how far it read."""

    def __init__(self, plan: FetchPlan, pages: Sequence[Sequence[dict]], answer: bool = True,
                 answers: Optional[dict] = None) -> None:
        self.plan, self.fetched, self.pages_read = plan, [], 0
        total = sum(len(page) for page in pages)
        self.by_id = {listed["id"]: listed for page in pages for listed in page}
        self.by_id.update(answers or {})
        plan.new_read()
        for number, page in enumerate(pages, start=1):
            self.pages_read = number
            for listed in page:
                for fetch in plan.see(listed, number, listed["id"], moment_of(listed), total, len(pages)):
                    self._take(fetch)
            if number == len(pages):
                plan.last_page_read()
            elif not plan.wants_next_page():
                break
        before = len(self.fetched)
        for fetch in plan.finish():
            self._take(fetch, answer)
        self.rechecks = self.fetched[before:]
        plan.close()

    def _take(self, fetch: Fetch, answer: bool = True) -> None:
        self.fetched.append(fetch.record_id)
        if answer:
            self.plan.answered(fetch.record_id, self.by_id.get(fetch.record_id, {"id": fetch.record_id}))

    def state(self) -> dict:
        return self.plan.state()


def moment_of(listed: dict) -> Optional[datetime]:
    return datetime.strptime(listed["created_at"], "%Y-%m-%dT%H:%M:%SZ") if "created_at" in listed else None


def pending_ids(state: dict, ids: str = "abcdefghijklmnopqrstuvwxyz") -> List[str]:
    table = Table.decoded(state.get("pending")) or Table()
    return [i for i in ids if table.get(i) is not None]


def sent_ids(state: dict, ids: str = "abcdefghijklmnopqrstuvwxyz") -> List[str]:
    table = Table.decoded(state.get("sent")) or Table()
    return [i for i in ids if table.get(i) is not None]


# ------------------------------------------------------------------ new records and the cursor


def test_given_a_cursor_when_read_then_only_newer_records_are_fetched_and_the_cursor_moves_to_the_newest():
    reading = Reading(plan_for(TRANSCRIPTS, {"created_at": at(0)}, cursor_hours=0),
                      [[item("a", 2), item("b", 1), item("c", 0), item("d", -1)]])

    assert reading.fetched == ["a", "b"]
    assert reading.state()["created_at"] == at(2)


def test_given_a_start_date_then_records_created_before_it_are_neither_fetched_nor_remembered():
    rules = ListRules(cursor_field="created_at", status_field="status", start_date=at(0))
    reading = Reading(plan_for(rules), [[item("a", 1), item("b", 0), item("c", -1, "processing")]])

    assert sorted(reading.fetched) == ["a", "b"]
    assert sent_ids(reading.state()) == ["a", "b"] and pending_ids(reading.state()) == []


# ------------------------------------------------------------------ changes the list shows


def test_given_a_report_retitled_since_it_was_sent_when_the_list_is_read_then_it_is_fetched_again():
    first = Reading(plan_for(REPORTS), [[item("a", 2, template_name="Minutes"), item("b", 1, template_name="Minutes")]])

    second = Reading(plan_for(REPORTS, first.state(), cursor_hours=2),
                     [[item("a", 2, template_name="Minutes"), item("b", 1, template_name="Протокол")]])

    assert second.fetched == ["b"]


def test_given_a_list_read_whole_then_a_record_never_sent_is_fetched_whatever_its_date():
    """A report listed late with an old created_at is still news: the list names every record."""
    first = Reading(plan_for(REPORTS), [[item("a", 2)]])

    second = Reading(plan_for(REPORTS, first.state(), cursor_hours=2), [[item("a", 2), item("late", -5)]])

    assert second.fetched == ["late"]


def test_given_a_0_2_0_state_without_fingerprints_then_the_list_stands_for_what_was_sent():
    """Nothing remembered yet: an old record is not fetched again, and from now on it is remembered."""
    saved = {"created_at": at(2), "synced_ids": None}
    reading = Reading(plan_for(REPORTS, saved, cursor_hours=2), [[item("a", 2), item("b", -5)]])

    assert reading.fetched == []
    assert sent_ids(reading.state()) == ["a", "b"]


# ------------------------------------------------------------------ pending records


def test_given_a_record_not_final_when_sent_then_it_is_pending_until_final():
    reading = Reading(plan_for(TRANSCRIPTS, {"created_at": at(0)}, cursor_hours=0),
                      [[item("a", 2), item("p", 1, "processing")]])

    assert reading.fetched == ["a", "p"]
    assert pending_ids(reading.state()) == ["p"] and sent_ids(reading.state()) == ["a"]


def test_given_a_pending_record_still_processing_on_a_page_read_then_it_costs_nothing():
    first = Reading(plan_for(REPORTS), [[item("a", 2), item("p", 1, "processing")]])

    second = Reading(plan_for(REPORTS, first.state(), cursor_hours=2), [[item("a", 2), item("p", 1, "processing")]])

    assert second.fetched == [] and pending_ids(second.state()) == ["p"]


def test_given_a_pending_record_final_on_the_list_then_it_is_fetched_and_leaves_pending():
    first = Reading(plan_for(REPORTS), [[item("a", 2), item("p", 1, "processing")]])

    second = Reading(plan_for(REPORTS, first.state(), cursor_hours=2), [[item("a", 2), item("p", 1)]])

    assert second.fetched == ["p"]
    assert pending_ids(second.state()) == [] and sent_ids(second.state()) == ["a", "p"]


def test_given_a_whole_list_without_the_pending_record_then_it_is_forgotten_without_a_request():
    first = Reading(plan_for(REPORTS), [[item("a", 2), item("p", 1, "processing")]])

    second = Reading(plan_for(REPORTS, first.state(), cursor_hours=2), [[item("a", 2)]])

    assert second.fetched == [] and pending_ids(second.state()) == []


def newest_first_pages(pending_at: Sequence[int], count: int = 400, per_page: int = 100, status_of=None) -> List[List[dict]]:
    """`count` transcripts an hour apart, newest first, those at the positions `pending_at` processing."""
    ids = [f"t{position:03d}" for position in range(count)]
    items = [item(i, -position, "processing" if position in pending_at else "completed") for position, i in enumerate(ids)]
    return [items[start:start + per_page] for start in range(0, count, per_page)]


def test_given_one_pending_transcript_deep_in_the_list_then_one_detail_request_rechecks_it_instead_of_three_pages():
    """400 transcripts, t350 pending (page 4). No change: reading down to it costs 4 pages; page 1 and one
    detail request cost 2. min(4, 1 + 1) = 2: the plan stops after page 1 and re-checks t350 by id."""
    pages = newest_first_pages(pending_at={350})
    first = Reading(plan_for(TRANSCRIPTS), pages)

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=0), pages)

    assert (second.pages_read, second.fetched) == (1, ["t350"])


def test_given_pending_transcripts_at_every_age_then_the_pages_down_to_the_oldest_cost_less_than_a_request_each():
    """One in seven pending, 400 transcripts: 57 pending, 56 of them below page 1. min(4 pages, 1 + 56) = 4:
    the plan reads the four pages, where each still pending costs nothing, and re-checks none by detail."""
    pending = set(range(3, 400, 7))
    pages = newest_first_pages(pending_at=pending)
    first = Reading(plan_for(TRANSCRIPTS), pages)
    assert not Table.decoded(first.state()["pending"]).by_id, "so many are written by hash: the state stays small"

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=0), pages)

    assert (second.pages_read, second.fetched) == (4, [])
    assert len(Table.decoded(second.state()["pending"]).entries) == len(pending)


def test_given_pending_transcripts_only_near_the_top_then_reading_stops_below_the_last_one():
    pages = newest_first_pages(pending_at={5, 120})
    first = Reading(plan_for(TRANSCRIPTS), pages)

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=0), pages)

    assert second.pages_read <= 2 and second.fetched in ([], ["t120"])


def test_given_a_recheck_that_answers_as_before_then_it_is_not_sent_and_one_that_changed_is():
    pages = newest_first_pages(pending_at={350})
    first = Reading(plan_for(TRANSCRIPTS), pages)
    plan = plan_for(TRANSCRIPTS, first.state(), cursor_hours=0)
    Reading(plan, pages, answer=False)

    assert plan.answered("t350", item("t350", -350, "processing")) is False, "the same answer is not sent again"
    assert plan.answered("t350", item("t350", -350, "completed")) is True


def test_given_a_recheck_never_answered_when_the_sync_ends_then_the_record_is_forgotten_as_deleted():
    pages = newest_first_pages(pending_at={350})
    first = Reading(plan_for(TRANSCRIPTS), pages)

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=0), pages, answer=False)

    assert second.fetched == ["t350"] and "pending" not in second.state(), "a 404 yields no record: the record is gone"


# ------------------------------------------------------------------ how far the newest-first list is read


def test_given_nothing_pending_then_reading_stops_at_the_page_that_reaches_the_cursor():
    pages = newest_first_pages(pending_at=set())
    first = Reading(plan_for(TRANSCRIPTS), pages)

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=0), pages)

    assert (second.pages_read, second.fetched) == (1, [])


def test_given_a_page_out_of_newest_first_order_then_the_list_is_read_to_its_end():
    pages = newest_first_pages(pending_at=set())
    first = Reading(plan_for(TRANSCRIPTS), pages)
    pages[0] = pages[0][::-1]

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=0), pages)

    assert second.pages_read == 4


# ------------------------------------------------------------------ deletions


def test_given_reconcile_deletions_then_a_complete_list_names_the_deleted_ids_and_the_state_names_every_id():
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, reconcile_deletions=True)
    first = Reading(plan_for(rules), [[item("a", 2), item("gone", 1)]])
    assert Table.decoded(first.state()["sent"]).by_id

    second = Reading(plan_for(rules, first.state(), cursor_hours=2), [[item("a", 2)]])

    assert second.plan.deleted() == ["gone"] and sent_ids(second.state()) == ["a"]


# ------------------------------------------------------------------ interrupted syncs


def test_given_records_walked_then_a_checkpoint_covers_the_seconds_above_the_last_one_with_their_digest():
    """Newest first, the last item's own second stays outside the range: others of it may still come."""
    plan = plan_for(TRANSCRIPTS)
    plan.new_read()
    for listed in (item("a", 3), item("b", 2)):
        list(plan.see(listed, 1, listed["id"], moment_of(listed), 3, 1))

    progress = plan.state()["progress"]
    assert progress["ranges"] == Ranges(((moment(2) + timedelta(seconds=1), moment(3)),)).as_state()["ranges"]
    assert len(base64.b64decode(progress["sums"])) == 8 * 6, "a digest of 8 buckets of 48 bits: checkpoints stay small"


def interrupted(rules: ListRules, pages: Sequence[Sequence[dict]], stop_after: int, saved: Optional[dict] = None) -> dict:
    """A first attempt that hands out `stop_after` records, each answered as listed, then is killed:
    its last checkpoint (taken right after that hand-out, as the CDK takes it)."""
    plan = plan_for(rules, saved)
    plan.new_read()
    total, handed = sum(len(p) for p in pages), 0
    fetches = iter(())
    for number, page in enumerate(pages, start=1):
        for listed in page:
            for fetch in plan.see(listed, number, listed["id"], moment_of(listed), total, len(pages)):
                plan.answered(fetch.record_id, listed)
                handed += 1
                if handed == stop_after:
                    return plan.state()
        if number == len(pages):
            plan.last_page_read()
    by_id = {listed["id"]: listed for page in pages for listed in page}
    for fetch in plan.finish():
        plan.answered(fetch.record_id, by_id[fetch.record_id])
        handed += 1
        if handed == stop_after:
            return plan.state()
    raise AssertionError("the attempt ended before it was killed")


def test_given_an_interrupted_attempt_and_no_change_since_then_the_resume_fetches_none_of_what_it_delivered():
    pages = [[item("a", 4), item("b", 3)], [item("c", 2), item("d", 1)]]
    checkpoint = interrupted(TRANSCRIPTS, pages, stop_after=3)

    reading = Reading(plan_for(TRANSCRIPTS, checkpoint), pages)

    assert reading.fetched == ["c", "d"], "c's own second was not passed: others of it might have come"


def test_given_a_record_delivered_processing_and_completed_before_the_resume_then_it_is_sent_again():
    """Issue #23: the resume must not take the list's word for what the killed attempt delivered."""
    pages = [[item("a", 4, "processing"), item("b", 3)], [item("c", 2), item("d", 1)]]
    checkpoint = interrupted(TRANSCRIPTS, pages, stop_after=3)
    pages[0][0] = item("a", 4, "completed")

    reading = Reading(plan_for(TRANSCRIPTS, checkpoint), pages)

    assert "a" in reading.fetched and "d" in reading.fetched
    after = Reading(plan_for(TRANSCRIPTS, reading.state(), cursor_hours=4), pages)
    assert after.fetched == [], "and remembered as sent: completed"


def test_given_a_report_retitled_between_attempts_then_the_resume_sends_it_again():
    pages = [[item("a", 1, template_name="Old"), item("b", 2)], [item("c", 3)]]
    checkpoint = interrupted(REPORTS, pages, stop_after=2)
    pages[0][0] = item("a", 1, template_name="New")

    reading = Reading(plan_for(REPORTS, checkpoint), pages)

    assert "a" in reading.fetched and "c" in reading.fetched


def test_given_an_unordered_list_served_in_another_order_at_the_resume_then_every_record_is_sent_once_at_least():
    """Issue #23: a list read whole is handed out in created_at order, whatever order the pages come in."""
    pages = [[item("c", 3), item("a", 1)], [item("d", 4), item("b", 2)]]
    checkpoint = interrupted(REPORTS, pages, stop_after=2)

    reading = Reading(plan_for(REPORTS, checkpoint), [[item("d", 4), item("b", 2)], [item("a", 1), item("c", 3)]])

    assert sorted(reading.fetched) == ["c", "d"], "a and b (oldest first) were delivered; c and d were not"


def test_given_a_state_of_0_3_0_interrupted_then_its_progress_without_a_digest_is_not_trusted():
    saved = {"progress": {"ranges": [[at(2), at(3)]]}}

    reading = Reading(plan_for(TRANSCRIPTS, saved), [[item("new", 4), item("a", 3), item("b", 2)], [item("c", 1)]])

    assert reading.fetched == ["new", "a", "b", "c"]


def test_given_a_pending_record_whose_id_hash_a_listed_record_shares_then_it_is_still_rechecked_and_its_completion_sent():
    """Issue #23: a collision costs at most a request (or pages), never a record."""
    collide = lambda record_id: b"\0\0\0\1" if record_id in ("x", "p") else id_hash(record_id)  # x and p share one
    pending = Table({b"\0\0\0\1": Sent(
        fingerprint(item("p", 1, "processing")))}, by_id=False, hasher=collide)
    saved = {"created_at": at(5), "pending": pending.encoded(by_id=False), "pending_low": [at(1), 0]}
    pages = [[item("x", 6), item("q", 4)], [item("r", 3), item("s", 2)], [item("p", 1, "completed")]]

    reading = Reading(plan_for(TRANSCRIPTS, saved, cursor_hours=5, hasher=collide), pages)

    assert reading.fetched == ["x", "p"], "x is new; p is reached and its completion sent"
    assert reading.pages_read == 3


def test_given_a_phase_out_of_order_then_the_plan_says_so():
    plan = plan_for(REPORTS)
    with pytest.raises(PlanOutOfOrder):
        plan.close()
    list(plan.finish())
    with pytest.raises(PlanOutOfOrder):
        plan.see(item("a", 1), 1, "a", moment(1))


def test_given_a_0_1_0_state_then_its_cursor_and_handed_out_fingerprints_still_work():
    handed_out = base64.b64encode(handed_out_fingerprint(item("a", 3), "created_at", "status")).decode()
    reading = Reading(plan_for(TRANSCRIPTS, {"created_at": at(1), "handed_out_this_sync": handed_out}, cursor_hours=1),
                      [[item("a", 3), item("b", 2), item("c", 0)]])

    assert reading.fetched == ["b"]
    assert "handed_out_this_sync" not in reading.state()


def test_given_a_checkpoint_while_the_list_is_read_then_the_saved_state_is_written_back_as_it_was():
    """A checkpoint must let a resumed attempt decide as this one did: the saved tables, unchanged."""
    first = Reading(plan_for(REPORTS), [[item("a", 2), item("p", 1, "processing")]])
    plan = plan_for(REPORTS, first.state(), cursor_hours=2)
    plan.new_read()
    list(plan.see(item("x", 3), 1, "x", moment(3), 3, 1))

    checkpoint = plan.state()
    assert {k: v for k, v in checkpoint.items() if k != "progress"} == first.state()


# ------------------------------------------------------------------ the state budget


def test_given_small_records_then_a_checkpoint_waits_until_they_outweigh_it_twenty_times_over():
    """All state messages within 5% of the record bytes, each counted as the line it is: a checkpoint of
    about 450 bytes (its digest included) needs 9 kB of RECORD lines, 25 of these (278 bytes of data
    and 90 around it)."""
    plan = plan_for(REPORTS)
    plan.new_read()
    answer = lambda numbers: [plan.answered(f"r{n}", item(f"r{n}", 1, text="x" * 200)) for n in numbers]
    answer(range(24))
    assert not plan.checkpoint_is_due()

    answer([24])
    assert plan.checkpoint_is_due()
    plan.checkpointed()
    assert not plan.checkpoint_is_due(), "the budget is spent until more records are sent"
    answer(range(25, 50))
    assert plan.checkpoint_is_due()


def test_given_two_streams_of_one_read_then_the_small_records_of_one_checkpoint_on_what_the_other_earned():
    budget = StateBudget()
    transcripts = FetchPlan(TRANSCRIPTS, ListState(), None, inclusive=False, now=NOW, budget=budget)
    reports = FetchPlan(REPORTS, ListState(), None, inclusive=False, now=NOW, budget=budget)
    for number in range(40):
        transcripts.answered(f"t{number}", item(f"t{number}", 1, text="x" * 200))

    assert reports.checkpoint_is_due()


# ------------------------------------------------------------------ column selection


def test_given_a_stream_read_from_its_list_pages_then_each_fetch_carries_its_list_item():
    rules = ListRules(cursor_field="created_at", status_field="status", list_only=True)
    plan = plan_for(rules)
    plan.new_read()

    assert list(plan.see(item("a", 1), 1, "a", moment(1), 1, 1)) == [], "a list read whole hands out once it is read"
    plan.last_page_read()

    assert list(plan.finish()) == [Fetch("a", listed=item("a", 1))]


def test_given_a_stream_read_from_its_list_pages_until_now_and_details_wanted_now_then_every_record_is_sent_again():
    list_only = ListRules(cursor_field="created_at", status_field="status", newest_first=True, list_only=True)
    first = Reading(plan_for(list_only), [[item("a", 2), item("b", 1)]])
    assert first.state()["list_only"] is True

    second = Reading(plan_for(TRANSCRIPTS, first.state(), cursor_hours=2), [[item("a", 2), item("b", 1)]])

    assert TRANSCRIPTS.reads_all_again(list_only_until_now=True)
    assert second.fetched == ["a", "b"] and "list_only" not in second.state()


def test_fingerprints_leave_out_what_the_connector_adds_to_an_item():
    assert fingerprint({"id": "a", "_meetlog_list_page": 1}) == fingerprint({"id": "a", "_meetlog_list_page": 2})
    assert fingerprint({"id": "a", "title": None}) != fingerprint({"id": "a"}), "null is a value: absent is not null"


def test_given_reconcile_deletions_turned_on_then_the_first_sync_takes_the_list_as_sent_and_fetches_nothing_more():
    """Before, only page 1 and the pending transcripts were remembered (by hash): the others are not news."""
    pages = newest_first_pages(pending_at=set(), count=250)
    first = Reading(plan_for(TRANSCRIPTS), pages)
    reconciling = ListRules(cursor_field="created_at", status_field="status", newest_first=True, reconcile_deletions=True)

    second = Reading(plan_for(reconciling, first.state(), cursor_hours=0), pages)

    assert (second.pages_read, second.fetched, second.plan.deleted()) == (3, [], [])
    assert Table.decoded(second.state()["sent"]).by_id and len(sent_ids(second.state(), ids="")) == 0
    assert len(Table.decoded(second.state()["sent"]).entries) == 250, "from now on, every id is remembered"


# ------------------------------------------------------------------ start_date changed


def test_given_start_date_moved_back_then_the_records_it_now_covers_are_fetched_though_the_cursor_is_past_them():
    """Found by the model test (issue #23): the cursor alone would never reach back for them."""
    narrow = ListRules(cursor_field="created_at", status_field="status", newest_first=True, start_date=at(2))
    pages = [[item("a", 4), item("b", 3)], [item("c", 1.5), item("d", 0.5)]]
    first = Reading(plan_for(narrow), pages)
    assert first.fetched == ["a", "b"]

    wide = ListRules(cursor_field="created_at", status_field="status", newest_first=True, start_date=at(1))
    second = Reading(plan_for(wide, first.state(), cursor_hours=4), pages)

    assert second.fetched == ["c"], "c is covered now; d is still before start_date"


def test_given_reconcile_deletions_and_start_date_changed_then_markers_still_name_only_the_records_gone():
    rules = ListRules(cursor_field="created_at", status_field="status", reconcile_deletions=True, start_date=at(0))
    first = Reading(plan_for(rules), [[item("a", 3), item("b", 2), item("gone", 1)]])
    narrower = ListRules(cursor_field="created_at", status_field="status", reconcile_deletions=True, start_date=at(2.5))

    second = Reading(plan_for(narrower, first.state(), cursor_hours=3), [[item("a", 3), item("b", 2)]])

    assert second.plan.deleted() == ["gone"], "b is listed, before start_date now: its row stays, no marker"


def test_given_reconcile_deletions_and_a_record_start_date_leaves_out_then_it_stays_named_and_gets_its_marker_once_gone():
    """Its row, synced under the earlier start_date, stays; if the record goes later, so must the row."""
    rules = ListRules(cursor_field="created_at", status_field="status", reconcile_deletions=True, start_date=at(0))
    first = Reading(plan_for(rules), [[item("a", 3), item("b", 2)]])
    narrower = ListRules(cursor_field="created_at", status_field="status", reconcile_deletions=True, start_date=at(2.5))
    second = Reading(plan_for(narrower, first.state(), cursor_hours=3), [[item("a", 3), item("b", 2), item("c", 1)]])
    assert second.plan.deleted() == [] and sent_ids(second.state()) == ["a", "b", "c"]

    third = Reading(plan_for(narrower, second.state(), cursor_hours=3), [[item("a", 3), item("c", 1)]])

    assert third.plan.deleted() == ["b"] and sent_ids(third.state()) == ["a", "c"]
