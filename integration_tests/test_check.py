"""check_connection against the local Meetlog Export API (integration_tests.meetlog_server).

A check reads the first page of each stream with each key (3 requests per key), says which
scopes a key lacks, refuses keys of different accounts, and blames 'base_url' when the answer
is not the Export API's. It never names a key by its value.
"""

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Sequence

import pytest

from airbyte_cdk.models import AirbyteConnectionStatus, Status

from integration_tests.meetlog_server import MeetlogServer, faults
from source_meetlog.check import check_connection
from source_meetlog.core.config import parse_config

EXPORT = "/api/v1/export/"
ALL_SCOPES = ("export:transcripts", "export:reports", "export:projects")


@pytest.fixture
def server_options():
    """conftest's `server` with the documented limit of 60 requests a minute per key: a check must fit in it."""
    return {"requests_per_window": 60}


@pytest.fixture
def check(caplog):
    """check(base_url, keys) -> the status; asserts that no key shows in its message or the logs."""

    def run(base_url: str, keys: Sequence[str]) -> AirbyteConnectionStatus:
        config = parse_config({"api_key": ",".join(keys), "base_url": base_url})
        with caplog.at_level(logging.DEBUG, logger="test"):
            status = check_connection(config, logging.getLogger("test"))
        for key in keys:
            assert key not in (status.message or "")
            assert key not in caplog.text
        return status

    return run


def requests_of(server: MeetlogServer, key: str) -> int:
    return server.count(path_prefix=EXPORT, key=server.key_label(key))


# ------------------------------------------------------------------------------ keys and scopes


def test_given_a_key_with_every_scope_then_succeeded_without_a_message(server, check):
    key = server.add_key()

    status = check(server.base_url, [key])

    assert status.status == Status.SUCCEEDED
    assert status.message is None


def test_a_check_costs_three_requests_per_key_one_page_of_one_record_each(server, check):
    keys = [server.add_key(), server.add_key()]

    assert check(server.base_url, keys).status == Status.SUCCEEDED

    assert [requests_of(server, key) for key in keys] == [3, 3]
    assert server.count() == 6
    assert {(record.path, record.query.get("page_size")) for record in server.requests} == {
        (EXPORT + "transcripts", "1"),
        (EXPORT + "reports", "1"),
        (EXPORT + "projects", "1"),
    }


def test_given_a_key_without_export_reports_then_succeeded_with_a_warning_naming_scope_and_stream(
    server, check, caplog
):
    key = server.add_key(scopes=("export:transcripts", "export:projects"))

    status = check(server.base_url, [key])

    assert status.status == Status.SUCCEEDED
    assert "export:reports" in status.message
    assert "'reports' stream" in status.message
    assert "transcripts" not in status.message and "projects" not in status.message
    assert requests_of(server, key) == 3
    assert any("export:reports" in record.getMessage() for record in caplog.records if record.name == "test")


def test_given_two_keys_where_the_second_lacks_a_scope_then_the_warning_names_it_by_position(server, check):
    keys = [server.add_key(), server.add_key(scopes=("export:transcripts",))]

    status = check(server.base_url, keys)

    assert status.status == Status.SUCCEEDED
    assert "API key #2 lacks the scope export:reports" in status.message
    assert "API key #2 lacks the scope export:projects" in status.message
    assert "#1" not in status.message


def test_given_a_key_without_any_scope_then_failed_naming_the_three_scopes(server, check):
    key = server.add_key(scopes=())

    status = check(server.base_url, [key])

    assert status.status == Status.FAILED
    assert all(scope in status.message for scope in ALL_SCOPES)
    assert requests_of(server, key) == 3


@pytest.mark.parametrize("spoil", ["revoke_key", "expire_key"])
def test_given_a_revoked_or_expired_key_then_failed_saying_so(server, check, spoil):
    key = server.add_key()
    getattr(server, spoil)(key)

    status = check(server.base_url, [key])

    assert status.status == Status.FAILED
    assert "invalid, revoked or expired" in status.message
    assert "The API key" in status.message


def test_given_a_well_formed_key_the_server_never_issued_then_failed_saying_invalid(server, check):
    status = check(server.base_url, ["tk_live_wellFormedButNeverIssued0123"])

    assert status.status == Status.FAILED
    assert "invalid, revoked or expired" in status.message


