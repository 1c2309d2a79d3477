"""What a read's catalog decides: which streams are served from their list pages alone, whether
transcripts keep their report_ids current, and whether two streams share answers.

Airbyte's column selection sends a catalog whose stream `json_schema.properties` holds only the
selected top-level columns, and drops every other field from the records anyway. A detail request
is only needed for a column that only the detail holds (manifest.yaml's `detail_fields`).

{"transcripts": {"id", "title"}}, detail fields {"transcripts": {"text", …}} -> list_only {"transcripts"}
{"transcripts": None}  (no properties, or empty ones: every column)          -> list_only set()
"""

from dataclasses import dataclass, field
from typing import Collection, FrozenSet, Mapping, Optional

from source_meetlog.core.declared import manifest, schema_columns

DELETED_AT_FIELD = "_ab_cdc_deleted_at"  # a deletion marker's: no row holds a value of it to send again
DETAIL_FIELDS = {
    name: frozenset(stream["$parameters"]["detail_fields"])
    for name, stream in manifest()["definitions"]["streams"].items()
    if "detail_fields" in stream.get("$parameters", {})
}


@dataclass(frozen=True)
class Selection:
    """What the catalog selected, as the components of one read need it (components/read_context.py)."""

    # Streams whose selected columns are all on the list pages: read without detail requests.
    list_only: FrozenSet[str] = frozenset()
    # The same, and those whose details are read anyway: their rows hold the list columns alone, so
    # selecting a detail column later must send every record again.
    list_columns_only: FrozenSet[str] = frozenset()
    # Whether transcripts read the reports list for their report_ids (core/links.py): only when the
    # read syncs both, transcripts incrementally and with their details.
    links_reports: bool = False
    # Streams whose every record's detail the read fetches anyway (projects, beside project_transcripts).
    details_read_anyway: FrozenSet[str] = frozenset()
    # Whether two streams read the same URLs (components/shared_answers.py); elsewhere nothing is kept.
    shares_answers: bool = False
    # Each stream's selected columns, where not every one is (a deletion marker's field aside): the state
    # remembers them, so that a column selected later sends every record again (core/decision.py).
    columns: Mapping[str, FrozenSet[str]] = field(default_factory=dict)


def selection_of(columns: Mapping[str, Optional[Collection[str]]], incremental: Collection[str] = ()) -> Selection:
    """`columns`: each stream read -> its selected top-level columns, or None for all of them;
    `incremental`: the streams read incrementally."""
    # project_transcripts' rows are the projects' details: they are fetched anyway.
    details_read_anyway = frozenset({"projects"} if "project_transcripts" in columns else ())
    list_columns_only = frozenset(name for name, selected in columns.items()
                                  if selected is not None and name in DETAIL_FIELDS and not set(selected) & DETAIL_FIELDS[name])
    list_only = list_columns_only - details_read_anyway
    # A full refresh fetches every transcript anyway; a list-only one sends no report_ids.
    links = {"transcripts", "reports"} <= columns.keys() and "transcripts" in incremental and "transcripts" not in list_only
    partial = {name: frozenset(selected) - {DELETED_AT_FIELD} for name, selected in columns.items()
               if selected is not None and not schema_columns(name) <= set(selected)}
    return Selection(list_only, list_columns_only, links, details_read_anyway,
                     shares_answers=links or {"projects", "project_transcripts"} <= columns.keys(), columns=partial)
