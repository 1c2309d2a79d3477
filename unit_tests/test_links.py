"""core/links.py and FetchPlan.relinks: a transcript's report_ids kept current, in the sync that sees the
reports change, at one request per transcript whose reports changed."""

from datetime import datetime, timedelta
from typing import Dict, List, Optional

from source_meetlog.core.fetch_plan import FetchPlan, ListRules
from source_meetlog.core.links import ReportSets
from source_meetlog.core.list_state import ListState

TRANSCRIPTS = ListRules(cursor_field="created_at", status_field="status", newest_first=True, remembered_detail="report_ids",
                        reconcile_deletions=True, detail_fields=frozenset({"report_ids", "text"}))
NOW = datetime(2026, 5, 10, 12)


def at(hours: float) -> datetime:
    return datetime(2026, 5, 10) + timedelta(hours=hours)


def stamp(hours: float) -> str:
    return at(hours).strftime("%Y-%m-%dT%H:%M:%SZ")


def transcript(record_id: str, hours: float, report_ids: List[str]) -> dict:
    return {"id": record_id, "created_at": stamp(hours), "status": "completed", "report_ids": report_ids}


def listed(detail: dict) -> dict:
    return {k: v for k, v in detail.items() if k != "report_ids"}


def reports(by_transcript: Dict[str, List[str]], hours: float = 1, complete: bool = True,
            made: Optional[Dict[str, float]] = None) -> ReportSets:
    """`hours`: when each report was made, unless `made` names its own hour."""
    sets = ReportSets()
    for transcript_id, report_ids in by_transcript.items():
        for report_id in report_ids:
            sets.add(report_id, transcript_id, at((made or {}).get(report_id, hours)))
    sets.complete = complete
    return sets


def sync(saved: dict, transcripts: List[dict], report_sets: ReportSets, cursor_hours=None, rules=TRANSCRIPTS,
         older: List[dict] = ()):
    """One sync of the transcripts stream: its list (answered with the details given), then the relinks.
    `older`: transcripts the pages read do not reach."""
    plan = FetchPlan(rules, ListState.read(saved, "created_at"), at(cursor_hours) if cursor_hours is not None else None,
                     inclusive=False, now=NOW)
    plan.new_read()
    plan.links_from(report_sets)  # as the router does: the reports list first
    details = {t["id"]: t for t in (*transcripts, *older)}
    fetched = []
    for position, detail in enumerate(transcripts):
        for fetch in plan.see(listed(detail), 1, detail["id"], datetime.strptime(detail["created_at"], "%Y-%m-%dT%H:%M:%SZ"),
                              len(transcripts), 1):
            fetched.append(fetch.record_id)
            plan.answered(fetch.record_id, detail)
    plan.last_page_read()
    for fetch in plan.finish():
        fetched.append(fetch.record_id)
        plan.answered(fetch.record_id, details[fetch.record_id])
    relinked = [f.record_id for f in plan.relinks(report_sets)]
    for record_id in relinked:
        plan.answered(record_id, details[record_id])
    plan.close()
    return fetched, relinked, plan.state()


def test_given_a_report_made_for_a_transcript_sent_before_then_that_transcript_is_sent_again_with_it():
    first_fetched, _, state = sync({}, [transcript("t1", 1, ["r1"]), transcript("t2", 0, [])],
                                   reports({"t1": ["r1"]}, hours=1))
    assert first_fetched == ["t1", "t2"]

    fetched, relinked, _ = sync(state, [transcript("t1", 1, ["r1"]), transcript("t2", 0, ["r2"])],
                                reports({"t1": ["r1"], "t2": ["r2"]}, hours=2, made={"r1": 1}), cursor_hours=1)

    assert (fetched, relinked) == ([], ["t2"])


def test_given_a_report_deleted_from_a_transcript_sent_before_then_that_transcript_is_sent_again_without_it():
    _, _, state = sync({}, [transcript("t1", 1, ["r1", "r2"])], reports({"t1": ["r1", "r2"]}))

    _, relinked, _ = sync(state, [transcript("t1", 1, ["r2"])], reports({"t1": ["r2"]}), cursor_hours=1)

    assert relinked == ["t1"]


