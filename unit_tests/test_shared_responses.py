"""SharedResponses: within a sync, each project URL is fetched by the first stream to ask; the
other stream gets that answer, if it was a success, instead of a request of its own.

`send` stands for the HTTP client's whole retry loop: the store is above it, so whatever it
retries goes to the server.
"""

import threading
from typing import Callable, List, Optional

import pytest
import requests

from source_meetlog.components.shared_answers import SharedResponses

URL = "https://meetlog.ru/api/v1/export/projects/p1"
OTHER_URL = "https://meetlog.ru/api/v1/export/projects/p2"
PROJECTS, PROJECT_TRANSCRIPTS = object(), object()
WAIT_SECONDS = 5


def answer(status: int = 200, body: bytes = b'{"id": "p1", "transcripts": []}', url: str = URL) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = url
    response.headers["Content-Type"] = "application/json"
    response.request = requests.Request("GET", url, headers={"Authorization": "Bearer tk_live_secret"}).prepare()
    return response


class Server:
    """Counts the sends and answers each with the next of `answers` (a Response or an exception)."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.sent = 0

    def send(self) -> Optional[requests.Response]:
        self.sent += 1
        reply = self.answers.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def is_json_with_id(response: requests.Response) -> bool:
    """Stands for the error handler's unreadable-body filter: here a body without an `id` is one it retries."""
    try:
        return "id" in response.json()
    except ValueError:
        return False


def fetch(store: SharedResponses, reader: object, send: Callable, url: str = URL) -> Optional[requests.Response]:
    return store.fetch(url, reader, send, is_json_with_id)


# ------------------------------------------------------------------------------ sharing


def test_given_projects_fetched_a_detail_when_project_transcripts_asks_then_it_gets_that_body_without_a_request():
    store, server = SharedResponses(), Server(answer())

    first = fetch(store, PROJECTS, server.send)
    second = fetch(store, PROJECT_TRANSCRIPTS, server.send)

    assert server.sent == 1
    assert second.json() == first.json() and second.status_code == 200 and second.url == URL


def test_given_a_reader_already_had_the_answer_when_it_asks_again_then_the_request_is_sent_again():
    """A re-read (the list shifted while paged) wants the server's answer now, not the one it had."""
    store = SharedResponses()
    server = Server(answer(body=b'{"id": "p1", "v": 1}'), answer(body=b'{"id": "p1", "v": 2}'))

    fetch(store, PROJECTS, server.send)
    again = fetch(store, PROJECTS, server.send)
    other = fetch(store, PROJECT_TRANSCRIPTS, server.send)

    assert server.sent == 2
    assert again.json()["v"] == 2 and other.json()["v"] == 2, "the newest answer replaces the one before"


def test_given_two_urls_then_each_is_fetched_and_shared_apart():
    store = SharedResponses()
    server = Server(answer(), answer(url=OTHER_URL, body=b'{"id": "p2"}'))

    fetch(store, PROJECTS, server.send)
    fetch(store, PROJECTS, server.send, url=OTHER_URL)

    assert fetch(store, PROJECT_TRANSCRIPTS, server.send).json()["id"] == "p1"
    assert fetch(store, PROJECT_TRANSCRIPTS, server.send, url=OTHER_URL).json()["id"] == "p2"
    assert server.sent == 2


# ------------------------------------------------------------------------------ failures are never shared


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(answer(body=b'{"id": "p1", "transcri'), id="truncated body the error handler would retry"),
        pytest.param(answer(404, b'{"error_code": "NOT_FOUND"}'), id="404 ignored"),
        pytest.param(None, id="no response"),
    ],
)
def test_given_the_first_answer_was_not_a_success_when_the_other_stream_asks_then_it_sends_its_own_request(failure):
    store, server = SharedResponses(), Server(failure, answer())

    assert fetch(store, PROJECTS, server.send) is failure
    second = fetch(store, PROJECT_TRANSCRIPTS, server.send)

    assert server.sent == 2 and second.json()["id"] == "p1"


def test_given_a_reader_asks_again_and_now_fails_then_its_earlier_answer_is_no_longer_shared():
    store, server = SharedResponses(), Server(answer(), answer(404, b'{"error_code": "NOT_FOUND"}'), answer())

    fetch(store, PROJECTS, server.send)
    fetch(store, PROJECTS, server.send)  # deleted since: 404
    fetch(store, PROJECT_TRANSCRIPTS, server.send)

    assert server.sent == 3


def test_given_the_fetch_raises_then_the_exception_reaches_its_reader_and_the_next_reader_sends_itself():
    store, server = SharedResponses(), Server(requests.ConnectionError("reset"), answer())

    with pytest.raises(requests.ConnectionError):
        fetch(store, PROJECTS, server.send)
    assert fetch(store, PROJECT_TRANSCRIPTS, server.send).json()["id"] == "p1"
    assert server.sent == 2


# ------------------------------------------------------------------------------ two streams at once


