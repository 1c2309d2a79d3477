"""The full-refresh behaviour every Meetlog stream shares, run once per stream.

The manifest declares transcripts, reports and projects from one template (a hidden list stream
as the parent of a detail stream, one requester, one error handler), so each test_<stream>.py
runs this suite with its stream's names and adds what is its own.

What the tests below exercise (lines marked as integration_tests/test_manifest_quotes.py says
quote the manifest, and are checked against it there):
- the list paginator's strategy asks for page meta.page + 1 until meta.page >= meta.total_pages,
  100 records a page (the stock CursorPagination; the plan may stop the transcripts list sooner):
  manifest: `cursor_value: "{{ response.meta.page + 1 }}"`
- the error handler's filters, on lists and details alike (a 403 whose message names no scope is
  not_an_export_endpoint's, which blames base_url; the mocks' 403s name the scope):
  manifest: `rejected_key: type: HttpResponseFilter http_codes: [401] action: RETRY failure_type: config_error`
  manifest: `missing_scope: type: HttpResponseFilter http_codes: [403] action: FAIL failure_type: config_error`
  manifest: `rate_limited: type: HttpResponseFilter http_codes: [429] action: RETRY`
- on lists, a body with neither meta nor error_code (unreadable_body) is retried, and a 404 fails:
  manifest: `predicate: "{{ response is not mapping or ('meta' not in response and 'error_code' not in response) }}"`
  manifest: `list_not_found: type: HttpResponseFilter http_codes: [404] action: FAIL failure_type: config_error`
- on details, an empty or unparsable body (unreadable_detail_body) is retried, and a 404 is skipped:
  manifest: `predicate: "{{ response is not mapping or not response }}"`
  manifest: `deleted_since_listed: type: HttpResponseFilter http_codes: [404] action: IGNORE`
- MeetlogBackoffStrategy (components/keys.py): 0.001 s for a 429 (the key pool waits out Retry-After); other failures
  `ceiling / 2 + uniform(0, ceiling / 2)` with `ceiling = 1 s * 2 ** (failures - 1)`, RetriesExhausted
  past its own max_retries of 5 per request; the error handler's is only a safety net:
  manifest: `max_retries: 50`
The CDK sleeps for the strategy's answer plus 1 s of its own (CDK_RETRY_MARGIN_SECONDS).
"""

import functools
import json
import time
from email.utils import formatdate
from typing import Any, Callable, FrozenSet, List, Optional, Sequence, Tuple


from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessageSerializer,
    AirbyteStreamStatus,
    FailureType,
    SyncMode,
)
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest
from airbyte_cdk.test.models import ExpectedOutcome

from source_meetlog import SourceMeetlog
from source_meetlog.components.keys import RETRY_THROUGH_THE_POOL_SECONDS

from .config import ConfigBuilder
from .request_builder import detail_request, list_request
from .response_builder import (
    DetailResponseBuilder,
    detail_response,
    list_response,
    missing_scope_response,
    not_found_response,
    rate_limited_response,
    server_error_response,
    truncated_response,
    unauthorized_response,
)
from .virtual_clock import CDK_RETRY_MARGIN_SECONDS, install_virtual_clock

PAGE_SIZE = 100
MAX_RETRIES = 5  # MeetlogBackoffStrategy.max_retries


CYRILLIC_AND_EMOJI = r"(?s)(?=.*[А-Яа-яЁё])(?=.*[\U0001F300-\U0001FAFF])"


def record_ids(stream: str, count: int, start: int = 1) -> List[str]:
    return [f"{stream}-{number:04d}" for number in range(start, start + count)]


def serialized(output: EntrypointOutput) -> List[str]:
    """Every message the connector emitted (records, logs, traces), as the platform would receive it."""
    return [
        json.dumps(AirbyteMessageSerializer.dump(message), ensure_ascii=False)
        for message in output.get_message_iterator()
    ]


