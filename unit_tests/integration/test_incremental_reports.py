"""reports, incremental: List reports promises no order, so the whole list is read on every sync
and a detail is requested only for reports created after the list cursor. The shared cases are in
incremental_suite.py."""

from unittest import TestCase


from .incremental_suite import MeetlogNotFinalRecordSuite, at




class TestReportsIncremental(MeetlogNotFinalRecordSuite, TestCase):
    STREAM = "reports"
    CURSOR_FIELD = "created_at"
    STATUS_FIELD = "status"
    FINAL_FIELD, FINAL_VALUE = "content", "## Итоги\n- готово ✅"

    def test_given_first_page_only_older_than_state_when_read_then_every_page_read_and_only_newer_fetched(self) -> None:
        """State T. Page 1 of 3: c T−1h, d T−2h (newest first, as it happens); page 2: a T+2h, e T−3h; page 3:
        b T+1h. With no order promised, an old first page says nothing about the rest: pages 2 and 3 are read
        (meta: 1 >= 3 and 2 >= 3 are false, 3 >= 3 is true). a and b get details; the cursor advances to a,
        T+2h, although b came last. Stopping after page 1 would skip a and b on this sync and on every later
        one whose page 1 looks the same."""
        c, d, a, e, b = (
            self.listed(name, at(hours)) for name, hours in (("c", -1), ("d", -2), ("a", 2), ("e", -3), ("b", 1))
        )

        output = self.read(
            [
                (self.list_request(page=1), self.list_page([c, d], page=1, total_pages=3, total=5)),
                (self.list_request(page=2), self.list_page([a, e], page=2, total_pages=3, total=5)),
                (self.list_request(page=3), self.list_page([b], page=3, total_pages=3, total=5)),
                *self.details([a, b]),
            ],
            self.state(at(0)),
        )

        self.assertEqual(self.ids(output), ["a", "b"])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(2))

    def test_given_no_report_newer_than_state_when_read_then_every_page_read_and_no_detail_requested(self) -> None:
        """State T, two pages of reports all before T: both pages are read, no detail is requested, and
        the cursor stays at T."""
        c, d = self.listed("c", at(-1)), self.listed("d", at(-2))

        output = self.read(
            [
                (self.list_request(page=1), self.list_page([c], page=1, total_pages=2, total=2)),
                (self.list_request(page=2), self.list_page([d], page=2, total_pages=2, total=2)),
            ],
            self.state(at(0)),
        )

        self.assertEqual(self.ids(output), [])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(0))
