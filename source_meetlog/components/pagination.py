"""Paging the newest-first transcripts list by `meta`, stopping at the cursor only when the pages prove it safe."""

from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, List, Mapping, Optional

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_meetlog.components.cursor_values import parse_cursor_value

PAGE_SIZE = 100


@dataclass
class NewestFirstPagination(PaginationStrategy):
    """Next page from `meta`; stops at the cursor while the pages are newest first, as documented.

    A list read newest first can stop at the first record older than where the last sync
    settled (the slice's start_time), so a daily sync reads one page. Only transcripts are
    documented in that order. Even then each page, and the seam between pages, is checked: one
    record out of order and the list is read to its end. With reconcile_deletions every id must
    be seen, so the list is read to its end too. (Lists with no documented order, reports and
    projects, take the manifest's stock list_paginator: a first page that happens to be in order
    says nothing of the pages after it.)

    <- page 1 created_at [10:05, 10:01, 09:58], slice start 10:00, in order  -> None (stop)
    <- page 1 created_at [10:05, 09:58, 10:01], slice start 10:00            -> 2 (read on)
    <- meta {page: 3, total_pages: 3}                                         -> None (last page)
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str = "created_at"
    _in_order: bool = field(init=False, default=True)
    _last_value: Optional[datetime] = field(init=False, default=None)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.cursor_field = parameters.get("cursor_field", self.cursor_field)
        # Reconciling deletions needs every id listed, so the whole list is read then.
        self._stops_at_cursor = not self.config.get("reconcile_deletions")

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
        if not self._stops_at_cursor:
            return page + 1
        values = [parse_cursor_value(item.get(self.cursor_field)) for item in body.get("items") or [] if isinstance(item, dict)]
        self._note_order(values)
        start = parse_cursor_value((stream_slice or {}).get("start_time"))
        if self._in_order and start and values and values[-1] is not None and values[-1] < start:
            return None
        return page + 1

    def _note_order(self, values: List[Optional[datetime]]) -> None:
        for value in values:
            if value is None or (self._last_value is not None and value > self._last_value):
                self._in_order = False
            if value is not None:
                self._last_value = value

    def reset(self, reset_value: Optional[Any] = None) -> None:
        self._in_order, self._last_value = True, None
