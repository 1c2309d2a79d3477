"""Records and list pages that differ from the documented shape still flow as they came; the difference
is told once a sync: a record's field (ReportMismatches), a list item without an id or a date-time
cursor, one stamped ahead of now, a page without its items (ListMismatches)."""

import logging
import threading
from dataclasses import InitVar, dataclass
from datetime import timedelta
from typing import Any, Dict, Hashable, Mapping, Optional, Set

from jsonschema import Draft7Validator, FormatChecker

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_meetlog.core.declared import schema
from source_meetlog.core.timestamps import format_cursor_value, parse_cursor_value, utc_now

logger = logging.getLogger("airbyte")

# A record stamped further ahead than this is told once: the server's clock may run a little ahead.
FUTURE_TOLERANCE = timedelta(days=1)

_DATE_TIMES = FormatChecker(formats=())
_DATE_TIMES.checks("date-time")(lambda value: not isinstance(value, str) or parse_cursor_value(value) is not None)

_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


_SCHEMA_TYPES = {"object": "an object", "array": "an array", "string": "a string", "boolean": "a boolean",
                 "integer": "an integer", "number": "a number"}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _documented(schema_type: Any) -> str:
    """["null", "integer"] -> 'an integer'; null is allowed everywhere, so it goes unsaid."""
    types = [schema_type] if isinstance(schema_type, str) else list(schema_type)
    return " or ".join(_SCHEMA_TYPES.get(t, t) for t in types if t != "null") or "null"


class TellOnce:
    """A warning for each kind of mismatch, once a sync: records of a stream arrive on several threads."""

    def __init__(self) -> None:
        self._told: Set[Hashable] = set()
        self._lock = threading.Lock()

    def __call__(self, kind: Hashable, message: str) -> None:
        with self._lock:
            if kind in self._told:
                return
            self._told.add(kind)
        logger.warning(message)


@dataclass
class ReportMismatches(RecordTransformation):
    """A warning the first time, in a sync, that a stream's records disagree with its schema on a field.

    <- transcripts record {"id": "f3c8…", "duration_seconds": "1842s"}
    -> the same record, and once: "The 'transcripts' record f3c8… has duration_seconds as a string
       where Meetlog documents integer, null; …"

    The value is kept as sent: a destination that cannot type it loads it as null or fails
    loudly, and either is better than a record that silently never arrives. The one repair is a
    missing id, taken from the URL the record was fetched from: without it no destination could
    deduplicate the record.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""  # the stream, from its $parameters in manifest.yaml (the CDK copies it here)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._validator = Draft7Validator(schema(self.name), format_checker=_DATE_TIMES)
        self._report_once = TellOnce()

    def transform(self, record: Dict[str, Any], config: Optional[Config] = None,
                  stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None) -> None:
        fetched_as = (stream_slice.partition if stream_slice else {}).get("id")
        if record.get("id") is None and fetched_as:
            record["id"] = fetched_as
            self._report_once(("id", "missing"), f"The '{self.name}' record {fetched_as} came without its id; "
                                               "it was taken from the URL the record was fetched from.")
        for error in self._validator.iter_errors(record):
            field = ".".join(str(part) for part in error.absolute_path) or "(record)"
            if error.validator == "format":
                problem = f"{field} {str(error.instance)[:40]!r}, which is not a date-time"
            elif error.validator == "type":
                problem = f"{field} as {_json_type(error.instance)} where Meetlog documents {_documented(error.validator_value)}"
            else:
                problem = f"{field} that breaks the documented shape: {error.message[:80]}"
            self._report_once((field, error.validator), (
                f"The '{self.name}' record {record.get('id')} has {problem}. It is kept as sent (destinations may "
                "load the value as null); further records with this mismatch are not reported in this sync."
            ))


class ListMismatches:
    """What is off in one stream's list pages, told once a sync for each kind (the router reads the list)."""

    def __init__(self, stream: str, cursor_field: str) -> None:
        self._stream, self._cursor_field = stream, cursor_field
        self._report_once = TellOnce()

    def page_without_items(self, page: Any, total: Any) -> None:
        self._report_once("items", f"Page {page} of the '{self._stream}' list came without its items although its "
                          f"meta.total is {total}: the records on it are missed by this sync, and the stream's cursor "
                          "stays where the last sync left it, so the next sync reads them.")

    def odd_item(self, item: Mapping[str, Any], record_id: Any, cursor_value: Any) -> None:
        """Meetlog documents an id and a date-time cursor on every item; say so when one is not."""
        stream, cursor_field = self._stream, self._cursor_field
        if record_id is None:
            self._report_once("id", f"A '{stream}' list item came without an id, so its detail cannot be fetched and "
                                    f"it is skipped ({cursor_field}: {str(item.get(cursor_field))[:40]}).")
        elif cursor_value is None:
            self._report_once(cursor_field, f"The '{stream}' list item {record_id} has {cursor_field} "
                                            f"{str(item.get(cursor_field))[:40]!r}, which is not a date-time: it is "
                                            "fetched on every sync until it reads as one.")
        elif cursor_value > utc_now() + FUTURE_TOLERANCE:
            self._report_once("future", f"The '{stream}' record {record_id} has {cursor_field} "
                                        f"{format_cursor_value(cursor_value)}, ahead of now: it is fetched on every "
                                        "sync until then, and the cursor does not follow it there.")
