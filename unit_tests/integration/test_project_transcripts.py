"""project_transcripts: one row per project and transcript, from each project's detail
(GET /api/v1/export/projects/{id}, its `transcripts`), the projects named by List projects.

Both streams send through the shared requesters, so within a sync a project URL answered with a
success is requested once, whichever stream asks first; an answer the error handler retries (an
unreadable body) is retried against the server, never shared.
manifest: `shared_list_requester: type: CustomRequester`, `shared_detail_requester: type: CustomRequester`
"""

from typing import Dict, List, Optional, Sequence, Tuple
from unittest import TestCase

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest
from airbyte_cdk.test.state_builder import StateBuilder

from source_meetlog import SourceMeetlog

from .config import ConfigBuilder
from .request_builder import detail_request, list_request
from .response_builder import DetailResponseBuilder, list_response, truncated_response
from .virtual_clock import install_virtual_clock

STREAM = "project_transcripts"
# Two projects: p1 with two transcripts, p2 with none.
TRANSCRIPTS = {"p1": ["t1", "t2"], "p2": []}


def project_detail(project_id: str) -> DetailResponseBuilder:
    transcripts = [
        {"id": transcript_id, "title": f"Встреча {transcript_id} 🚀", "status": "completed", "created_at": "2026-05-08T09:14:22Z"}
        for transcript_id in TRANSCRIPTS[project_id]
    ]
    return DetailResponseBuilder("projects").with_id(project_id).with_field("transcripts", transcripts)


class TestProjectTranscripts(TestCase):
    def setUp(self) -> None:
        self.clock = install_virtual_clock(self)
        self.config = ConfigBuilder().build()
        self.api_key = self.config["api_key"]

    def _mock_projects(self, http_mocker: HttpMocker) -> Tuple[HttpRequest, Dict[str, HttpRequest]]:
        list_page = list_request("projects", self.api_key)
        http_mocker.get(list_page, list_response("projects", list(TRANSCRIPTS)))
        details = {project_id: detail_request("projects", self.api_key, project_id) for project_id in TRANSCRIPTS}
        return list_page, details

    def _read(self, streams: Sequence[Tuple[str, SyncMode]], state: Optional[List[AirbyteStateMessage]] = None) -> EntrypointOutput:
        catalog_builder = CatalogBuilder()
        for name, mode in streams:
            catalog_builder.with_stream(name, mode)
        catalog = catalog_builder.build()
        return read(SourceMeetlog(catalog=catalog, config=self.config, state=state), self.config, catalog, state=state)

    @staticmethod
    def _rows(output: EntrypointOutput) -> List[Tuple[str, str]]:
        return sorted(
            (m.record.data["project_id"], m.record.data["transcript_id"]) for m in output.records if m.record.stream == STREAM
        )

    def _assert_every_row(self, output: EntrypointOutput) -> None:
        self.assertEqual([e.trace.error.message for e in output.errors], [])
        self.assertEqual(self._rows(output), [("p1", "t1"), ("p1", "t2")])
        row = next(m.record.data for m in output.records if m.record.stream == STREAM)
        self.assertEqual(set(row), {"project_id", "transcript_id", "title", "status", "created_at"})

    @HttpMocker()
    def test_given_only_project_transcripts_when_read_then_one_list_page_and_one_detail_per_project(self, http_mocker: HttpMocker) -> None:
        list_page, details = self._mock_projects(http_mocker)
        for project_id, request in details.items():
            http_mocker.get(request, project_detail(project_id).build())

        output = self._read([(STREAM, SyncMode.full_refresh)])

        self._assert_every_row(output)
        http_mocker.assert_number_of_calls(list_page, 1)
        for request in details.values():
            http_mocker.assert_number_of_calls(request, 1)

    @HttpMocker()
    def test_given_projects_and_project_transcripts_when_read_then_each_page_and_detail_is_requested_once(
        self, http_mocker: HttpMocker
    ) -> None:
        """Both streams list the projects and fetch each detail; the second to ask gets the first one's answer."""
        list_page, details = self._mock_projects(http_mocker)
        for project_id, request in details.items():
            http_mocker.get(request, project_detail(project_id).build())

        output = self._read([("projects", SyncMode.full_refresh), (STREAM, SyncMode.full_refresh)])

        self._assert_every_row(output)
        self.assertEqual(sorted(m.record.data["id"] for m in output.records if m.record.stream == "projects"), ["p1", "p2"])
        http_mocker.assert_number_of_calls(list_page, 1)
        for request in details.values():
            http_mocker.assert_number_of_calls(request, 1)

    @HttpMocker()
    def test_given_a_truncated_detail_when_both_are_read_then_it_is_retried_against_the_server_and_both_get_every_row(
        self, http_mocker: HttpMocker
    ) -> None:
        """p1's first answer is half a body, which parses as {}: `unreadable_detail_body` retries it, the
        retry is answered by the server (a second call), and that good body is what the other stream gets.
        manifest: `unreadable_detail_body: type: HttpResponseFilter predicate: "{{ response is not mapping or not response }}"`
        """
        list_page, details = self._mock_projects(http_mocker)
        good = project_detail("p1").build()
        http_mocker.get(details["p1"], [truncated_response(good), good])
        http_mocker.get(details["p2"], project_detail("p2").build())

        output = self._read([("projects", SyncMode.full_refresh), (STREAM, SyncMode.full_refresh)])

        self._assert_every_row(output)
        self.assertEqual(sorted(m.record.data["id"] for m in output.records if m.record.stream == "projects"), ["p1", "p2"])
        http_mocker.assert_number_of_calls(details["p1"], 2)
        http_mocker.assert_number_of_calls(details["p2"], 1)
        http_mocker.assert_number_of_calls(list_page, 1)

    @HttpMocker()
    def test_given_the_state_a_finished_sync_left_when_read_again_then_rows_are_still_the_transcripts(
        self, http_mocker: HttpMocker
    ) -> None:
        """A full-refresh stream's state after a sync is {__ab_no_cursor_state_message: true}; the CDK's
        lazy_read_pointer, used before, only read lazily without state, and emitted whole projects."""
        list_page, details = self._mock_projects(http_mocker)
        for project_id, request in details.items():
            http_mocker.get(request, project_detail(project_id).build())
        state = StateBuilder().with_stream_state(STREAM, {"__ab_no_cursor_state_message": True}).build()

        output = self._read([(STREAM, SyncMode.full_refresh)], state=state)

        self._assert_every_row(output)
        for request in details.values():
            http_mocker.assert_number_of_calls(request, 1)

    def test_given_a_key_without_export_projects_when_read_then_the_error_names_project_transcripts(self) -> None:
        """The URL path is its own parameter (path: projects), so `parameters.name` in the 403 message is
        the stream the user selected.
        manifest: `Meetlog refused the '{{ parameters.name }}' stream`"""
        from airbyte_cdk.test.mock_http import HttpMocker

        from .response_builder import missing_scope_response

        with HttpMocker() as http_mocker:
            http_mocker.get(list_request("projects", self.api_key), missing_scope_response("export:projects"))
            output = self._read([(STREAM, SyncMode.full_refresh)])

        messages = [m.trace.error.message for m in output.errors]
        self.assertTrue(any("refused the 'project_transcripts' stream" in m for m in messages), messages)
        self.assertFalse(any("refused the 'projects' stream" in m for m in messages), messages)
