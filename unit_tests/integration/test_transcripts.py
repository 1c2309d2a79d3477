"""transcripts: List transcripts (GET /api/v1/export/transcripts) names the ids, Get transcript
(GET /api/v1/export/transcripts/{id}) is the record. The shared cases are in suite.py."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from .config import unique_api_key
from .request_builder import MeetlogRequestBuilder
from .response_builder import detail_response, list_response, unauthorized_response
from .suite import MeetlogStreamSuite, http_mocked, record_ids, serialized

_STREAM = "transcripts"


class TestTranscriptsFullRefresh(MeetlogStreamSuite, TestCase):
    STREAM = _STREAM
    SCOPE = "export:transcripts"
    RECORD_KIND = "transcript"
    OTHER_STREAM = "reports"
    DETAIL_FIELDS = frozenset(
        {
            "id",
            "title",
            "status",
            "created_at",
            "duration_seconds",
            "source_url",
            "text",
            "summary",
            "file_size_mb",
            "report_ids",
        }
    )

    @http_mocked
    def test_given_first_of_two_keys_rejected_when_read_then_retry_on_second_key_and_emit_records(
        self, http_mocker: HttpMocker
    ) -> None:
        """api_key "A,B": the first request goes out on key #1 (the pool starts at the first key);
        401 `rejected_key` drops it and the retry goes out on key #2, which then signs every request.
        The warning names the key by position, never by value.
        manifest: `rejected_key: type: HttpResponseFilter http_codes: [401] action: RETRY failure_type: config_error`
        """
        rejected, valid = unique_api_key(), unique_api_key()
        self.config["api_key"] = f"{rejected},{valid}"
        ids = record_ids(_STREAM, 2)
        http_mocker.get(_list(rejected), unauthorized_response())
        http_mocker.get(_list(valid), list_response(_STREAM, ids))
        for record_id in ids:
            http_mocker.get(_detail(valid, record_id), detail_response(_STREAM, record_id))

        output = self._read()

        self.assertEqual(self._ids_read(output, _STREAM), ids)
        self._assert_sync_succeeded(output)
        self.assertTrue(output.is_in_logs(r"API key #1 of 2 was rejected \(401 UNAUTHORIZED\)"))
        for message in serialized(output):
            self.assertNotIn(rejected, message)
            self.assertNotIn(valid, message)


def _list(api_key: str) -> HttpRequest:
    return MeetlogRequestBuilder.list_endpoint(_STREAM, api_key).build()


def _detail(api_key: str, record_id: str) -> HttpRequest:
    return MeetlogRequestBuilder.detail_endpoint(_STREAM, api_key, record_id).build()

