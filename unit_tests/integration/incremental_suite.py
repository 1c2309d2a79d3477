"""The incremental behaviour every Meetlog stream shares, run once per stream.

A saved state decides which listed records get a detail request (each costs one of the 60
requests a minute a key allows), and the state a read leaves decides what the next read asks
for. Each test_incremental_<stream>.py runs these cases with its stream's names and adds what
is its own (the transcripts list is newest first; the reports and projects lists promise no order).

The state a stream writes (global substream cursor, the list as its incremental parent):

    {"use_global_cursor": true, "state": {"created_at": T}, "lookback_window": <seconds the read took>,
     "parent_state": {"transcripts_list": {"created_at": T, "sent": "h8:…", "pending": "h8:…"}}}

The list's cursor (`parent_state`) is the one the next read resumes from; `state` is the newest
detail emitted; `sent` and `pending` hold what was sent of the records the next read sees, and
`pending` names those not final when sent (core/list_state.py).

Manifest and component conditions the docstrings below work through (manifest quotes are marked
as integration_tests/test_manifest_quotes.py says, and checked there):
- the cursor's lookback window: the list partition starts at the list cursor less that many days;
  manifest: `lookback_window: "P{{ config.get('lookback_window_days') or 0 }}D"`
- FetchPlan._may_be_new (core/fetch_plan.py): a listed record gets a detail request when
  `cursor_value > start_time` of the list partition (`>=` when start_time is start_date itself),
  or when its list fields differ from what was sent;
- FetchPlan: the list cursor moves to the newest record listed (at most to the second before the
  list was read), past pending records, which `pending` keeps until they are final or gone;
- FetchPlan.see leaves out a record created before start_date.

Times are hours from T, midnight UTC two days ago.
"""

import json
import string
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, AirbyteStreamStatus, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from airbyte_cdk.test.models import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder

from source_meetlog import SourceMeetlog
from source_meetlog.core.list_state import Table

from .config import ConfigBuilder
from .request_builder import detail_request, list_request
from .response_builder import JSON_HEADERS, DetailResponseBuilder, list_item, server_error_response, template
from .virtual_clock import install_virtual_clock

MAX_RETRIES = 5  # MeetlogBackoffStrategy.max_retries: a request is sent 1 + 5 times before the stream fails
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_T = (datetime.now(timezone.utc) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)

# What a read is given: each request with its response, or its responses in order. Every request
# must be sent exactly that many times, and a request not listed fails the read.
Mocks = Sequence[Tuple[HttpRequest, Union[HttpResponse, List[HttpResponse]]]]


def at(hours: float = 0, seconds: int = 0) -> str:
    """T + hours (+ seconds), as the API writes a date-time.

    at(1) -> '…T01:00:00Z';  at(0, seconds=-1) -> '…T23:59:59Z' of the day before T."""
    return (_T + timedelta(hours=hours, seconds=seconds)).strftime(_DATETIME_FORMAT)


