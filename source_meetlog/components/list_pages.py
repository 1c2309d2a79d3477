"""List pages: their items, each marked with where it was listed, so that the router can tell paging
drift, the end of a page (where it may stop reading), and the end of the list."""

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.sources.declarative.decoders import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor

# Never reach a destination: list records only name the details to fetch.
LIST_TOTAL_FIELD = "_meetlog_list_total"
# The page an item came from, and how many the list has: progress is committed a page at a time,
# and a list read to its last page names every record (fetch_plan.py).
LIST_PAGE_FIELD = "_meetlog_list_page"
LIST_PAGES_FIELD = "_meetlog_list_pages"
# On the last item of each page: the router may stop before the next page is requested.
LAST_ON_PAGE_FIELD = "_meetlog_last_on_page"
# Stands for a page whose `items` is not a list while meta.total promises records.
PAGE_WITHOUT_ITEMS = "_meetlog_page_without_items"
# Stands for a page past the list's end: records were deleted while it was paged, and its total tells.
PAGE_PAST_THE_END = "_meetlog_page_past_the_end"


@dataclass
class ListPageExtractor(RecordExtractor):
    """<- {"items": [{"id": "a"}, {"id": "b"}], "meta": {"total": 137, …}}
    -> {"id": "a", "_meetlog_list_total": 137, "_meetlog_list_page": 1, "_meetlog_list_pages": 2,
        "_meetlog_last_on_page": false}, {"id": "b", …, "_meetlog_last_on_page": true}

    Records are added or deleted while a long list is paged (page drift): a changed total is
    how the partition router learns it must read the list again so that nothing is skipped.

    <- {"items": null, "meta": {"page": 2, "total": 137, …}}
    -> {"_meetlog_page_without_items": 2, "_meetlog_list_total": 137}   (the router reports it)
    <- {"items": [], "meta": {"page": 4, "total": 6, "total_pages": 3}}   (deletions shrank the list)
    -> {"_meetlog_page_past_the_end": 4, "_meetlog_list_total": 6}      (the router reads the list again)
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
            items = [item for item in items if isinstance(item, dict)]
            if not items and total:  # asked for because the page before said so: the list shrank meanwhile
                yield {PAGE_PAST_THE_END: page, LIST_TOTAL_FIELD: total}
            for position, item in enumerate(items, start=1):
                item[LIST_TOTAL_FIELD] = total
                item[LIST_PAGE_FIELD] = page
                item[LIST_PAGES_FIELD] = pages
                item[LAST_ON_PAGE_FIELD] = position == len(items)
                yield item


def without_list_fields(item: Optional[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """A list item as Meetlog served it, without the marks above."""
    return {k: v for k, v in item.items() if k not in _LIST_FIELDS} if item is not None else None


_LIST_FIELDS = frozenset({LIST_TOTAL_FIELD, LIST_PAGE_FIELD, LIST_PAGES_FIELD, LAST_ON_PAGE_FIELD})
