"""Sync Meetlog into a local DuckDB file from Python, without Docker, with PyAirbyte.

    pip install -e '.[pyairbyte]'
    python examples/pyairbyte_to_duckdb.py --config secrets/config.json

PyAirbyte runs the installed `source-meetlog` console script, reads every stream into its default
local cache (DuckDB, `.cache/default_cache/default_cache.duckdb` under the working directory, or
under $AIRBYTE_CACHE_ROOT), and this script prints each table's row count.
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

# source-meetlog is not in Airbyte's connector registry, so PyAirbyte has nothing to look up there;
# offline mode skips that download (and PyAirbyte's telemetry). Read when airbyte is imported.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")

import airbyte as ab  # noqa: E402


def connector_executable() -> str:
    """The console script installed beside this Python (a venv's bin/), else the one on PATH."""
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("source-meetlog", path=search_path)
    if found is None:
        sys.exit("source-meetlog is not installed: pip install -e '.[pyairbyte]' from the repository root.")
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="the connector's config JSON (api_key, …)")
    args = parser.parse_args(argv)

    source = ab.get_source(
        "source-meetlog",
        config=json.loads(args.config.read_text()),
        local_executable=connector_executable(),
    )
    source.check()
    source.select_all_streams()

    cache = ab.get_default_cache()
    result = source.read(cache=cache)

    print(f"DuckDB file: {cache.db_path}")
    for stream in sorted(result.streams):
        table = result[stream].to_sql_table()
        print(f"{table.schema}.{table.name}: {len(result[stream])} rows")


if __name__ == "__main__":
    main()