def test_given_the_last_report_of_a_transcript_deleted_then_that_transcript_is_sent_again():
    _, _, state = sync({}, [transcript("t1", 1, ["r1"])], reports({"t1": ["r1"]}))

    _, relinked, _ = sync(state, [transcript("t1", 1, [])], reports({}), cursor_hours=1)

    assert relinked == ["t1"]


def test_given_no_report_changed_then_no_transcript_is_sent_again():
    _, _, state = sync({}, [transcript("t1", 1, ["r1"]), transcript("t2", 0, [])], reports({"t1": ["r1"]}))

    fetched, relinked, _ = sync(state, [transcript("t1", 1, ["r1"]), transcript("t2", 0, [])],
                                reports({"t1": ["r1"]}), cursor_hours=1)

    assert (fetched, relinked) == ([], [])


def test_given_a_reports_list_not_read_whole_then_a_report_it_misses_costs_a_request_never_a_stale_row():
    """r2 is missing from a list that shifted while paged: deleted, or moved past a page boundary. The
    transcript's report_ids are not compared with such a list, but the links' digest is (a move it shows
    must not be taken in unseen, found by the model's long run): t1's bucket differs, t1 is fetched."""
    _, _, state = sync({}, [transcript("t1", 1, ["r1", "r2"])], reports({"t1": ["r1", "r2"]}))

    _, relinked, _ = sync(state, [transcript("t1", 1, ["r1", "r2"])], reports({"t1": ["r1"]}, complete=False),
                          cursor_hours=1)

    assert relinked == ["t1"]


def test_given_a_transcript_not_remembered_then_a_report_made_since_the_last_sync_relinks_it():
    """Without reconcile_deletions only the newest page and the pending transcripts are remembered: an older
    one is relinked when a report newer than the last sync's newest report names it."""
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, remembered_detail="report_ids")
    _, _, state = sync({}, [transcript("t1", 1, ["r1"])], reports({"t1": ["r1"]}, hours=1), rules=rules)
    state = {k: v for k, v in state.items() if k != "sent"}  # as if t1 had slipped off the newest page

    _, relinked, _ = sync(state, [], reports({"t1": ["r1", "r2"]}, hours=3), cursor_hours=1, rules=rules,
                          older=[transcript("t1", 1, ["r1", "r2"])])

    assert relinked == ["t1"]


def test_given_a_relinked_transcript_created_before_start_date_then_it_is_fetched_but_not_sent():
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, remembered_detail="report_ids",
                      start_date=stamp(5))
    plan = FetchPlan(rules, ListState.read({}, "created_at"), None, inclusive=False, now=NOW)

    assert plan.answered("old", transcript("old", 1, ["r9"])) is False


def test_report_sets_say_each_transcripts_reports_and_the_newest_of_them():
    sets = ReportSets()
    sets.add("r1", "t1", at(1))
    sets.add("r2", "t1", at(3))

    assert sets.by_transcript == {"t1": ["r1", "r2"]} and sets.newest_of("t1") == at(3) == sets.newest


def test_given_a_0_2_0_state_whose_report_ids_were_not_remembered_then_nothing_is_relinked_by_a_guess():
    """0.2.0 kept no fingerprint of report_ids: the first 0.3.0 sync relinks only by the reports made since."""
    saved = {"created_at": stamp(1), "pending": {"t1": "f00d0000f00d0000"}, "reports_until": stamp(1)}

    _, relinked, state = sync(saved, [dict(transcript("t1", 1, ["r1"]), status="processing")],
                              reports({"t1": ["r1"]}, hours=1), cursor_hours=1)

    assert relinked == []
    assert sync(state, [dict(transcript("t1", 1, ["r1"]), status="processing")], reports({"t1": ["r1", "r2"]}, hours=2),
                cursor_hours=1)[1] == ["t1"], "from then on, changes are seen"