def test_given_the_second_of_two_keys_revoked_then_failed_naming_key_2(server, check):
    keys = [server.add_key(), server.add_key()]
    server.revoke_key(keys[1])

    status = check(server.base_url, keys)

    assert status.status == Status.FAILED
    assert "API key #2" in status.message
    assert "invalid, revoked or expired" in status.message


# ------------------------------------------------------------------------------ accounts


def test_given_two_keys_of_the_same_account_then_succeeded(server, check):
    keys = [server.add_key(account="acme"), server.add_key(account="acme")]

    status = check(server.base_url, keys)

    assert status.status == Status.SUCCEEDED
    assert status.message is None


def test_given_keys_of_two_accounts_then_failed_naming_their_positions(server, check):
    keys = [server.add_key(account="acme"), server.add_key(account="other")]

    status = check(server.base_url, keys)

    assert status.status == Status.FAILED
    assert "#1" in status.message and "#2" in status.message
    assert "different" in status.message and "account" in status.message


def test_given_a_foreign_third_key_then_failed_naming_positions_1_and_3(server, check):
    keys = [server.add_key(), server.add_key(), server.add_key(account="other")]

    status = check(server.base_url, keys)

    assert status.status == Status.FAILED
    assert "#1 and #3" in status.message


# ------------------------------------------------------------------------------ base_url


@pytest.mark.parametrize(
    "fault",
    [faults.non_json(), faults.http_500_html(), faults.truncated_json()],
    ids=["html-login-page", "html-500", "truncated-json"],
)
def test_given_an_answer_that_is_not_the_apis_json_then_failed_pointing_at_base_url(server, check, fault):
    key = server.add_key()
    server.inject(fault, path_prefix=EXPORT, times=None)

    status = check(server.base_url, [key])

    assert status.status == Status.FAILED
    assert "base_url" in status.message


class _NotMeetlog(BaseHTTPRequestHandler):
    """Answers every GET with the same status and body, like a web site, a proxy or another API."""

    status = 200
    content_type = "text/html"
    body = b""

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_meetlog():
    """not_meetlog(status, content_type, body) -> base_url of a stdlib server on 127.0.0.1."""
    servers = []

    def start(status: int, content_type: str, body: bytes) -> str:
        handler = type("Handler", (_NotMeetlog,), {"status": status, "content_type": content_type, "body": body})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


HTML = b"<!doctype html><html><body><h1>Welcome</h1></body></html>"


@pytest.mark.parametrize(
    "status, content_type, body",
    [
        (200, "text/html", HTML),
        (404, "text/html", b"<html><body>Not Found</body></html>"),
        (502, "text/html", b"<html><body>502 Bad Gateway</body></html>"),
        (200, "application/json", b'{"status": "ok"}'),
        (200, "application/json", b"[]"),
        (404, "application/json", b'{"detail": "Not Found"}'),
        (403, "text/html", b"<html><body>Access denied</body></html>"),
        (401, "text/html", b"<html><body>Sign in</body></html>"),
    ],
    ids=["html-200", "html-404", "html-502", "json-other-shape", "json-list", "json-404", "html-403", "html-401"],
)
def test_given_a_base_url_that_is_not_the_export_api_then_failed_pointing_at_base_url(
    not_meetlog, check, status, content_type, body
):
    base_url = not_meetlog(status, content_type, body)

    result = check(base_url, ["tk_live_forSomeOtherServer0123"])

    assert result.status == Status.FAILED
    assert "base_url" in result.message


def test_given_a_closed_port_then_failed_quickly_pointing_at_base_url(check):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nobody listens once the socket is closed

    started = time.monotonic()
    status = check(f"http://127.0.0.1:{port}", ["tk_live_nobodyListens0123"])

    assert time.monotonic() - started < 2
    assert status.status == Status.FAILED
    assert "base_url" in status.message
    assert f"127.0.0.1:{port}" in status.message


def test_given_connections_reset_then_failed_pointing_at_base_url(server, check):
    key = server.add_key()
    server.inject(faults.reset(), path_prefix=EXPORT, times=None)

    status = check(server.base_url, [key])

    assert status.status == Status.FAILED
    assert "base_url" in status.message
