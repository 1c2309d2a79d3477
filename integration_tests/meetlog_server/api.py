"""The documented Export API behaviour, apart from HTTP plumbing: request in, Response out.

Checks run in this order, each answering with the documented error:
  1. a path outside /api/              -> 404 (no key needed, like a static site)
  2. the key (missing, malformed, unknown, revoked, expired) -> 401
  3. the key's rate limit              -> 429 + Retry-After
     Every request from an active key counts, whatever it is answered; requests rejected with 401
     do not, as there is no valid key to charge them to.
  4. a method other than GET           -> 405
  5. /api/ but not /api/v1/export/     -> 403 ("used on a non-export endpoint")
  6. an unknown export path            -> 404
  7. the scope                         -> 403 "Missing scope export:<resource>"
  8. bad page / page_size              -> 400 BAD_REQUEST; page_size above 100 is clamped to 100
     (or to a test's max_page_size, so that a small account still pages)
  9. a detail owned by another account -> 404, the same body as a missing one
"""

from __future__ import annotations

import re
from typing import Callable

from .dataset import Dataset
from .keys import KeyRing
from .rate_limit import SlidingWindowLimiter, retry_after_header
from .responses import ApiError, Response, json_response

EXPORT_PREFIX = "/api/v1/export/"
_EXPORT_ROUTE = re.compile(r"^/api/v1/export/(?P<resource>transcripts|reports|projects)(?:/(?P<id>[^/]+))?$")
_INTEGER = re.compile(r"-?[0-9]+")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


class ExportApi:
    def __init__(self, dataset: Dataset, keys: KeyRing, limiter: SlidingWindowLimiter,
                 retry_after_format: str, wall_clock: Callable[[], float], max_page_size: int | None = None):
        self.dataset = dataset
        self.max_page_size = max_page_size  # a test-only cap below the API's 100, so that small accounts still page
        self.keys = keys
        self.limiter = limiter
        self.retry_after_format = retry_after_format
        self.wall_clock = wall_clock

    def respond(self, method: str, path: str, query: dict[str, str], authorization: str | None) -> Response:
        try:
            return self._respond(method, path, query, authorization)
        except ApiError as error:
            return error.response()

    def retry_after(self, wait_seconds: float, retry_after_format: str | None = None) -> str:
        return retry_after_header(wait_seconds, retry_after_format or self.retry_after_format, self.wall_clock)

    def _respond(self, method: str, path: str, query: dict[str, str], authorization: str | None) -> Response:
        if not path.startswith("/api/"):
            raise ApiError(404, "NOT_FOUND", "Not found")
        api_key = self.keys.authenticate(authorization)
        wait = self.limiter.admit(api_key.label)
        if wait is not None:
            limit = f"{self.limiter.requests_per_window} requests per {self.limiter.window_seconds:g} seconds"
            raise ApiError(429, "TOO_MANY_REQUESTS", f"Rate limit exceeded for the API key: {limit}",
                           {"Retry-After": self.retry_after(wait)})
        if method != "GET":
            raise ApiError(405, "METHOD_NOT_ALLOWED", "The Export API is read-only: use GET")
        if not path.startswith(EXPORT_PREFIX):
            raise ApiError(403, "FORBIDDEN", "API keys can only be used on export endpoints")
        route = _EXPORT_ROUTE.match(path)
        if route is None:
            raise ApiError(404, "NOT_FOUND", "Unknown export endpoint")
        resource, id = route.group("resource"), route.group("id")
        scope = f"export:{resource}"
        if scope not in api_key.scopes:
            raise ApiError(403, "FORBIDDEN", f"Missing scope {scope}")
        if id is not None:
            return self._detail(resource, id, api_key.account)
        return self._list(resource, query, api_key.account)

    def _detail(self, resource: str, id: str, account: str) -> Response:
        found = self.dataset.detail(resource, id, account)
        if found is None:
            # One message for missing and foreign alike, so nothing leaks about other accounts.
            raise ApiError(404, "NOT_FOUND", f"{resource[:-1].capitalize()} not found")
        return json_response(found)

    def _list(self, resource: str, query: dict[str, str], account: str) -> Response:
        page = _positive_int(query, "page", 1)
        page_size = min(_positive_int(query, "page_size", DEFAULT_PAGE_SIZE), self.max_page_size or MAX_PAGE_SIZE)
        items, total = self.dataset.page(resource, account, page, page_size)
        meta = {"page": page, "page_size": page_size, "total": total, "total_pages": -(-total // page_size)}
        return json_response({"items": items, "meta": meta})


def _positive_int(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):  # int() alone would accept " 2", "+2" and "1_0"
        raise ApiError(400, "BAD_REQUEST", f"{name} must be an integer")
    if int(raw) < 1:
        raise ApiError(400, "BAD_REQUEST", f"{name} must be >= 1")
    return int(raw)