def test_given_a_report_moved_to_a_transcript_the_state_does_not_remember_then_that_transcript_is_sent_again():
    """Found by the model test (issue #23): t9 is below the newest page (its report_ids not remembered),
    and r1, made before the last sync, moves to it: the links' digest differs in t9's bucket."""
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, remembered_detail="report_ids",
                      detail_fields=frozenset({"report_ids", "text"}))  # reconcile_deletions off: t9 is not remembered
    older = [transcript(f"t{n}", -n, []) for n in range(1, 10)]
    _, _, state = sync({}, [transcript("t0", 1, ["r1"])], reports({"t0": ["r1"]}, hours=0.5), rules=rules, older=older)

    _, relinked, _ = sync(state, [transcript("t0", 1, [])], reports({"t9": ["r1"]}, hours=0.5), cursor_hours=1,
                          rules=rules, older=older)

    assert "t9" in relinked and "t0" in relinked


def paged_sync(saved: dict, pages: List[List[dict]], report_sets: ReportSets, rules: ListRules, cursor_hours=None,
               older: List[dict] = ()):
    """One sync over several list pages (the newest page alone is remembered without reconcile_deletions),
    each fetch answered with the detail given, then the relinks; returns (relinked, state).
    `older`: transcripts the pages read do not reach."""
    plan = FetchPlan(rules, ListState.read(saved, "created_at"), at(cursor_hours) if cursor_hours is not None else None,
                     inclusive=False, now=NOW)
    plan.new_read()
    plan.links_from(report_sets)  # as the router does: the reports list first
    details = {t["id"]: t for page in pages for t in page}
    total = len(details)
    details.update((t["id"], t) for t in older)
    for number, page in enumerate(pages, start=1):
        for detail in page:
            for fetch in plan.see(listed(detail), number, detail["id"],
                                  datetime.strptime(detail["created_at"], "%Y-%m-%dT%H:%M:%SZ"), total, len(pages)):
                plan.answered(fetch.record_id, details[fetch.record_id])
    plan.last_page_read()
    for fetch in plan.finish():
        plan.answered(fetch.record_id, details[fetch.record_id])
    relinked = [f.record_id for f in plan.relinks(report_sets)]
    for record_id in relinked:
        plan.answered(record_id, details[record_id])
    plan.close()
    return relinked, plan.state()


def test_given_a_report_moved_between_a_transcripts_detail_and_the_reports_list_then_the_next_sync_sends_it_again():
    """Found by the model's long run (issue #23): t9, on the second page (not remembered), was answered
    with [r1]; r2 moved onto it before the reports list was read, which shows [r1, r2]. The links' digest
    the state keeps marks t9's bucket as differing, so the next sync sends t9 again, though the list is
    unchanged since and its pages do not reach t9."""
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, remembered_detail="report_ids",
                      detail_fields=frozenset({"report_ids", "text"}))
    moved_in_between = reports({"t9": ["r1", "r2"]}, hours=0.5)
    _, state = paged_sync({}, [[transcript("t0", 1, [])], [transcript("t9", 0.9, ["r1"])]], moved_in_between, rules)

    now = [[transcript("t0", 1, [])], [transcript("t9", 0.9, ["r1", "r2"])]]
    relinked, _ = paged_sync(state, now[:1], moved_in_between, rules, cursor_hours=1, older=now[1])

    assert relinked == ["t9"]


def test_given_a_reports_list_that_shifted_while_paged_on_the_first_sync_then_a_report_added_meanwhile_is_caught_next_sync():
    """Found by the model's long run (issue #23): a report added to t9 (second page, not remembered) after
    t9's detail was answered, while the reports list was paged, so that list is not complete. Its links
    and newest report are kept all the same: a report it missed is newer than that, one it showed makes
    the digest differ from what t9 was sent with."""
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, remembered_detail="report_ids",
                      detail_fields=frozenset({"report_ids", "text"}))
    shifted = reports({"t9": ["r_new"]}, hours=0.5, complete=False)
    _, state = paged_sync({}, [[transcript("t0", 1, [])], [transcript("t9", 0.9, [])]], shifted, rules)

    now = [[transcript("t0", 1, [])], [transcript("t9", 0.9, ["r_new"])]]
    relinked, _ = paged_sync(state, now[:1], reports({"t9": ["r_new"]}, hours=0.5), rules, cursor_hours=1, older=now[1])

    assert relinked == ["t9"]