def http_mocked(test: Callable) -> Callable:
    """`@HttpMocker()` with a new mocker for every run.

    `@HttpMocker()` on a method builds one mocker when the class is defined; this suite's methods
    run once per stream class, and each run must start with no request mocked.
    """

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        return HttpMocker()(test)(*args, **kwargs)

    return run


class MeetlogStreamSuite:
    """Mixed into a unittest.TestCase per stream; the class attributes name the stream."""

    STREAM: str
    SCOPE: str
    RECORD_KIND: str
    # Another stream, selected beside this one where a test needs a stream that must go on syncing.
    OTHER_STREAM: str
    DETAIL_FIELDS: FrozenSet[str]

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.clock = install_virtual_clock(self)  # type: ignore[arg-type]
        self.config = ConfigBuilder().build()
        self.api_key = self.config["api_key"]

    # ------------------------------------------------------------------ helpers

    def _list_request(self, page: int = 1, stream: Optional[str] = None) -> HttpRequest:
        return list_request(stream or self.STREAM, self.api_key, page)

    def _mock_list(self, http_mocker: HttpMocker, ids: Sequence[str], stream: Optional[str] = None) -> HttpRequest:
        """One list page holding `ids`; returns the request, for `assert_number_of_calls`."""
        request = self._list_request(stream=stream)
        http_mocker.get(request, list_response(stream or self.STREAM, ids))
        return request

    def _mock_details(self, http_mocker: HttpMocker, ids: Sequence[str], stream: Optional[str] = None) -> None:
        stream = stream or self.STREAM
        for record_id in ids:
            http_mocker.get(detail_request(stream, self.api_key, record_id), detail_response(stream, record_id))

    def _read(self, streams: Optional[Sequence[str]] = None, expect_failure: bool = False) -> EntrypointOutput:
        catalog_builder = CatalogBuilder()
        for stream in streams or [self.STREAM]:
            catalog_builder.with_stream(stream, SyncMode.full_refresh)
        catalog = catalog_builder.build()
        source = SourceMeetlog(catalog=catalog, config=self.config, state=None)
        outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
        return read(source, self.config, catalog, expected_outcome=outcome)

    @staticmethod
    def _ids_read(output: EntrypointOutput, stream: str) -> List[str]:
        return sorted(message.record.data["id"] for message in output.records if message.record.stream == stream)

    @staticmethod
    def _stream_errors(output: EntrypointOutput) -> List[AirbyteErrorTraceMessage]:
        return [message.trace.error for message in output.errors]

    def _assert_sync_succeeded(self, output: EntrypointOutput, stream: Optional[str] = None) -> None:
        self.assertEqual([error.message for error in self._stream_errors(output)], [])
        self.assertEqual(output.get_stream_statuses(stream or self.STREAM)[-1], AirbyteStreamStatus.COMPLETE)

    def _assert_waits_between(self, waits: List[float], bounds: List[Tuple[float, float]]) -> None:
        self.assertEqual(len(waits), len(bounds), f"waits asked for: {waits}")
        for wait, (low, high) in zip(waits, bounds):
            self.assertTrue(low <= wait <= high, f"wait {wait} not in [{low}, {high}]; all waits: {waits}")

    @staticmethod
    def _first_failure_wait_bounds() -> Tuple[float, float]:
        """ceiling 1 s * 2 ** 0 = 1: waits 0.5 + uniform(0, 0.5), and the CDK adds 1 s."""
        return (0.5 + CDK_RETRY_MARGIN_SECONDS, 1.0 + CDK_RETRY_MARGIN_SECONDS)

    # ------------------------------------------------------------------ pages

    @http_mocked
    def test_given_one_page_when_read_then_return_one_record_per_listed_id(self, http_mocker: HttpMocker) -> None:
        """`response.meta.page >= response.meta.total_pages`: 1 >= 1 is true, so page 1 is the only list request."""
        ids = record_ids(self.STREAM, 3)
        list_page = self._mock_list(http_mocker, ids)
        self._mock_details(http_mocker, ids)

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), ids)
        self._assert_sync_succeeded(output)
        http_mocker.assert_number_of_calls(list_page, 1)

    @http_mocked
    def test_given_two_pages_when_read_then_request_page_2_and_no_page_3(self, http_mocker: HttpMocker) -> None:
        """Page 1: meta.page 1 >= meta.total_pages 2 is false, so the strategy asks for page 1 + 1 = 2.
        Page 2: meta.page 2 >= total_pages 2 is true, so there is no page 3 (not mocked: asking for it fails the test).
        manifest: `cursor_value: "{{ response.meta.page + 1 }}"`
        """
        first_page, second_page = record_ids(self.STREAM, PAGE_SIZE), record_ids(self.STREAM, 2, start=PAGE_SIZE + 1)
        total = len(first_page) + len(second_page)
        page_1, page_2 = self._list_request(page=1), self._list_request(page=2)
        http_mocker.get(page_1, list_response(self.STREAM, first_page, page=1, total_pages=2, total=total))
        http_mocker.get(page_2, list_response(self.STREAM, second_page, page=2, total_pages=2, total=total))
        self._mock_details(http_mocker, first_page + second_page)

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), sorted(first_page + second_page))
        self._assert_sync_succeeded(output)
        http_mocker.assert_number_of_calls(page_1, 1)
        http_mocker.assert_number_of_calls(page_2, 1)

    @http_mocked
    def test_given_total_exact_multiple_of_page_size_when_read_then_no_empty_page_requested(
        self, http_mocker: HttpMocker
    ) -> None:
        """100 items, total 100, total_pages 1: meta.page 1 >= total_pages 1 is true, so the sync stops
        after one list request. (A short-page rule would have asked for an empty page 2, which is not mocked.)
        """
        ids = record_ids(self.STREAM, PAGE_SIZE)
        page_1 = self._list_request(page=1)
        http_mocker.get(page_1, list_response(self.STREAM, ids, page=1, total_pages=1, total=PAGE_SIZE))
        self._mock_details(http_mocker, ids)

        output = self._read()

        self.assertEqual(len(output.records), PAGE_SIZE)
        self._assert_sync_succeeded(output)
        http_mocker.assert_number_of_calls(page_1, 1)

    @http_mocked
    def test_given_empty_list_when_read_then_no_detail_request_and_no_records(self, http_mocker: HttpMocker) -> None:
        """total 0, total_pages 0: meta.page 1 >= total_pages 0 is true, so no page 2; no id, so no
        detail request (none is mocked)."""
        http_mocker.get(self._list_request(), list_response(self.STREAM, [], page=1, total_pages=0, total=0))

        output = self._read()

        self.assertEqual(output.records, [])
        self._assert_sync_succeeded(output)

    # ------------------------------------------------------------------ records

    @http_mocked
    def test_given_detail_when_read_then_record_is_the_whole_detail_body(self, http_mocker: HttpMocker) -> None:
        """The detail extractor keeps the whole body: every documented field,
        Russian text and emoji byte for byte (the mock sends raw UTF-8, not \\u escapes).
        manifest: `type: DpathExtractor field_path: []`

        Null fields are kept on output too (cdk_internals.keep_null_fields_in_records): see
        unit_tests/test_null_fields_in_records.py and integration_tests/test_records_as_served.py."""
        detail = DetailResponseBuilder(self.STREAM).with_id(f"{self.STREAM}-0001")
        self._mock_list(http_mocker, [f"{self.STREAM}-0001"])
        http_mocker.get(detail_request(self.STREAM, self.api_key, f"{self.STREAM}-0001"), detail.build())

        output = self._read()

        self.assertEqual(len(output.records), 1)
        record = output.records[0].record.data
        self.assertEqual(set(record), set(self.DETAIL_FIELDS))
        self.assertEqual(record, detail.record)
        # The template must keep carrying what this test is about.
        self.assertRegex(json.dumps(record, ensure_ascii=False), CYRILLIC_AND_EMOJI)

    def test_when_discover_then_stream_offered_with_every_detail_field(self) -> None:
        """The public catalog has the three detail streams and project_transcripts (never the hidden
        *_list streams), and this stream's schema declares every field of its detail endpoint."""
        output = discover(SourceMeetlog(config=self.config), self.config)

        streams = {stream.name: stream for stream in output.catalog.catalog.streams}
        self.assertEqual(set(streams), {"transcripts", "reports", "projects", "project_transcripts"})
        self.assertTrue(self.DETAIL_FIELDS <= set(streams[self.STREAM].json_schema["properties"]))

    # ------------------------------------------------------------------ 401, 403, 404

    @http_mocked
    def test_given_invalid_key_when_read_then_config_error_without_the_key(self, http_mocker: HttpMocker) -> None:
        """401 `rejected_key`: the key pool drops the key and the retry finds none left, so the sync
        ends with a config error (AllKeysRejected) after one request, and no message carries the key.
        manifest: `rejected_key: type: HttpResponseFilter http_codes: [401] action: RETRY failure_type: config_error`
        """
        list_page = self._list_request()
        http_mocker.get(list_page, unauthorized_response())

        output = self._read(expect_failure=True)

        self.assertEqual(output.records, [])
        errors = self._stream_errors(output)
        self.assertTrue(errors, "expected an error trace")
        self.assertTrue(all(error.failure_type == FailureType.config_error for error in errors), errors)
        self.assertTrue(any("invalid, revoked or expired" in error.message for error in errors), errors)
        for message in serialized(output):
            self.assertNotIn(self.api_key, message)
        http_mocker.assert_number_of_calls(list_page, 1)

    @http_mocked
    def test_given_key_without_scope_when_read_then_config_error_names_scope_and_other_stream_syncs(
        self, http_mocker: HttpMocker
    ) -> None:
        """403 `missing_scope` (FAIL, config_error) on this stream's list: the message names the stream
        and the scope to grant; the other selected stream still syncs all its records.
        manifest: `missing_scope: type: HttpResponseFilter http_codes: [403] action: FAIL failure_type: config_error`
        """
        http_mocker.get(self._list_request(), missing_scope_response(self.SCOPE))
        other_ids = record_ids(self.OTHER_STREAM, 2)
        self._mock_list(http_mocker, other_ids, stream=self.OTHER_STREAM)
        self._mock_details(http_mocker, other_ids, stream=self.OTHER_STREAM)

        output = self._read(streams=[self.STREAM, self.OTHER_STREAM], expect_failure=True)

        self.assertEqual(self._ids_read(output, self.OTHER_STREAM), other_ids)
        self.assertEqual(self._ids_read(output, self.STREAM), [])
        self.assertEqual(output.get_stream_statuses(self.OTHER_STREAM)[-1], AirbyteStreamStatus.COMPLETE)
        self.assertEqual(output.get_stream_statuses(self.STREAM)[-1], AirbyteStreamStatus.INCOMPLETE)
        scope_errors = [error for error in self._stream_errors(output) if self.SCOPE in error.message]
        self.assertTrue(scope_errors, [error.message for error in self._stream_errors(output)])
        self.assertEqual(scope_errors[0].failure_type, FailureType.config_error)
        self.assertIn(f"'{self.STREAM}'", scope_errors[0].message)

    @http_mocked
    def test_given_detail_not_found_when_read_then_skip_that_record_with_a_log(self, http_mocker: HttpMocker) -> None:
        """404 on a detail, `deleted_since_listed` (IGNORE): that record is skipped with a log naming
        its URL; the records before and after it are emitted and the sync succeeds.
        manifest: `deleted_since_listed: type: HttpResponseFilter http_codes: [404] action: IGNORE`
        """
        ids = record_ids(self.STREAM, 3)
        deleted = ids[1]
        self._mock_list(http_mocker, ids)
        self._mock_details(http_mocker, [ids[0], ids[2]])
        http_mocker.get(detail_request(self.STREAM, self.api_key, deleted), not_found_response())

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), [ids[0], ids[2]])
        self._assert_sync_succeeded(output)
        self.assertTrue(
            output.is_in_logs(
                f"Skipped a {self.RECORD_KIND} that was deleted after it was listed "
                rf"\(404 NOT_FOUND at https://meetlog.ru/api/v1/export/{self.STREAM}/{deleted}\)"
            ),
            [log.log.message for log in output.logs],
        )

    # ------------------------------------------------------------------ 429, 5xx, truncated bodies

    @http_mocked
    def test_given_rate_limited_with_retry_after_seconds_when_read_then_wait_that_long_and_emit_records(
        self, http_mocker: HttpMocker
    ) -> None:
        """429 `rate_limited` with `Retry-After: 7`: the key rests 7 s in the pool, the strategy answers
        0.001, so the CDK sleeps 1.001 s before signing the retry, and the pool waits the other 5.999 s:
        7 s in all, as asked, with one owner of the wait.
        manifest: `rate_limited: type: HttpResponseFilter http_codes: [429] action: RETRY`
        """
        ids = record_ids(self.STREAM, 2)
        http_mocker.get(self._list_request(), [rate_limited_response("7"), list_response(self.STREAM, ids)])
        self._mock_details(http_mocker, ids)

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), ids)
        self._assert_sync_succeeded(output)
        self.assertEqual(self.clock.cdk_waits, [RETRY_THROUGH_THE_POOL_SECONDS + CDK_RETRY_MARGIN_SECONDS])
        self.assertEqual(len(self.clock.key_pool_waits), 1, self.clock.key_pool_waits)
        self.assertAlmostEqual(sum(self.clock.cdk_waits) + sum(self.clock.key_pool_waits), 7.0, places=6)

    @http_mocked
    def test_given_rate_limited_with_http_date_when_read_then_wait_until_that_date(
        self, http_mocker: HttpMocker
    ) -> None:
        """429 with `Retry-After: <HTTP-date 30 s from now>`: the key rests from the moment the 429 is
        handled until that date; the CDK pauses 1.001 s and the pool waits the rest. The moment lies
        between the start and the end of the read, which bounds the whole wait on both sides."""
        retry_at = int(time.time()) + 30
        ids = record_ids(self.STREAM, 1)
        rate_limited = rate_limited_response(formatdate(retry_at, usegmt=True))
        http_mocker.get(self._list_request(), [rate_limited, list_response(self.STREAM, ids)])
        self._mock_details(http_mocker, ids)

        read_started = time.time()
        output = self._read()
        read_ended = time.time()

        self.assertEqual(self._ids_read(output, self.STREAM), ids)
        self.assertEqual(self.clock.cdk_waits, [RETRY_THROUGH_THE_POOL_SECONDS + CDK_RETRY_MARGIN_SECONDS])
        self._assert_waits_between(
            [sum(self.clock.cdk_waits) + sum(self.clock.key_pool_waits)],
            [(retry_at - read_ended, retry_at - read_started)],
        )

    @http_mocked
    def test_given_server_error_then_success_when_read_then_retried_and_records_emitted(
        self, http_mocker: HttpMocker
    ) -> None:
        """502 on the list page and 503 on one detail, each then 200: 5xx falls to the CDK's default
        mapping (RETRY); each request's first failure waits between 0.5 and 1 s, plus the CDK's 1 s."""
        ids = record_ids(self.STREAM, 2)
        http_mocker.get(self._list_request(), [server_error_response(502), list_response(self.STREAM, ids)])
        first_detail = detail_request(self.STREAM, self.api_key, ids[0])
        http_mocker.get(first_detail, [server_error_response(503), detail_response(self.STREAM, ids[0])])
        self._mock_details(http_mocker, ids[1:])

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), ids)
        self._assert_sync_succeeded(output)
        self._assert_waits_between(self.clock.cdk_waits, [self._first_failure_wait_bounds()] * 2)

    @http_mocked
    def test_given_truncated_list_body_then_valid_when_read_then_retried_and_no_record_lost(
        self, http_mocker: HttpMocker
    ) -> None:
        """A 200 list page cut in half parses as {} (the CDK's filters read an unparsable body so):
        'meta' not in response and 'error_code' not in response is true, so `unreadable_body` retries it
        rather than reading the page as empty. The retry is a real request (2 calls) because the list
        requester turns the cache off: the CDK's parent-stream cache would otherwise answer it with the
        same truncated page.
        manifest: `predicate: "{{ response is not mapping or ('meta' not in response and 'error_code' not in response) }}"`
        manifest: `use_cache: false`
        """
        ids = record_ids(self.STREAM, 3)
        page, list_page = list_response(self.STREAM, ids), self._list_request()
        http_mocker.get(list_page, [truncated_response(page), page])
        self._mock_details(http_mocker, ids)

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), ids)
        self._assert_sync_succeeded(output)
        http_mocker.assert_number_of_calls(list_page, 2)
        self._assert_waits_between(self.clock.cdk_waits, [self._first_failure_wait_bounds()])

    @http_mocked
    def test_given_truncated_detail_body_then_valid_when_read_then_retried_and_record_emitted(
        self, http_mocker: HttpMocker
    ) -> None:
        """A 200 detail cut in half parses as {} (the CDK's filters read an unparsable body so): an
        empty body, which `unreadable_detail_body` retries.
        manifest: `unreadable_detail_body: type: HttpResponseFilter predicate: "{{ response is not mapping or not response }}"`
        """
        ids = record_ids(self.STREAM, 2)
        self._mock_list(http_mocker, ids)
        detail = detail_response(self.STREAM, ids[0])
        http_mocker.get(detail_request(self.STREAM, self.api_key, ids[0]), [truncated_response(detail), detail])
        self._mock_details(http_mocker, ids[1:])

        output = self._read()

        self.assertEqual(self._ids_read(output, self.STREAM), ids)
        self._assert_sync_succeeded(output)

    @http_mocked
    def test_given_server_error_on_every_attempt_when_read_then_stream_fails_after_5_retries(
        self, http_mocker: HttpMocker
    ) -> None:
        """502 forever: MeetlogBackoffStrategy retries 5 times (waits ceiling/2..ceiling for ceilings
        1, 2, 4, 8, 16 s, each + the CDK's 1 s), then the 6th failure exceeds its max_retries of 5 and raises
        RetriesExhausted: the stream fails with a message naming the status, after exactly 6 requests."""
        list_page = self._list_request()
        http_mocker.get(list_page, [server_error_response(502)] * (MAX_RETRIES + 1))

        output = self._read(expect_failure=True)

        self.assertEqual(output.records, [])
        messages = [error.message for error in self._stream_errors(output)]
        self.assertTrue(
            any("kept failing (HTTP 502) after 6 attempts" in message for message in messages), messages
        )
        self.assertEqual(output.get_stream_statuses(self.STREAM)[-1], AirbyteStreamStatus.INCOMPLETE)
        http_mocker.assert_number_of_calls(list_page, MAX_RETRIES + 1)
        self._assert_waits_between(
            self.clock.cdk_waits,
            [(c / 2 + CDK_RETRY_MARGIN_SECONDS, c + CDK_RETRY_MARGIN_SECONDS) for c in (1, 2, 4, 8, 16)],
        )
