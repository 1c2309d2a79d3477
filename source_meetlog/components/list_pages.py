"""List pages: their items, each marked with where it was listed (ListPageExtractor), and when the
newest-first transcripts list may stop paging (NewestFirstPagination)."""

from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.sources.declarative.decoders import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_meetlog.core.timestamps import parse_cursor_value

# Never reach a destination: list records only name the details to fetch.
LIST_TOTAL_FIELD = "_meetlog_list_total"
# The page an item came from, and how many the list has: progress is committed a page at a time,
# and a list read to its last page names every record (fetch_plan.py).
LIST_PAGE_FIELD = "_meetlog_list_page"
LIST_PAGES_FIELD = "_meetlog_list_pages"
# Stands for a page whose `items` is not a list while meta.total promises records.
PAGE_WITHOUT_ITEMS = "_meetlog_page_without_items"


@dataclass
class ListPageExtractor(RecordExtractor):
    """<- {"items": [{"id": "a"}, {"id": "b"}], "meta": {"total": 137, …}}
    -> {"id": "a", "_meetlog_list_total": 137, "_meetlog_list_page": 1, "_meetlog_list_pages": 2}, {"id": "b", …}

    Records are added or deleted while a long list is paged (page drift): a changed total is
    how the partition router learns it must read the list again so that nothing is skipped.

    <- {"items": null, "meta": {"page": 2, "total": 137, …}}
    -> {"_meetlog_page_without_items": 2, "_meetlog_list_total": 137}   (the router reports it)
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._decoder = JsonDecoder(parameters={})

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self._decoder.decode(response):
            if not isinstance(body, dict):
                continue
            meta = body.get("meta")
            total = meta.get("total") if isinstance(meta, dict) else None
            items = body.get("items")
            if not isinstance(items, list):
                if total != 0:  # records were promised and none can be read: the router must know
                    yield {PAGE_WITHOUT_ITEMS: meta.get("page") if isinstance(meta, dict) else None,
                           LIST_TOTAL_FIELD: total}
                continue
            page = meta.get("page") if isinstance(meta, dict) else None
            pages = meta.get("total_pages") if isinstance(meta, dict) else None
            for item in items:
                if isinstance(item, dict):
                    item[LIST_TOTAL_FIELD] = total
                    item[LIST_PAGE_FIELD] = page
                    item[LIST_PAGES_FIELD] = pages
                    yield item

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