class MeetlogIncrementalSuite:
    """Mixed into a unittest.TestCase per stream; the class attributes name the stream."""

    STREAM: str
    CURSOR_FIELD: str  # created_at, or updated_at for projects
    STATUS_FIELD: Optional[str]  # None for projects: a project has no status, so it is always final

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.clock = install_virtual_clock(self)  # type: ignore[arg-type]
        self.config = ConfigBuilder().build()
        self.api_key = self.config["api_key"]

    # ------------------------------------------------------------------ requests and responses

    @property
    def list_stream(self) -> str:
        return f"{self.STREAM}_list"

    def list_request(self, page: int = 1) -> HttpRequest:
        return list_request(self.STREAM, self.api_key, page)

    def detail_request(self, record_id: str) -> HttpRequest:
        return detail_request(self.STREAM, self.api_key, record_id)

    def listed(
        self, record_id: str, cursor_value: str, status: str = "completed", created_at: Optional[str] = None
    ) -> Dict[str, Any]:
        """One list item. A project is created when it is last updated unless `created_at` says otherwise."""
        item = list_item(self.STREAM, record_id).with_field(FieldPath(self.CURSOR_FIELD), cursor_value)
        if self.STATUS_FIELD:
            item = item.with_field(FieldPath(self.STATUS_FIELD), status)
        if self.CURSOR_FIELD != "created_at":
            item = item.with_field(FieldPath("created_at"), created_at or cursor_value)
        return item.build()

    def list_page(
        self, items: Sequence[Dict[str, Any]], page: int = 1, total_pages: int = 1, total: Optional[int] = None
    ) -> HttpResponse:
        """A list page holding `items` as they are (ListResponseBuilder takes RecordBuilders, these are dicts)."""
        body = template(f"{self.STREAM}_list")
        body["items"] = list(items)
        body["meta"].update(page=page, total_pages=total_pages, total=len(items) if total is None else total)
        return HttpResponse(body=json.dumps(body, ensure_ascii=False).encode("utf-8"), headers=JSON_HEADERS)

    def one_page(self, items: Sequence[Dict[str, Any]]) -> Tuple[HttpRequest, HttpResponse]:
        """The whole list, on page 1 of 1."""
        return self.list_request(), self.list_page(items)

    def detail_of(self, item: Dict[str, Any], **fields: Any) -> DetailResponseBuilder:
        """Get <stream> for a listed item: its id, cursor, created_at and status, plus `fields`."""
        detail = DetailResponseBuilder(self.STREAM).with_id(item["id"])
        for name in {self.CURSOR_FIELD, "created_at", self.STATUS_FIELD} - {None}:
            detail = detail.with_field(name, item[name])
        for name, value in fields.items():
            detail = detail.with_field(name, value)
        return detail

    def details(self, items: Sequence[Dict[str, Any]]) -> List[Tuple[HttpRequest, HttpResponse]]:
        return [(self.detail_request(item["id"]), self.detail_of(item).build()) for item in items]

    def failing_detail(self, item: Dict[str, Any]) -> Tuple[HttpRequest, List[HttpResponse]]:
        """500 on the first attempt and on each of the 5 retries: the request fails for good."""
        return self.detail_request(item["id"]), [server_error_response(500)] * (1 + MAX_RETRIES)

    # ------------------------------------------------------------------ states

    def state(self, cursor_value: str) -> List[AirbyteStateMessage]:
        """The state as this connector writes it, both cursors at `cursor_value`."""
        return (
            StateBuilder()
            .with_stream_state(
                self.STREAM,
                {
                    "use_global_cursor": True,
                    "state": {self.CURSOR_FIELD: cursor_value},
                    "lookback_window": 0,
                    "parent_state": {self.list_stream: {self.CURSOR_FIELD: cursor_value}},
                },
            )
            .build()
        )

    def legacy_state(self, cursor_value: str) -> List[AirbyteStateMessage]:
        return StateBuilder().with_stream_state(self.STREAM, {self.CURSOR_FIELD: cursor_value}).build()

    def emitted_states(self, output: EntrypointOutput) -> List[Dict[str, Any]]:
        """Every state the read emitted for this stream, as a dict, in order."""
        states = []
        for message in output.state_messages:
            raw = AirbyteStateMessageSerializer.dump(message.state)
            if raw["stream"]["stream_descriptor"]["name"] == self.STREAM:
                states.append(raw["stream"]["stream_state"])
        return states

    def last_state(self, output: EntrypointOutput) -> Dict[str, Any]:
        states = self.emitted_states(output)
        self.assertTrue(states, "the read emitted no state for the stream")  # type: ignore[attr-defined]
        return states[-1]

    def list_cursor(self, state: Dict[str, Any]) -> str:
        return state["parent_state"][self.list_stream][self.CURSOR_FIELD]

    def stream_cursor(self, state: Dict[str, Any]) -> str:
        return state["state"][self.CURSOR_FIELD]

    def as_state_messages(self, state: Dict[str, Any]) -> List[AirbyteStateMessage]:
        """A state this connector emitted, handed to the next read as the platform would."""
        return StateBuilder().with_stream_state(self.STREAM, json.loads(json.dumps(state))).build()

    # ------------------------------------------------------------------ reading

    def read(
        self,
        mocks: Mocks,
        state: Optional[List[AirbyteStateMessage]] = None,
        expect_failure: bool = False,
        may_be_skipped: Mocks = (),
    ) -> EntrypointOutput:
        """One incremental read of the stream against exactly `mocks`: each must be requested as many times
        as it has responses, and a request not mocked fails the read (requests_mock raises NoMockAddress).

        `may_be_skipped` are requests a failing read may or may not reach before it stops (a stream whose
        list fails stops handing out the records already listed).

        HttpMocker as a decorator checks the mocks before the test's own assertions, so an unexpected request
        would show as "a mock was not called"; here the read's own errors, which name that request, come first."""
        with HttpMocker() as http_mocker:
            for request, responses in (*mocks, *may_be_skipped):
                http_mocker.get(request, responses)
            catalog = CatalogBuilder().with_stream(self.STREAM, SyncMode.incremental).build()
            source = SourceMeetlog(catalog=catalog, config=self.config, state=state)
            outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
            output = read(source, self.config, catalog, state, expected_outcome=outcome)
        if not expect_failure:
            self.assert_succeeded(output)
        for request, responses in mocks:
            expected = len(responses) if isinstance(responses, list) else 1
            try:
                http_mocker.assert_number_of_calls(request, expected)
            except AssertionError:
                raise AssertionError(f"expected {expected} call(s) to {request}") from None
        return output

    def records(self, output: EntrypointOutput) -> Dict[str, Dict[str, Any]]:
        """The records emitted, by id."""
        records = (message.record for message in output.records)
        return {record.data["id"]: record.data for record in records if record.stream == self.STREAM}

    def ids(self, output: EntrypointOutput) -> List[str]:
        return sorted(self.records(output))

    def assert_succeeded(self, output: EntrypointOutput) -> None:
        # The last line of a stack trace names the cause, e.g. "NoMockAddress: No mock address: GET …?page=2…".
        errors = [
            f"{error.message} ({error.stack_trace.strip().splitlines()[-1]})" if error.stack_trace else error.message
            for error in (message.trace.error for message in output.errors)
        ]
        self.assertEqual(errors, [], "the read failed")  # type: ignore[attr-defined]
        status = output.get_stream_statuses(self.STREAM)[-1]
        self.assertEqual(status, AirbyteStreamStatus.COMPLETE)  # type: ignore[attr-defined]

    # ================================================================== the cases

    def test_given_state_when_read_then_details_only_for_records_newer_than_it(self) -> None:
        """State T. Listed: a T+2h, b T+1h, c T, d T−1h. `cursor_value > start_time`: T+2h > T and T+1h > T
        are true, so a and b get a detail request; T > T and T−1h > T are false, so c (synced when the cursor
        reached T) and d get none (none is mocked). Both cursors advance to the newest record, a: T+2h."""
        a, b, c, d = (self.listed(name, at(hours)) for name, hours in (("a", 2), ("b", 1), ("c", 0), ("d", -1)))

        output = self.read([self.one_page([a, b, c, d]), *self.details([a, b])], self.state(at(0)))

        self.assertEqual(self.ids(output), ["a", "b"])
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.stream_cursor(state)), (at(2), at(2)))
        self.assertTrue(state["use_global_cursor"])

    def test_given_legacy_single_cursor_state_when_read_then_resume_from_it(self) -> None:
        """A state of the connector's first shape, {cursor_field: T}, still reads: the CDK hands the stream's
        cursor to the list as its parent state. Listed a T+1h, b T−1h: only a (T+1h > T) gets a detail request,
        and the state written back is the current shape, at T+1h."""
        a, b = self.listed("a", at(1)), self.listed("b", at(-1))

        output = self.read([self.one_page([a, b]), *self.details([a])], self.legacy_state(at(0)))

        self.assertEqual(self.ids(output), ["a"])
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.stream_cursor(state)), (at(1), at(1)))

    def test_given_read_then_state_advanced_when_read_again_then_only_the_list_is_requested(self) -> None:
        """Read 1, state T: a T+2h and b T+1h are new, so 1 list + 2 detail requests, and the last STATE
        carries the newest cursor, T+2h. Read 2, given that state and the same list: T+2h > T+2h is false
        for a and T+1h > T+2h for b, so the list request is the only one and nothing is emitted."""
        a, b, c = self.listed("a", at(2)), self.listed("b", at(1)), self.listed("c", at(-1))
        listing = self.one_page([a, b, c])

        first = self.read([listing, *self.details([a, b])], self.state(at(0)))
        state = self.last_state(first)
        self.assertEqual((self.list_cursor(state), self.stream_cursor(state)), (at(2), at(2)))

        second = self.read([listing], self.as_state_messages(state))

        self.assertEqual(self.ids(second), [])
        self.assertEqual(self.list_cursor(self.last_state(second)), at(2))

    def test_given_lookback_of_1_day_when_read_then_details_of_the_day_before_state_fetched_again(self) -> None:
        """lookback_window_days 1, state T: the list partition starts at T − P1D. Listed: a T+1h, b T−1h,
        c T−23h, d T−25h. T−1h and T−23h are after T−24h, so b and c are fetched again beside the new a;
        T−25h is not, so d gets no request. The cursor still advances to a, T+1h, never back to the lookback."""
        self.config["lookback_window_days"] = 1
        a, b, c, d = (self.listed(name, at(hours)) for name, hours in (("a", 1), ("b", -1), ("c", -23), ("d", -25)))

        output = self.read([self.one_page([a, b, c, d]), *self.details([a, b, c])], self.state(at(0)))

        self.assertEqual(self.ids(output), ["a", "b", "c"])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(1))

    def test_given_start_date_when_read_then_records_before_it_neither_fetched_nor_emitted(self) -> None:
        """start_date T, no state (a first sync). The plan leaves out c (T−1h); the partition starts at
        start_date, which is inclusive, so b, created exactly at T, is synced. Details for a and b only;
        the cursor ends at a, T+1h."""
        self.config["start_date"] = at(0)
        a, b, c = self.listed("a", at(1)), self.listed("b", at(0)), self.listed("c", at(-1))

        output = self.read([self.one_page([a, b, c]), *self.details([a, b])])

        self.assertEqual(self.ids(output), ["a", "b"])
        self.assertEqual(self.list_cursor(self.last_state(output)), at(1))

    def test_given_detail_failing_for_good_when_read_then_state_stays_before_it_and_next_read_fetches_it(self) -> None:
        """State T. Listed: a T+3h, b T+2h, c T+1h, d T−1h. b's detail answers 500 on all 6 attempts, so the
        stream fails (a and c are fetched and emitted). No state the read emits may put the list cursor at or
        past b (T+2h): read 2, given the last state emitted (or none, if none was), lists again and fetches b,
        which now answers, along with each record newer than that state that read 1 did not hand out."""
        a, b, c, d = (self.listed(name, at(hours)) for name, hours in (("a", 3), ("b", 2), ("c", 1), ("d", -1)))
        listing = self.one_page([a, b, c, d])

        first = self.read(
            [listing, *self.details([a, c]), self.failing_detail(b)], self.state(at(0)), expect_failure=True
        )

        self.assertEqual(self.ids(first), ["a", "c"])
        self.assertEqual(first.get_stream_statuses(self.STREAM)[-1], AirbyteStreamStatus.INCOMPLETE)
        self.assertTrue(any("kept failing (HTTP 500)" in error.trace.error.message for error in first.errors))
        states = self.emitted_states(first)
        self.assertEqual([self.list_cursor(state) for state in states if self.list_cursor(state) >= at(2)], [])

        # a and c may be spared: the `progress` of read 1 says what it handed out before it stopped.
        resume_from = self.list_cursor(states[-1]) if states else None
        refetched = [item for item in (a, c, d) if resume_from is None or item[self.CURSOR_FIELD] > resume_from]
        second = self.read([listing, *self.details([b])], self.as_state_messages(states[-1]) if states else None,
                           may_be_skipped=self.details(refetched))

        self.assertIn("b", self.ids(second))
        self.assertEqual(set(self.ids(first)) | set(self.ids(second)), {"a", "b", "c"})
        self.assertEqual(self.list_cursor(self.last_state(second)), at(3))

    def test_given_a_read_stopped_on_page_2_when_resumed_then_page_1_details_are_not_requested_again(self) -> None:
        """State T. Page 1 of 2: a T+3h, b T+2h; page 2: c T+1h, d T+30min. The stream hands out its details
        newest first (transcripts, as listed) or, a list read whole, oldest first (core/resume.py's sort_key);
        the last one it hands out answers 500 on all 6 attempts, so the stream fails after the other three.
        Once a record is handed out and every detail before it emitted, the state's `progress` says so, with a
        digest of what it covered. Read 2, given the last state, lists both pages again and requests the
        failed one, and the one before it only if its checkpoint had not come yet (the others are not mocked)."""
        a, b, c, d = (self.listed(name, at(hours)) for name, hours in (("a", 3), ("b", 2), ("c", 1), ("d", 0.5)))
        page_1 = (self.list_request(page=1), self.list_page([a, b], page=1, total_pages=2, total=4))
        page_2 = (self.list_request(page=2), self.list_page([c, d], page=2, total_pages=2, total=4))
        order = [a, b, c, d] if self.STREAM == "transcripts" else [d, c, b, a]
        *delivered, failing = order

        first = self.read(
            [page_1, page_2, *self.details(delivered), self.failing_detail(failing)], self.state(at(0)), expect_failure=True
        )
        self.assertEqual(sorted(self.ids(first)), sorted(r["id"] for r in delivered))
        self.assertEqual(self.list_cursor(self.last_state(first)), at(0), "the list cursor waits for the whole list")

        second = self.read([page_1, page_2, *self.details([failing])], self.as_state_messages(self.last_state(first)),
                           may_be_skipped=self.details([delivered[-1]]))

        self.assertEqual(set(self.ids(second)) - {delivered[-1]["id"]}, {failing["id"]})
        self.assertEqual(self.list_cursor(self.last_state(second)), at(3))
        self.assertNotIn("progress", self.last_state(second)["parent_state"][self.list_stream])

    def test_given_list_page_2_failing_for_good_when_read_then_state_stays_at_the_old_cursor(self) -> None:
        """State T. Page 1 of 2: a T+2h, b T+1h (both after T, so even a newest-first list goes on to page 2); page 2
        answers 500 on all 6 attempts and the stream fails (a and b may be fetched before it stops). Page 2
        could have held anything, so no state the read emits may move the list cursor from T. Read 2, given the
        last state, reads both pages and fetches c, T+30min, which page 2 now shows, and a and b again unless
        read 1's `progress` says they were handed out."""
        a, b, c = self.listed("a", at(2)), self.listed("b", at(1)), self.listed("c", at(0.5))
        page_1 = (self.list_request(page=1), self.list_page([a, b], page=1, total_pages=2, total=3))

        first = self.read(
            [page_1, (self.list_request(page=2), [server_error_response(500)] * (1 + MAX_RETRIES))],
            self.state(at(0)),
            expect_failure=True,
            may_be_skipped=self.details([a, b]),
        )

        self.assertTrue(set(self.ids(first)) <= {"a", "b"}, self.ids(first))
        self.assertEqual(first.get_stream_statuses(self.STREAM)[-1], AirbyteStreamStatus.INCOMPLETE)
        states = self.emitted_states(first)
        self.assertEqual({self.list_cursor(state) for state in states}, {at(0)} if states else set())

        page_2 = (self.list_request(page=2), self.list_page([c], page=2, total_pages=2, total=3))
        second = self.read(
            [page_1, page_2, *self.details([c])],
            self.as_state_messages(states[-1]) if states else self.state(at(0)),
            may_be_skipped=self.details([a, b]),  # handed out by read 1, as its `progress` may say
        )

        self.assertEqual(set(self.ids(first)) | set(self.ids(second)), {"a", "b", "c"})
        self.assertIn("c", self.ids(second))
        self.assertEqual(self.list_cursor(self.last_state(second)), at(2))


