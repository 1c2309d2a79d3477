"""projects, incremental: the cursor is updated_at (a project changes in place), the whole list is
read on every sync, and a project gets a detail request only if it was updated after the list
cursor. Projects have no status, so nothing holds the cursor. The shared cases are in
incremental_suite.py."""

from unittest import TestCase


from .incremental_suite import MeetlogIncrementalSuite, at


class TestProjectsIncremental(MeetlogIncrementalSuite, TestCase):
    STREAM = "projects"
    CURSOR_FIELD = "updated_at"
    STATUS_FIELD = None

    def test_given_projects_in_any_order_when_read_then_every_page_read_and_only_updated_ones_fetched(self) -> None:
        """State T. Page 1 of 2: c updated T−1h, a created T−30d but updated T+2h; page 2: d T−2h, b T+1h.
        Both pages are read; `updated_at > T` holds for a and b only, so a — created long before T — is
        fetched because it changed. The cursor advances to the newest update, a's T+2h."""
        c, a = self.listed("c", at(-1)), self.listed("a", at(2), created_at=at(-30 * 24))
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
        self.assertEqual(self.records(output)["a"]["updated_at"], at(2))
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.stream_cursor(state)), (at(2), at(2)))
        self.assertNotIn("created_at", state["state"])

    def test_given_first_page_only_older_than_state_when_read_then_every_page_read_and_only_updated_fetched(
        self,
    ) -> None:
        """State T. Page 1 of 2: c updated T−1h, d T−2h — newest first, as it happens, and wholly before T;
        page 2: a T+2h. List projects promises no order (a project moves when it is updated), so page 1 says
        nothing about page 2: page 2 is read and a is fetched. Stopping after page 1 would skip a on this
        sync and on every later one whose page 1 looks the same."""
        c, d, a = self.listed("c", at(-1)), self.listed("d", at(-2)), self.listed("a", at(2))

        output = self.read(
            [
                (self.list_request(page=1), self.list_page([c, d], page=1, total_pages=2, total=3)),
                (self.list_request(page=2), self.list_page([a], page=2, total_pages=2, total=3)),
                *self.details([a]),
            ],
            self.state(at(0)),
        )

        self.assertEqual(self.ids(output), ["a"])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(2))

    def test_given_start_date_when_read_then_project_created_before_it_not_synced_even_if_updated_after(self) -> None:
        """start_date T, no state. The plan (FetchPlan.see) compares created_at (start_date is documented as
        "records created before this moment are not synced"): o, created T−5d and updated T+2h, is dropped;
        n, created T+1h, is fetched."""
        self.config["start_date"] = at(0)
        o = self.listed("o", at(2), created_at=at(-5 * 24))
        n = self.listed("n", at(1))

        output = self.read([self.one_page([o, n]), *self.details([n])])

        self.assertEqual(self.ids(output), ["n"])
