"""HTTP plumbing: read the request, run the test's hook, answer (or sabotage the answer), record it."""

from __future__ import annotations

import socket
import struct
import sys
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .faults import ANSWERING_KINDS, Fault, canned_response
from .responses import ApiError, Response


@dataclass(frozen=True)
class IncomingRequest:
    """What an on_request hook is given, before the server answers."""

    method: str
    path: str
    query: dict[str, str]
    key: str | None  # the registered key's label, whatever its state


class MeetlogHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections as they would in production
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would add ~40 ms each
    server_version = "MeetlogExportAPI-test"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server.app.connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.app.connection_closed(self.connection)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # answered 405 by the API, in its JSON shape

    def log_message(self, format: str, *args) -> None:
        if self.server.app.verbose:
            sys.stderr.write(f"meetlog-server: {format % args}\n")

    def _handle(self) -> None:
        self._drain_body()
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query, keep_blank_values=True).items()}
        authorization = self.headers.get("Authorization")
        api_key = self.server.app.keys.find(authorization)
        incoming = IncomingRequest(self.command, url.path, query, api_key.label if api_key else None)
        try:
            self._answer(incoming, authorization)
        except Exception:  # a bug here or in a test's hook: say so rather than drop the connection
            traceback.print_exc()
            self._send(incoming, ApiError(500, "INTERNAL_SERVER_ERROR", "test server failure, see its stderr").response())

    def _answer(self, incoming: IncomingRequest, authorization: str | None) -> None:
        app = self.server.app
        if app.on_request is not None:
            app.on_request(incoming)
        fault = app.faults.take(incoming.path)
        if fault is None:
            self._send(incoming, app.api.respond(incoming.method, incoming.path, incoming.query, authorization))
        elif fault.kind == "reset":
            self._reset(incoming)
        elif fault.kind in ANSWERING_KINDS:
            retry_after = fault.retry_after
            if isinstance(retry_after, (int, float)):
                retry_after = app.api.retry_after(retry_after, fault.retry_after_format)
            self._send(incoming, canned_response(fault, retry_after), fault)
        else:  # slow and truncated_json spoil the real answer
            if fault.kind == "slow":
                app.pause(fault.seconds)
            response = app.api.respond(incoming.method, incoming.path, incoming.query, authorization)
            if fault.kind == "truncated_json":
                self._send_truncated(incoming, response, fault)
            else:
                self._send(incoming, response, fault)

    def _send(self, incoming: IncomingRequest, response: Response, fault: Fault | None = None,
              body: bytes | None = None, content_length: int | None = None) -> None:
        body = response.body if body is None else body
        # Recorded before sending, so a test reading server.requests after its answer finds it there.
        self.server.app.requests.append(incoming.method, incoming.path, incoming.query, incoming.key,
                                        response.status, fault.kind if fault else None)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up, e.g. timed out on a slow answer

    def _send_truncated(self, incoming: IncomingRequest, response: Response, fault: Fault) -> None:
        half = response.body[: len(response.body) // 2]
        if fault.content_length == "full":
            self.close_connection = True  # promise the whole body, send half, hang up
            self._send(incoming, response, fault, body=half, content_length=len(response.body))
        else:
            self._send(incoming, response, fault, body=half)

    def _reset(self, incoming: IncomingRequest) -> None:
        self.server.app.requests.append(incoming.method, incoming.path, incoming.query, incoming.key, None, "reset")
        # Linger 0 turns close() into a TCP RST instead of an orderly FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _drain_body(self) -> None:
        # Unread request bodies would be parsed as the next keep-alive request.
        length = self.headers.get("Content-Length", "0")
        if length.isdigit() and int(length):
            self.rfile.read(int(length))
