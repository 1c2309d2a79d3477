"""Meetlog responses built from the JSON templates in unit_tests/resource/http/response/.

    ListResponseBuilder("transcripts").with_ids(["t1", "t2"]).with_pagination(page=2, total_pages=2, total=102).build()
    -> 200 {"items": [{"id": "t1", …}, {"id": "t2", …}],
            "meta": {"page": 2, "page_size": 100, "total": 102, "total_pages": 2}}
    DetailResponseBuilder("transcripts").with_id("t1").build()     -> 200 with the whole transcript
    ErrorResponseBuilder(403, "Missing scope export:reports").build()
    -> 403 {"error_code": "FORBIDDEN", "error_message": "Missing scope export:reports", "status_code": 403}

Bodies are sent as UTF-8 JSON without \\u escapes, as the API sends them, so a test of Russian
text and emoji sees the bytes the connector would.
"""

import copy
import functools
import json
from typing import Any, Dict, Iterable, Mapping, Optional

from airbyte_cdk.test.mock_http import HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath, RecordBuilder, create_record_builder, find_template

PAGE_SIZE = 100
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}


@functools.lru_cache(maxsize=None)
def _template(name: str) -> Dict[str, Any]:
    return find_template(name, __file__)


def template(name: str) -> Dict[str, Any]:
    """A fresh copy of a template: builders write into it."""
    return copy.deepcopy(_template(name))


def _json_response(body: Any, status_code: int = 200, headers: Optional[Mapping[str, str]] = None) -> HttpResponse:
    return HttpResponse(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status_code=status_code,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def list_item(stream: str, record_id: Optional[str] = None) -> RecordBuilder:
    """One item of a list page, from the template's first item."""
    record = create_record_builder(template(f"{stream}_list"), FieldPath("items"), record_id_path=FieldPath("id"))
    return record.with_id(record_id) if record_id is not None else record


class ListResponseBuilder:
    """A list page: `{items: [...], meta: {page, page_size, total, total_pages}}`."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._body = template(f"{stream}_list")
        self._items: list = []
        self._meta: Dict[str, Any] = {"page": 1, "page_size": PAGE_SIZE, "total": None, "total_pages": 1}

    def with_record(self, record: RecordBuilder) -> "ListResponseBuilder":
        self._items.append(record.build())
        return self

    def with_ids(self, record_ids: Iterable[str]) -> "ListResponseBuilder":
        for record_id in record_ids:
            self.with_record(list_item(self._stream, record_id))
        return self

    def with_pagination(self, page: int, total_pages: int, total: int) -> "ListResponseBuilder":
        self._meta.update(page=page, total_pages=total_pages, total=total)
        return self

    def build(self) -> HttpResponse:
        self._body["items"] = self._items
        self._body["meta"] = {**self._body["meta"], **self._meta}
        if self._body["meta"]["total"] is None:
            self._body["meta"]["total"] = len(self._items)
        return _json_response(self._body)


class DetailResponseBuilder:
    """The whole record, as Get <stream> answers it."""

    def __init__(self, stream: str) -> None:
        self._body = template(f"{stream}_detail")

    def with_id(self, record_id: str) -> "DetailResponseBuilder":
        self._body["id"] = record_id
        return self

    def with_field(self, name: str, value: Any) -> "DetailResponseBuilder":
        self._body[name] = value
        return self

    @property
    def record(self) -> Dict[str, Any]:
        """The record this response should become, field for field."""
        return copy.deepcopy(self._body)

    def build(self) -> HttpResponse:
        return _json_response(self._body)


class ErrorResponseBuilder:
    """`{error_code, error_message, status_code}` with the documented HTTP status."""

    def __init__(self, status_code: int, error_message: str) -> None:
        self._status_code = status_code
        self._body = template("error")
        self._body.update(error_code=ERROR_CODES[status_code], error_message=error_message, status_code=status_code)
        self._headers: Dict[str, str] = {}

    def with_retry_after(self, value: str) -> "ErrorResponseBuilder":
        self._headers["Retry-After"] = value
        return self

    def build(self) -> HttpResponse:
        return _json_response(self._body, self._status_code, self._headers)


def list_response(
    stream: str, record_ids: Iterable[str], page: int = 1, total_pages: int = 1, total: Optional[int] = None
) -> HttpResponse:
    record_ids = list(record_ids)
    return (
        ListResponseBuilder(stream)
        .with_ids(record_ids)
        .with_pagination(page=page, total_pages=total_pages, total=len(record_ids) if total is None else total)
        .build()
    )


def detail_response(stream: str, record_id: str) -> HttpResponse:
    return DetailResponseBuilder(stream).with_id(record_id).build()


def unauthorized_response() -> HttpResponse:
    return ErrorResponseBuilder(401, "Invalid or expired API key").build()


def missing_scope_response(scope: str) -> HttpResponse:
    return ErrorResponseBuilder(403, f"Missing scope {scope}").build()


def not_found_response() -> HttpResponse:
    return ErrorResponseBuilder(404, "Resource not found").build()


def rate_limited_response(retry_after: str) -> HttpResponse:
    return ErrorResponseBuilder(429, "Rate limit exceeded").with_retry_after(retry_after).build()


def server_error_response(status_code: int = 502) -> HttpResponse:
    return ErrorResponseBuilder(status_code, "Upstream failed").build()


def truncated_response(full: HttpResponse) -> HttpResponse:
    """The first half of a 200 body, as a connection cut mid-transfer leaves it."""
    body = full.body if isinstance(full.body, bytes) else full.body.encode("utf-8")
    return HttpResponse(body=body[: len(body) // 2], status_code=200, headers=dict(full.headers))
