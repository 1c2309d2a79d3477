"""Records as the local Meetlog API served them, and every way emitted records differ from them.

    expected = served_records(server)                     # {stream: {key: the detail answer}}
    differences(printed_records, expected)                # [] when every key and value is as served

A record equals its detail answer key by key: a key the API sent as null must be there as null
(absent is not null), a key the API did not send must not be there, and values compare as JSON
(1 is not 1.0, True is not 1). project_transcripts' rows are the projects' `transcripts[*]` entries,
with the entry's `id` as `transcript_id` and the project's as `project_id`.
"""

import json
from collections import Counter
from typing import Dict, Hashable, Iterable, List, Mapping

from integration_tests.meetlog_server import Dataset, MeetlogServer, build_dataset

STREAMS = ("transcripts", "reports", "projects", "project_transcripts")
CURSORS = {"transcripts": "created_at", "reports": "created_at", "projects": "updated_at"}
Key = Hashable


def record_key(stream: str, record: Mapping) -> Key:
    if stream == "project_transcripts":
        return (record.get("project_id"), record.get("transcript_id"))
    return record.get("id")


def served_records(server: MeetlogServer, account: str = "acme") -> Dict[str, Dict[Key, dict]]:
    """Each stream's records as the detail endpoint answers them now, by primary key (`server`: anything with a .dataset)."""
    details = {stream: server.dataset.details(stream, account) for stream in ("transcripts", "reports", "projects")}
    rows = {
        (project["id"], entry["id"]): {
            **{field: value for field, value in entry.items() if field != "id"},
            "project_id": project["id"],
            "transcript_id": entry["id"],
        }
        for project in details["projects"]
        for entry in project["transcripts"]
    }
    return {**{stream: {d["id"]: d for d in answers} for stream, answers in details.items()}, "project_transcripts": rows}


def _as_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def differences(emitted: Mapping[str, Iterable[Mapping]], expected: Mapping[str, Mapping[Key, dict]]) -> List[str]:
    """One line per difference: a field missing, added or changed, a record missing, unknown or repeated."""
    found: List[str] = []
    for stream, by_key in expected.items():
        seen: Counter = Counter()
        for record in emitted.get(stream, ()):
            key = record_key(stream, record)
            seen[key] += 1
            if key not in by_key:
                found.append(f"{stream} {key}: emitted, but the server has no such record")
                continue
            served = by_key[key]
            for field in served.keys() - record.keys():
                found.append(f"{stream} {key}: {field!r} is missing; the API served {_as_json(served[field])[:60]}")
            for field in record.keys() - served.keys():
                found.append(f"{stream} {key}: {field!r} was not served; emitted {_as_json(record[field])[:60]}")
            for field in served.keys() & record.keys():
                if _as_json(record[field]) != _as_json(served[field]):
                    found.append(f"{stream} {key}: {field!r} is {_as_json(record[field])[:60]}, "
                                 f"served {_as_json(served[field])[:60]}")
        found += [f"{stream} {key}: served, never emitted" for key in by_key.keys() - seen.keys()]
        found += [f"{stream} {key}: emitted {count} times" for key, count in seen.items() if count > 1]
    found += [f"{stream}: records of a stream not expected" for stream in emitted.keys() - expected.keys() if emitted[stream]]
    return found


def null_fields(expected: Mapping[str, Mapping[Key, dict]]) -> Dict[str, int]:
    """How many top-level null values each stream's served records hold: what the comparison is about."""
    return {stream: sum(value is None for record in by_key.values() for value in record.values())
            for stream, by_key in expected.items()}


def describe(emitted: Mapping[str, Iterable[Mapping]], expected: Mapping[str, Mapping[Key, dict]]) -> str:
    """`382 records (transcripts 230, ...), 310 null fields, 0 differences`, or the first differences."""
    counts = {stream: len(list(emitted.get(stream, ()))) for stream in expected}
    found = differences(emitted, expected)
    text = (f"{sum(counts.values())} records ({', '.join(f'{s} {n}' for s, n in counts.items())}), "
            f"{sum(null_fields(expected).values())} null fields served, {len(found)} differences")
    return text + "".join(f"\n  {line}" for line in found[:20])


def dataset_with_every_kind_of_null(**sizes) -> Dataset:
    """build_dataset's edge cases (processing and failed transcripts, null source_url, a report
    still processing, a project without a description), plus one transcript of a project without
    a title, so that project_transcripts has a null field of its own to keep."""
    dataset = build_dataset(**sizes)
    project = next(p for p in dataset.details("projects") if p["transcripts"])
    dataset.update_transcript(project["transcripts"][-1]["id"], title=None)
    return dataset


def records_by_stream(messages: Iterable[Mapping]) -> Dict[str, List[dict]]:
    """The data of each RECORD among parsed protocol messages, by stream, in order."""
    found: Dict[str, List[dict]] = {}
    for message in messages:
        if message.get("type") == "RECORD":
            found.setdefault(message["record"]["stream"], []).append(message["record"]["data"])
    return found


def configured_catalog(mode: str, streams: Iterable[str] = STREAMS) -> dict:
    """A configured catalog as the platform writes it: every stream in `mode` (full_refresh |
    incremental) where it offers that mode; project_transcripts offers full refresh only."""

    def entry(name: str) -> dict:
        if name == "project_transcripts":
            key = [["project_id"], ["transcript_id"]]
            stream = {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"], "source_defined_primary_key": key}
            return {"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": key}
        cursor = [CURSORS[name]]
        stream = {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"],
                  "source_defined_cursor": True, "default_cursor_field": cursor, "source_defined_primary_key": [["id"]]}
        return {
            "stream": stream,
            "sync_mode": mode,
            "destination_sync_mode": "append_dedup" if mode == "incremental" else "overwrite",
            "cursor_field": cursor,
            "primary_key": [["id"]],
        }

    return {"streams": [entry(name) for name in streams]}
