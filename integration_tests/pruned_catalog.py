"""Configured catalogs pruned the way the Airbyte platform prunes them for column selection (issue #20).

    discovered = discover_streams(config)                      # {stream: its entry of `discover`'s CATALOG}
    catalog = pruned_catalog(discovered, {"transcripts": list_columns(discovered, "transcripts"),
                                          "project_transcripts": None}, "incremental")
    write_catalog(tmp_path / "catalog.json", catalog)          # for `source-meetlog read --catalog`

What the platform does (airbyte-platform, CatalogConverter.toConfiguredProtocol): with field selection
on, it finds the stream's top-level `json_schema.properties` and keeps ("retain") only the selected
top-level fields there, in the discovered order; the rest of the stream entry goes to the connector
as discovered (`required`, `$schema`, `additionalProperties`, sync modes, keys). It refuses a
selection without the cursor field in incremental mode, and one without the primary key in a dedup
mode. With field selection off, the entry is sent as discovered. It then drops the unselected
fields from the records themselves (`platform_view`), whatever the connector emits.

Fields the API serves only in a record's detail (GET /api/v1/export/<stream>/{id}), not in its list
item, are DETAIL_ONLY; `list_columns` is every discovered column but those.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Union

REPO = Path(__file__).resolve().parent.parent
COMMAND_TIMEOUT_SECONDS = 120

DETAIL_ONLY: Dict[str, tuple] = {
    "transcripts": ("text", "summary", "file_size_mb", "report_ids"),
    "reports": ("content",),
    "projects": ("transcripts",),
    # Every row of project_transcripts comes from a project's detail: selected at all, it needs them.
    "project_transcripts": (),
}


class PlatformRefusal(ValueError):
    """A selection the platform itself refuses to save (the message is the platform's)."""


# ------------------------------------------------------------------------------------ discover


def console_script() -> str:
    """The `source-meetlog` installed beside the running interpreter (the venv's)."""
    script = Path(sys.executable).parent / "source-meetlog"
    assert script.exists(), f"the console script source-meetlog is not installed beside {sys.executable}"
    return str(script)


def connector_env() -> Dict[str, str]:
    """The environment the console script runs in: this checkout's source_meetlog first on the path."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(REPO) + (os.pathsep + path if path else "")}


def discover_streams(config: Mapping, in_process: bool = False) -> Dict[str, dict]:
    """Each stream's entry of the CATALOG that `discover` prints, by name, as JSON (dicts).

    By default through the console script, as the platform runs it; `in_process` asks SourceMeetlog
    directly (faster, same answer)."""
    if in_process:
        import logging

        from airbyte_cdk.entrypoint import AirbyteEntrypoint
        from airbyte_cdk.models import AirbyteMessage, Type

        from source_meetlog import SourceMeetlog

        catalog = SourceMeetlog(config=config).discover(logging.getLogger("discover"), config)
        line = AirbyteEntrypoint.airbyte_message_to_string(AirbyteMessage(type=Type.CATALOG, catalog=catalog))
        return {stream["name"]: stream for stream in json.loads(line)["catalog"]["streams"]}
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(dict(config)))
        finished = subprocess.run(
            [console_script(), "discover", "--config", str(config_path)],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, cwd=REPO, env=connector_env(),
        )
    catalogs = [m["catalog"] for m in map(json.loads, filter(str.strip, finished.stdout.splitlines())) if m["type"] == "CATALOG"]
    assert finished.returncode == 0 and len(catalogs) == 1, f"discover: exit {finished.returncode}\n{finished.stderr[-2000:]}"
    return {stream["name"]: stream for stream in catalogs[0]["streams"]}


# ------------------------------------------------------------------------------------ selections


def columns(discovered: Mapping[str, dict], stream: str) -> list:
    """Every top-level column `discover` offers for `stream`, in its order."""
    return list(discovered[stream]["json_schema"]["properties"])


def list_columns(discovered: Mapping[str, dict], stream: str) -> list:
    """Every column but the detail-only ones: what a user who wants no detail request selects."""
    return [name for name in columns(discovered, stream) if name not in DETAIL_ONLY[stream]]


def with_columns(discovered: Mapping[str, dict], stream: str, *extra: str) -> list:
    """The list columns and `extra` (detail-only columns), in the discovered order."""
    chosen = set(list_columns(discovered, stream)) | set(extra)
    return [name for name in columns(discovered, stream) if name in chosen]


# ------------------------------------------------------------------------------------ the catalog

Mode = Union[str, Mapping[str, str]]


def configured_stream(entry: dict, fields: Optional[Iterable[str]], sync_mode: str,
                      destination_sync_mode: Optional[str] = None) -> dict:
    """One configured stream: the discovered `entry` with only `fields` left in json_schema.properties
    (None: all of them, field selection off), in `sync_mode` ("full_refresh" | "incremental"; a stream
    without incremental gets full_refresh) and `destination_sync_mode` (default: append_dedup for
    incremental, overwrite for full refresh)."""
    stream = copy.deepcopy(entry)
    if sync_mode not in stream["supported_sync_modes"]:
        sync_mode = "full_refresh"
    destination_sync_mode = destination_sync_mode or ("append_dedup" if sync_mode == "incremental" else "overwrite")
    cursor_field = list(stream.get("default_cursor_field") or []) if sync_mode == "incremental" else []
    primary_key = [list(part) for part in stream.get("source_defined_primary_key") or []]
    if fields is not None:
        selected = list(fields)
        properties = stream["json_schema"]["properties"]
        unknown = [name for name in selected if name not in properties]
        if unknown:  # the platform logs and goes on; here it is a typo in a test
            raise KeyError(f"{stream['name']} has no column {unknown}; discover offers {list(properties)}")
        if sync_mode == "incremental" and cursor_field and cursor_field[0] not in selected:
            raise PlatformRefusal("Cursor field cannot be de-selected in INCREMENTAL syncs")
        if destination_sync_mode in ("append_dedup", "overwrite_dedup") and any(key[0] not in selected for key in primary_key):
            raise PlatformRefusal("Primary key field cannot be de-selected in DEDUP mode")
        stream["json_schema"]["properties"] = {name: value for name, value in properties.items() if name in selected}
    return {
        "stream": stream,
        "sync_mode": sync_mode,
        "destination_sync_mode": destination_sync_mode,
        "cursor_field": cursor_field,
        "primary_key": primary_key,
    }


def pruned_catalog(discovered: Mapping[str, dict], selection: Mapping[str, Optional[Iterable[str]]], mode: Mode,
                   destination_sync_mode: Optional[Mapping[str, str]] = None) -> dict:
    """A configured catalog (JSON) of the streams in `selection`, each pruned to its selected columns
    (None: every column, as discovered). `mode` is one sync mode for all, or one per stream;
    `destination_sync_mode` optionally one per stream."""
    entries = []
    for name, fields in selection.items():
        stream_mode = mode if isinstance(mode, str) else mode[name]
        entries.append(configured_stream(discovered[name], fields, stream_mode, (destination_sync_mode or {}).get(name)))
    return {"streams": entries}


def write_catalog(path: Path, catalog: Mapping) -> Path:
    path.write_text(json.dumps(catalog, ensure_ascii=False))
    return path


def selected_columns(catalog: Mapping, stream: str) -> Optional[set]:
    """The columns the platform keeps of `stream`'s records: its json_schema.properties, or None
    (keeps everything) when the schema has no properties to select from."""
    for entry in catalog["streams"]:
        if entry["stream"]["name"] == stream:
            properties = entry["stream"]["json_schema"].get("properties")
            return set(properties) if properties else None
    raise KeyError(stream)


def platform_view(record: Mapping, catalog: Mapping, stream: str) -> dict:
    """A record as the platform passes it on: without the fields the catalog does not select."""
    keep = selected_columns(catalog, stream)
    return dict(record) if keep is None else {name: value for name, value in record.items() if name in keep}
