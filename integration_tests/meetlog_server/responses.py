"""What the server sends back: a status, a body and headers, plus the API's error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised anywhere in request handling; becomes the documented JSON error body."""

    def __init__(self, status: int, error_code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error_code": self.error_code, "error_message": self.message, "status_code": self.status}
        return json_response(body, self.status, self.headers)


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # ensure_ascii=False: the real API sends Cyrillic and emoji as UTF-8, not \u escapes.
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, headers=dict(headers or {}))


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode("utf-8"), content_type="text/html; charset=utf-8")