class MeetlogNotFinalRecordSuite(MeetlogIncrementalSuite):
    """The cases of a stream whose records have a status (transcripts, reports): a record not final yet
    ("processing") is sent as it is and remembered in `pending` (by id, or by a 4-byte hash of it when
    many are pending); the cursor moves on at once, and the record is sent again once it is final,
    however long that takes."""

    STATUS_FIELD: str
    # A heavy field that is empty while processing and filled once final (text, content), and its final value.
    FINAL_FIELD: str
    FINAL_VALUE: str

    def pending(self, state: Dict[str, Any]) -> List[str]:
        """The ids `pending` names (a table of ids, or of their hashes: these tests' ids are single letters)."""
        table = Table.decoded(state["parent_state"][self.list_stream].get("pending")) or Table()
        return sorted(letter for letter in string.ascii_lowercase if table.get(letter) is not None)

    def test_given_processing_record_newer_than_state_when_read_then_emitted_pending_and_the_cursor_moves_past_it(
        self,
    ) -> None:
        """State T. Listed: a T+3h completed, p T+1h processing, d T−1h. a and p are newer than T, so both
        details are fetched and p is emitted as it is, processing. The list cursor moves to the newest, a T+3h,
        and p is kept in `pending`."""
        a, p, d = self.listed("a", at(3)), self.listed("p", at(1), status="processing"), self.listed("d", at(-1))

        output = self.read([self.one_page([a, p, d]), *self.details([a, p])], self.state(at(0)))

        self.assertEqual(self.ids(output), ["a", "p"])
        self.assertEqual(self.records(output)["p"][self.STATUS_FIELD], "processing")
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.pending(state)), (at(3), ["p"]))

    def test_given_a_pending_record_still_processing_on_the_list_when_read_then_no_request_and_still_pending(self) -> None:
        """Read 1 leaves p pending. Read 2: the list still shows p processing, so it costs nothing (p's detail
        is not mocked), nothing is emitted, and p stays pending."""
        a, p = self.listed("a", at(3)), self.listed("p", at(1), status="processing")
        listing = self.one_page([a, p])
        first = self.read([listing, *self.details([a, p])], self.state(at(0)))

        second = self.read([listing], self.as_state_messages(self.last_state(first)))

        self.assertEqual(self.ids(second), [])
        self.assertEqual(self.pending(self.last_state(second)), ["p"])

    def test_given_a_pending_record_now_completed_when_read_then_fetched_again_with_its_final_fields(self) -> None:
        """Read 1: a T+3h completed, p T+1h processing; the cursor is at T+3h and p pending. Read 2: the list
        shows p completed; T+1h is behind the cursor, but p is pending, so its detail is fetched and emitted
        with its final text, and p leaves `pending`. a is not fetched again."""
        a, p, d = self.listed("a", at(3)), self.listed("p", at(1), status="processing"), self.listed("d", at(-1))
        first = self.read([self.one_page([a, p, d]), *self.details([a, p])], self.state(at(0)))

        p_final = dict(p, **{self.STATUS_FIELD: "completed"})
        final_detail = self.detail_of(p_final, **{self.FINAL_FIELD: self.FINAL_VALUE})
        second = self.read(
            [self.one_page([a, p_final, d]), (self.detail_request("p"), final_detail.build())],
            self.as_state_messages(self.last_state(first)),
        )

        self.assertEqual(self.ids(second), ["p"])
        self.assertEqual(self.records(second)["p"], final_detail.record)
        state = self.last_state(second)
        self.assertEqual((self.list_cursor(state), self.pending(state)), (at(3), []))

    def test_given_failed_record_when_read_then_it_is_final_and_not_pending(self) -> None:
        """State T. Listed: a T+2h completed, f T+1h failed. "failed" is in FINAL_STATUSES (its fields will not
        change any more), so f is not kept pending; the list cursor advances to a, T+2h."""
        a, f = self.listed("a", at(2)), self.listed("f", at(1), status="failed")

        output = self.read([self.one_page([a, f]), *self.details([a, f])], self.state(at(0)))

        self.assertEqual(self.ids(output), ["a", "f"])
        state = self.last_state(output)
        self.assertEqual((self.list_cursor(state), self.pending(state)), (at(2), []))

    def test_given_a_record_processing_for_30_days_when_it_completes_then_the_next_read_emits_it(self) -> None:
        """No age cutoff: s was created 30 days before T and was processing when read 1 sent it. Read 2, with
        s completed, fetches and emits it with its final text."""
        s = self.listed("s", at(-30 * 24), status="processing")
        first = self.read([self.one_page([s]), *self.details([s])], self.state(at(-31 * 24)))
        self.assertEqual(self.pending(self.last_state(first)), ["s"])

        s_final = dict(s, **{self.STATUS_FIELD: "completed"})
        final_detail = self.detail_of(s_final, **{self.FINAL_FIELD: self.FINAL_VALUE})
        second = self.read([self.one_page([s_final]), (self.detail_request("s"), final_detail.build())],
                           self.as_state_messages(self.last_state(first)))

        self.assertEqual(self.records(second)["s"], final_detail.record)
        self.assertEqual(self.pending(self.last_state(second)), [])

    def test_given_a_pending_record_no_longer_listed_when_the_whole_list_is_read_then_it_is_forgotten(self) -> None:
        """Read 1 leaves p pending. Read 2 lists only a (p was deleted) on the list's only page, so the list
        named every record and p is gone: no request for it, and it leaves `pending`."""
        a, p = self.listed("a", at(3)), self.listed("p", at(1), status="processing")
        first = self.read([self.one_page([a, p]), *self.details([a, p])], self.state(at(0)))

        second = self.read([self.one_page([a])], self.as_state_messages(self.last_state(first)))

        self.assertEqual(self.pending(self.last_state(second)), [])
