"""transcripts, incremental: List transcripts is documented newest first, so paging stops at the
first page that ends before the list cursor. The shared cases are in incremental_suite.py.

The list's paginator is the stock CursorPagination (no next page when `meta.page >=
meta.total_pages`); the fetch plan stops the list sooner (FetchPlan.wants_next_page in
core/fetch_plan.py, asked by the router after each page, before the next is requested): no next page
when every record so far was newest first (page seams included), the page's last record is not
after the list partition's start_time (FetchPlan._may_be_new), and no pending transcript is left
below that the plan would rather read down to than re-check by detail. It sees every item of the
page, those created before start_date included, which it leaves out.
"""

from unittest import TestCase


from .incremental_suite import MeetlogNotFinalRecordSuite, at


class TestTranscriptsIncremental(MeetlogNotFinalRecordSuite, TestCase):
    STREAM = "transcripts"
    CURSOR_FIELD = "created_at"
    STATUS_FIELD = "status"
    FINAL_FIELD, FINAL_VALUE = "text", "Итоговый текст встречи ✅"

    def test_given_first_page_newer_then_older_than_state_when_read_then_no_page_2_and_only_newer_fetched(self) -> None:
        """State T. Page 1 of 3: a T+2h, b T+1h, c T−1h, d T−2h, newest first, and its last record d is
        before T: paging stops, no page 2 (not mocked), although meta's 1 >= 3 is false. a and b are fetched;
        the cursor advances to a, T+2h."""
        a, b, c, d = (self.listed(name, at(hours)) for name, hours in (("a", 2), ("b", 1), ("c", -1), ("d", -2)))

        output = self.read(
            [(self.list_request(), self.list_page([a, b, c, d], total_pages=3, total=204)), *self.details([a, b])],
            self.state(at(0)),
        )

        self.assertEqual(self.ids(output), ["a", "b"])
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.stream_cursor(state)), (at(2), at(2)))

    def test_given_first_page_only_older_than_state_when_read_then_one_list_request_and_nothing_else(self) -> None:
        """State T. Page 1 of 2: c T−1h, d T−2h. Paging stops after page 1 (in order, d < T); no record is
        after T, so there is no detail request and no record, and the cursor stays at T."""
        c, d = self.listed("c", at(-1)), self.listed("d", at(-2))

        output = self.read([(self.list_request(), self.list_page([c, d], total_pages=2, total=102))], self.state(at(0)))

        self.assertEqual(self.ids(output), [])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(0))

    def test_given_first_page_all_newer_than_state_when_read_then_page_2_read_and_paging_stops_there(self) -> None:
        """State T. Page 1 of 3: a T+2h, b T+1h — its last record is after T, so page 2 is requested. Page 2
        of 3: c T+30min, d T−1h — d is before T, so there is no page 3. a, b and c are fetched."""
        a, b = self.listed("a", at(2)), self.listed("b", at(1))
        c, d = self.listed("c", at(0.5)), self.listed("d", at(-1))

        output = self.read(
            [
                (self.list_request(page=1), self.list_page([a, b], page=1, total_pages=3, total=6)),
                (self.list_request(page=2), self.list_page([c, d], page=2, total_pages=3, total=6)),
                *self.details([a, b, c]),
            ],
            self.state(at(0)),
        )

        self.assertEqual(self.ids(output), ["a", "b", "c"])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(2))

    def test_given_page_out_of_newest_first_order_when_read_then_every_page_read(self) -> None:
        """State T. Page 1 of 2: c T−1h, a T+2h — not newest first, despite the documentation, so the order
        cannot be trusted and the list is read to its end: page 2 (d T−2h, b T+1h) is read although page 1
        ends before T. a and b are fetched."""
        c, a = self.listed("c", at(-1)), self.listed("a", at(2))
        d, b = self.listed("d", at(-2)), self.listed("b", at(1))

        output = self.read(
            [
                (self.list_request(page=1), self.list_page([c, a], page=1, total_pages=2, total=4)),
                (self.list_request(page=2), self.list_page([d, b], page=2, total_pages=2, total=4)),
                *self.details([a, b]),
            ],
            self.state(at(0)),
        )

        self.assertEqual(self.ids(output), ["a", "b"])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(2))

    def test_given_start_date_and_first_page_ending_before_it_when_read_then_no_page_2(self) -> None:
        """start_date T, no state: the list partition starts at T. Page 1 of 3: a T+1h, c T−1h, in order, and
        c < T: the newest-first list has nothing more to give, so page 2 is not requested (not mocked). The
        plan reads c to stop there, and leaves c out as created before start_date. Only a is fetched."""
        self.config["start_date"] = at(0)
        a, c = self.listed("a", at(1)), self.listed("c", at(-1))

        output = self.read(
            [(self.list_request(), self.list_page([a, c], total_pages=3, total=204)), *self.details([a])]
        )

        self.assertEqual(self.ids(output), ["a"])

    # ------------------------------------------------------------------ the other cursor formats the manifest accepts

    def test_given_processing_transcript_with_fractional_seconds_when_read_then_pending_and_cursor_at_the_newest(self) -> None:
        """State T. Listed: a T+3h completed, p T+1h+0.25 s processing ('%Y-%m-%dT%H:%M:%S.%fZ', one of the
        manifest's cursor_formats). Both are fetched, p is pending, and the list cursor is at a, T+3h.
        manifest: `read: - "%Y-%m-%dT%H:%M:%SZ" - "%Y-%m-%dT%H:%M:%S.%fZ"`
        """
        a = self.listed("a", at(3))
        p = self.listed("p", at(1).replace("Z", ".250Z"), status="processing")

        output = self.read([self.one_page([a, p]), *self.details([a, p])], self.state(at(0)))

        self.assertEqual(self.ids(output), ["a", "p"])
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.pending(state)), (at(3), ["p"]))

    # ------------------------------------------------------------------ pending transcripts the list no longer reaches

    def pending_p_behind_newer_pages(self):
        """Read 1: page 1 of 2 a T+3h, b T+2h; page 2 p T+1h processing; all fetched, the cursor at a, p pending.
        Returns (page 1 as read 2 sees it, p, the state after read 1). Read 2's page 1 ends with b, before
        the cursor: paging stops there, and p's page is not read."""
        a, b, p = self.listed("a", at(3)), self.listed("b", at(2)), self.listed("p", at(1), status="processing")
        page_1 = (self.list_request(page=1), self.list_page([a, b], page=1, total_pages=2, total=3))
        first = self.read(
            [page_1, (self.list_request(page=2), self.list_page([p], page=2, total_pages=2, total=3)),
             *self.details([a, b, p])],
            self.state(at(0)),
        )
        return page_1, p, self.last_state(first)

    def test_given_a_pending_transcript_older_than_the_pages_read_when_unchanged_then_one_request_and_nothing_emitted(self) -> None:
        """Read 2: p costs its one detail request, answers as before (the same fingerprint), and is not emitted."""
        page_1, p, state = self.pending_p_behind_newer_pages()

        second = self.read(
            [page_1, *self.details([p])],
            self.as_state_messages(state),
        )

        self.assertEqual(self.ids(second), [])
        self.assertEqual(self.pending(self.last_state(second)), ["p"])

    def test_given_a_pending_transcript_older_than_the_pages_read_when_it_completes_then_emitted_final(self) -> None:
        """As above, but p's detail now answers completed with its text: it is emitted and leaves `pending`."""
        page_1, p, state = self.pending_p_behind_newer_pages()
        final = self.detail_of(dict(p, status="completed"), text=self.FINAL_VALUE)

        second = self.read(
            [page_1, (self.detail_request("p"), final.build())],
            self.as_state_messages(state),
        )

        self.assertEqual(self.records(second)["p"], final.record)
        self.assertEqual(self.pending(self.last_state(second)), [])

    def test_given_a_pending_transcript_older_than_the_pages_read_when_its_detail_is_404_then_forgotten(self) -> None:
        """p was deleted: its re-check answers 404, which the detail requester ignores (deleted_since_listed),
        so nothing is emitted and p leaves `pending`: it costs no request from the next sync on."""
        from .response_builder import not_found_response

        page_1, p, state = self.pending_p_behind_newer_pages()

        second = self.read(
            [page_1, (self.detail_request("p"), not_found_response())],
            self.as_state_messages(state),
        )

        self.assertEqual(self.ids(second), [])
        self.assertEqual(self.pending(self.last_state(second)), [])

    def test_given_transcript_half_a_second_after_state_when_read_then_fetched(self) -> None:
        """State T. Listed: b at T+0.5 s ('…T00:00:00.500Z'), which is after T, so b is fetched and emitted."""
        b = self.listed("b", at(0).replace("Z", ".500Z"))

        output = self.read([self.one_page([b]), *self.details([b])], self.state(at(0)))

        self.assertEqual(self.ids(output), ["b"])
