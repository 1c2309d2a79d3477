"""SharedResponseRequester: an HttpRequester's requests, shared through the store of the read (ReadContext) it was built in."""

import pytest
import requests

from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler, HttpResponseFilter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.http.error_handlers import ResponseAction
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_meetlog import SourceMeetlog, cdk_internals
from source_meetlog.components.shared_answers import SharedResponseRequester
from source_meetlog.components.read_context import ComponentOutsideRead
from unit_tests.read_contexts import a_read

BASE = "https://meetlog.ru/api/v1/export"
CONFIG = {"base_url": "https://meetlog.ru"}
P1 = StreamSlice(partition={"id": "p1"}, cursor_slice={})


def unreadable_body() -> HttpResponseFilter:
    """Stands for the manifest's unreadable-body filters: here a 200 body without an `id` is retried."""
    return HttpResponseFilter(
        action=ResponseAction.RETRY,
        predicate="{{ 'id' not in response and 'error_code' not in response }}",
        config=CONFIG,
        parameters={},
    )


def requester(method: str = "GET", share_answers: bool = True) -> SharedResponseRequester:
    http = HttpRequester(
        name="projects",
        url_base=BASE,
        path="/projects/{{ stream_partition.id }}",
        http_method=method,
        error_handler=DefaultErrorHandler(config=CONFIG, parameters={}, response_filters=[unreadable_body()]),
        config=CONFIG,
        parameters={},
    )
    return SharedResponseRequester(requester=http, config=CONFIG, parameters={}, share_answers=share_answers)


def detail(project_id: str = "p1") -> HttpRequest:
    return HttpRequest(url=f"{BASE}/projects/{project_id}")


def body(project_id: str = "p1") -> HttpResponse:
    return HttpResponse(body=f'{{"id": "{project_id}", "transcripts": []}}', status_code=200)


def test_given_two_requesters_built_for_one_read_when_both_ask_for_a_project_then_one_request_is_sent():
    with HttpMocker() as http_mocker:
        project = detail()
        http_mocker.get(project, body())
        with a_read().bound():
            projects, project_transcripts = requester(), requester()

        first = projects.send_request(stream_slice=P1)
        second = project_transcripts.send_request(stream_slice=P1)

        http_mocker.assert_number_of_calls(project, 1)
        assert first.json() == second.json() == {"id": "p1", "transcripts": []}


def test_given_requesters_built_for_two_reads_then_nothing_is_shared_between_them():
    with HttpMocker() as http_mocker:
        project = detail()
        http_mocker.get(project, body())
        with a_read().bound():
            this_read = requester()
        with a_read().bound():
            next_read = requester()

        this_read.send_request(stream_slice=P1)
        next_read.send_request(stream_slice=P1)

        http_mocker.assert_number_of_calls(project, 2)


def test_given_requesters_built_outside_a_read_then_building_fails():
    with pytest.raises(ComponentOutsideRead):
        requester()


def test_given_a_read_that_shares_no_answers_then_each_requester_sends_its_own_request():
    with HttpMocker() as http_mocker:
        project = detail()
        http_mocker.get(project, body())
        with a_read(share_answers=False).bound():
            projects, project_transcripts = requester(), requester()

        projects.send_request(stream_slice=P1)
        project_transcripts.send_request(stream_slice=P1)

        http_mocker.assert_number_of_calls(project, 2)


def test_given_a_requester_that_keeps_no_answers_then_a_second_reader_of_the_url_sends_again():
    with HttpMocker() as http_mocker:
        project = detail()
        http_mocker.get(project, body())
        with a_read().bound():
            own, other = requester(share_answers=False), requester()

        own.send_request(stream_slice=P1)
        other.send_request(stream_slice=P1)

        http_mocker.assert_number_of_calls(project, 2)


def test_only_the_details_two_streams_read_are_kept_for_sharing():
    """A transcript's or report's detail is its own stream's alone: keeping each would make a read's
    memory grow with its records (BENCHMARKS.md, peak RSS)."""
    manifest = SourceMeetlog(config={"api_key": "tk_live_unitTestKey0"}).resolved_manifest

    kept = {stream["name"]: stream["retriever"]["requester"].get("share_answers", True) for stream in manifest["streams"]}

    assert kept == {"transcripts": False, "reports": False, "projects": True, "project_transcripts": True}


def test_given_a_post_then_it_is_never_shared():
    with HttpMocker() as http_mocker:
        project = detail()
        http_mocker.post(project, body())
        with a_read().bound():
            first, second = requester("POST"), requester("POST")

        first.send_request(stream_slice=P1)
        second.send_request(stream_slice=P1)

        http_mocker.assert_number_of_calls(project, 2)


def test_the_url_answers_are_shared_by_is_the_url_sent_with_its_query():
    """The paginator's page and page_size reach send_request as request_params; they are part of the URL."""
    with HttpMocker() as http_mocker:
        page_2 = HttpRequest(url=f"{BASE}/projects/p1", query_params={"page": "2", "page_size": "100"})
        http_mocker.get(page_2, body())
        with a_read().bound():
            shared = requester()

        response = shared.send_request(stream_slice=P1, request_params={"page": 2, "page_size": 100})

        url = cdk_internals.url_of_request(shared.requester, None, P1, None, request_params={"page": 2, "page_size": 100})
        assert url == response.request.url


@pytest.mark.parametrize(
    "body, shared",
    [(b'{"id": "p1"}', True), (b'{"id": "p1", "transcr', False), (b"<html>proxy login</html>", False)],
    ids=["a detail", "a truncated body", "an html page"],
)
def test_only_what_the_error_handler_calls_a_success_is_shared(body, shared):
    response = requests.Response()
    response.status_code = 200
    response._content = body

    with a_read().bound():
        assert requester()._is_success(response) is shared


def test_the_rest_of_the_requester_interface_is_the_wrapped_requesters():
    with a_read().bound():
        shared = requester()

    assert shared.get_url_base(stream_state=None, stream_slice=None, next_page_token=None) == BASE
    assert shared.get_path(stream_state=None, stream_slice=P1, next_page_token=None) == "projects/p1"
    assert shared.get_method().value == "GET"
    shared.exit_on_rate_limit = True
    assert shared.requester.exit_on_rate_limit is True
