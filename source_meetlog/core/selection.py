"""Which streams a read serves from their list pages alone: those whose selected columns are all there.

Airbyte's column selection sends a catalog whose stream `json_schema.properties` holds only the
selected top-level columns, and drops every other field from the records anyway. A detail request
is only needed for a column that only the detail holds (manifest.yaml's `detail_fields`).

{"transcripts": {"id", "title"}}, detail fields {"transcripts": {"text", …}} -> {"transcripts"}
{"transcripts": None}  (no properties, or empty ones: every column)          -> set()
"""

from typing import Collection, FrozenSet, Mapping, Optional

from source_meetlog.core.declared import manifest

DETAIL_FIELDS = {
    name: frozenset(stream["$parameters"]["detail_fields"])
    for name, stream in manifest()["definitions"]["streams"].items()
    if "detail_fields" in stream.get("$parameters", {})
}


def list_only_streams(selected: Mapping[str, Optional[Collection[str]]]) -> FrozenSet[str]:
    """`selected`: each stream read -> its selected top-level columns, or None for all of them."""
    list_only = {name for name, columns in selected.items()
                 if columns is not None and name in DETAIL_FIELDS and not set(columns) & DETAIL_FIELDS[name]}
    if "project_transcripts" in selected:
        list_only.discard("projects")  # its rows are the projects' details: they are fetched anyway
    return frozenset(list_only)
