"""Paging a list by `meta`, and stopping early only when the pages themselves prove it safe."""

from dataclasses import InitVar, dataclass, field
from typing import Any, List, Mapping, Optional

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.types import Config, Record, StreamSlice

PAGE_SIZE = 100


@dataclass
class NewestFirstPagination(PaginationStrategy):
    """Next page from `meta`; stops at the cursor once every page so far was newest first.

    A list read newest first can stop at the first record older than where the last sync
    settled (the slice's start_time), so a daily sync reads one page. That is only safe if the
    list really is in that order: transcripts are documented so, reports promise nothing. So
    each page is checked, and so is the seam between pages; one record out of order and this
    list is read to its end, as if no order existed.

    <- page 1 created_at [10:05, 10:01, 09:58], slice start 10:00, in order  -> None (stop)
    <- page 1 created_at [10:05, 09:58, 10:01], slice start 10:00            -> 2 (read on)
    <- meta {page: 3, total_pages: 3}                                         -> None (last page)
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str = "created_at"
    _in_order: bool = field(init=False, default=True)
    _last_value: Optional[str] = field(init=False, default=None)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.cursor_field = parameters.get("cursor_field", self.cursor_field)

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def get_page_size(self) -> Optional[int]:
        return PAGE_SIZE

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        body = response.json()
        meta = body.get("meta") or {}
        page, total_pages = meta.get("page"), meta.get("total_pages")
        if not isinstance(page, int) or not isinstance(total_pages, int) or page >= total_pages:
            return None
        if page == 1:  # a new read of the list: nothing proven yet
            self._in_order, self._last_value = True, None
        values = [item.get(self.cursor_field) for item in body.get("items") or [] if isinstance(item, dict)]
        self._note_order(values)
        start = (stream_slice or {}).get("start_time")
        if self._in_order and start and values and isinstance(values[-1], str) and values[-1] < start:
            return None
        return page + 1

    def _note_order(self, values: List[Any]) -> None:
        for value in values:
            if not isinstance(value, str) or (self._last_value is not None and value > self._last_value):
                self._in_order = False
            if isinstance(value, str):
                self._last_value = value

    def reset(self, reset_value: Optional[Any] = None) -> None:
        self._in_order, self._last_value = True, None
