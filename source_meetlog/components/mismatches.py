"""Records that differ from the documented shape still flow as they came; the difference is told once."""

import json
import logging
import threading
from dataclasses import InitVar, dataclass
from importlib import resources
from typing import Any, Dict, Mapping, Optional, Set, Tuple

from jsonschema import Draft7Validator, FormatChecker

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_meetlog.core.timestamps import parse_cursor_value

logger = logging.getLogger("airbyte")

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
        schema = json.loads(resources.files("source_meetlog").joinpath("schemas").joinpath(f"{self.name}.json").read_text())
        self._validator = Draft7Validator(schema, format_checker=_DATE_TIMES)
        self._reported: Set[Tuple[str, str]] = set()
        self._lock = threading.Lock()  # records of one stream are transformed on several threads

    def transform(self, record: Dict[str, Any], config: Optional[Config] = None,
                  stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None) -> None:
        fetched_as = (stream_slice.partition if stream_slice else {}).get("id")
        if record.get("id") is None and fetched_as:
            record["id"] = fetched_as
            self._report_once("id", "missing", f"The '{self.name}' record {fetched_as} came without its id; "
                                               "it was taken from the URL the record was fetched from.")
        for error in self._validator.iter_errors(record):
            field = ".".join(str(part) for part in error.absolute_path) or "(record)"
            if error.validator == "format":
                problem = f"{field} {str(error.instance)[:40]!r}, which is not a date-time"
            elif error.validator == "type":
                problem = f"{field} as {_json_type(error.instance)} where Meetlog documents {_documented(error.validator_value)}"
            else:
                problem = f"{field} that breaks the documented shape: {error.message[:80]}"
            self._report_once(field, error.validator, (
                f"The '{self.name}' record {record.get('id')} has {problem}. It is kept as sent (destinations may "
                "load the value as null); further records with this mismatch are not reported in this sync."
            ))

    def _report_once(self, field: str, kind: str, message: str) -> None:
        with self._lock:
            if (field, kind) in self._reported:
                return
            self._reported.add((field, kind))
        logger.warning(message)
