"""Incremental PyAirbyte syncs into one DuckDB cache, one each time the test asks: a subprocess that
imports PyAirbyte once (~10-25 s) for all of them, driven through stdin and stdout.

    python -m integration_tests.pyairbyte_syncs CONFIG EXECUTABLE DATABASE FOLDER STREAM...

For each line `sync` on stdin it reads the streams into the cache (incremental, with the state
PyAirbyte keeps in the cache), writes every table's rows to FOLDER/sync-<n>.json, and prints
`@@ synced <n> <path>` (PyAirbyte prints its own lines too). Rows are {column: value}; a DuckDB
date-time is {"$datetime": ISO 8601}, a DECIMAL {"$decimal": text}, JSON columns their text.
`rows_of` in the test reads them back.
"""

import json
import os
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

SYNCED = "@@ synced"


def _cell(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON")


def main(argv) -> None:
    config_path, executable, database, folder, *streams = argv
    os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # not in Airbyte's registry: nothing to download
    import airbyte as ab
    from airbyte.caches import DuckDBCache

    source = ab.get_source("source-meetlog", config=json.loads(Path(config_path).read_text()),
                           local_executable=executable)
    source.select_streams(streams)
    cache = DuckDBCache(db_path=database, schema_name="main")
    for number, command in enumerate(sys.stdin, start=1):
        if command.strip() != "sync":
            raise SystemExit(f"unknown command {command!r}")
        source.read(cache=cache)
        tables = {stream: cache.run_sql_query(f"SELECT * FROM main.{stream}") for stream in streams}
        path = Path(folder) / f"sync-{number}.json"
        path.write_text(json.dumps(tables, default=_cell, ensure_ascii=False))
        print(f"{SYNCED} {number} {path}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