def test_given_two_streams_ask_for_one_url_at_once_then_one_request_is_sent_and_both_get_its_body():
    store = SharedResponses()
    sending, release = threading.Event(), threading.Event()
    sent: List[str] = []

    def slow_send() -> requests.Response:
        sent.append("sent")
        sending.set()
        assert release.wait(WAIT_SECONDS)
        return answer()

    results = {}
    first = threading.Thread(target=lambda: results.update(first=fetch(store, PROJECTS, slow_send)))
    first.start()
    assert sending.wait(WAIT_SECONDS)
    second = threading.Thread(target=lambda: results.update(second=fetch(store, PROJECT_TRANSCRIPTS, slow_send)))
    second.start()
    second.join(0.2)
    assert second.is_alive(), "the second stream waits for the first one's request instead of sending its own"
    release.set()
    first.join(WAIT_SECONDS)
    second.join(WAIT_SECONDS)

    assert sent == ["sent"]
    assert results["first"].json() == results["second"].json()
    assert results["first"] is not results["second"], "each thread gets a response object of its own"


def test_given_the_first_stream_fails_while_the_second_waits_then_the_second_sends_its_own_request():
    store = SharedResponses()
    sending, release = threading.Event(), threading.Event()

    def failing_send() -> requests.Response:
        sending.set()
        assert release.wait(WAIT_SECONDS)
        raise requests.ConnectionError("reset")

    second_server = Server(answer())
    errors, results = [], {}

    def first_reader() -> None:
        try:
            fetch(store, PROJECTS, failing_send)
        except requests.ConnectionError as error:
            errors.append(error)

    first = threading.Thread(target=first_reader)
    first.start()
    assert sending.wait(WAIT_SECONDS)
    second = threading.Thread(target=lambda: results.update(second=fetch(store, PROJECT_TRANSCRIPTS, second_server.send)))
    second.start()
    release.set()
    first.join(WAIT_SECONDS)
    second.join(WAIT_SECONDS)

    assert len(errors) == 1 and second_server.sent == 1 and results["second"].json()["id"] == "p1"


def test_given_one_url_is_being_fetched_then_another_url_does_not_wait_for_it():
    store = SharedResponses()
    sending, release = threading.Event(), threading.Event()

    def slow_send() -> requests.Response:
        sending.set()
        assert release.wait(WAIT_SECONDS)
        return answer()

    slow = threading.Thread(target=lambda: fetch(store, PROJECTS, slow_send))
    slow.start()
    try:
        assert sending.wait(WAIT_SECONDS)
        assert fetch(store, PROJECTS, Server(answer(url=OTHER_URL, body=b'{"id": "p2"}')).send, url=OTHER_URL).json()["id"] == "p2"
    finally:
        release.set()
        slow.join(WAIT_SECONDS)


# ------------------------------------------------------------------------------ what is kept


def test_a_kept_answer_holds_no_authorization_header_and_each_reader_gets_its_own_copy():
    store, server = SharedResponses(), Server(answer())

    original = fetch(store, PROJECTS, server.send)
    assert store._answers and all("tk_live_secret" not in str(vars(a.response.request)) for a in store._answers.values())
    original.headers["X-Changed"] = "1"
    replay = fetch(store, PROJECT_TRANSCRIPTS, server.send)

    assert original.request.headers["Authorization"] == "Bearer tk_live_secret", "the fetching reader's own answer is untouched"
    assert "Authorization" not in replay.request.headers
    assert replay.headers is not original.headers and replay.request is not original.request
    assert "X-Changed" not in replay.headers


def test_given_both_readers_had_an_answer_then_it_is_dropped_and_a_third_reader_sends_its_own_request():
    """No URL has more than two readers in the manifest, so the second one's copy is the last: a sync
    holds only the answers one stream has read and the other has yet to."""
    store, server = SharedResponses(), Server(answer(), answer(body=b'{"id": "p1", "v": 2}'))

    fetch(store, PROJECTS, server.send)
    assert store._stored_bytes > 0
    fetch(store, PROJECT_TRANSCRIPTS, server.send)

    assert store._answers == {} and store._stored_bytes == 0
    assert fetch(store, object(), server.send).json()["v"] == 2 and server.sent == 2


def test_given_the_kept_answers_would_pass_the_bound_then_further_ones_are_not_kept(caplog):
    body = b'{"id": "p1", "padding": "' + b"x" * 100 + b'"}'
    store = SharedResponses(max_bytes=len(body) + 10)
    server = Server(answer(body=body), answer(url=OTHER_URL, body=body), answer(url=OTHER_URL, body=body))

    fetch(store, PROJECTS, server.send)
    fetch(store, PROJECTS, server.send, url=OTHER_URL)
    fetch(store, PROJECT_TRANSCRIPTS, server.send)
    fetch(store, PROJECT_TRANSCRIPTS, server.send, url=OTHER_URL)

    assert server.sent == 3, "the first answer was shared; the second did not fit and was requested again"
    assert any("are not shared" in record.getMessage() for record in caplog.records)
