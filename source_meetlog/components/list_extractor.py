"""Items of a list page, each marked with the page's `meta.total`, so paging drift shows."""

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, MutableMapping

import requests

from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.decoders import JsonDecoder

# Never reaches a destination: list records only name the details to fetch.
LIST_TOTAL_FIELD = "_meetlog_list_total"


@dataclass
class ListPageExtractor(RecordExtractor):
    """<- {"items": [{"id": "a"}, {"id": "b"}], "meta": {"total": 137, …}}
    -> {"id": "a", "_meetlog_list_total": 137}, {"id": "b", "_meetlog_list_total": 137}

    Records are added or deleted while a long list is paged (page drift): a changed total is
    how the partition router learns it must read the list again so that nothing is skipped.
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
            for item in body.get("items") or []:
                if isinstance(item, dict):
                    item[LIST_TOTAL_FIELD] = total
                    yield item
