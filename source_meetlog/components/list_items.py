"""A stream read from its list pages alone: its list items stand in for the detail answers.

When the user selected no column only the detail holds (core/selection.py), the router puts each list
item in its detail slice, and the requester answers the slice with it: no request is sent, and the
record is the item as Meetlog listed it.

slice {"id": "t1", extra_fields: {LISTED_FIELD: {"id": "t1", "title": "Standup", ...}}}
  -> a 200 response whose JSON body is that item
slice without an item -> None: the request is sent
"""

import io
from typing import Any, Mapping, Optional

import orjson
import requests

# A detail slice of a stream read from its list pages alone carries its list item here (router.py).
LISTED_FIELD = "meetlog_listed"


def list_item_answer(stream_slice: Optional[Any]) -> Optional[requests.Response]:
    item: Optional[Mapping[str, Any]] = stream_slice.extra_fields.get(LISTED_FIELD) if stream_slice else None
    if item is None:
        return None
    answer = requests.Response()
    answer.status_code = 200
    answer.headers["Content-Type"] = "application/json"
    answer.raw = io.BytesIO(orjson.dumps(item))
    return answer
