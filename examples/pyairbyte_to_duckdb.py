"""Sync Meetlog into a local DuckDB file from Python, without Docker, with PyAirbyte.

    pip install -e '.[pyairbyte]'
    python examples/pyairbyte_to_duckdb.py --config secrets/config.json
    python examples/pyairbyte_to_duckdb.py --config secrets/config.json --pip-url dist/airbyte_source_meetlog-0.4.2-py3-none-any.whl

By default PyAirbyte runs the `source-meetlog` console script installed beside this Python. With
--pip-url, PyAirbyte installs the connector itself, as its users do: into a virtual environment
of its own, `.venv-source-meetlog` under --install-root (default: $AIRBYTE_INSTALL_DIR, else the
working directory), from whatever pip accepts (a wheel file, `airbyte-source-meetlog==0.4.2`
once published). An existing environment there is reused: delete it to install a new wheel of
the same version. Either way every stream is read into PyAirbyte's default local cache (DuckDB,
`.cache/default_cache/default_cache.duckdb` under the working directory, or under
$AIRBYTE_CACHE_ROOT), and this script prints each table's row count.
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

HERE = str(Path(sys.executable).parent)  # a venv's bin/: the console script, and PyAirbyte's uv


def connector_executable() -> str:
    """The console script installed beside this Python (a venv's bin/), else the one on PATH."""
    found = shutil.which("source-meetlog", path=os.pathsep.join([HERE, os.environ.get("PATH", "")]))
    if found is None:
        sys.exit("source-meetlog is not installed: pip install -e '.[pyairbyte]' from the repository root.")
    return found


def get_source(config: dict, pip_url: str = None, install_root: Path = None) -> ab.Source:
    if pip_url is None:
        return ab.get_source("source-meetlog", config=config, local_executable=connector_executable())
    # PyAirbyte runs `uv` (or `pip` with AIRBYTE_NO_UV=1) from PATH to build its environment; both
    # come with PyAirbyte into this Python's bin/, which is on PATH only in an activated venv.
    os.environ["PATH"] = os.pathsep.join([HERE, os.environ.get("PATH", "")])
    return ab.get_source("source-meetlog", config=config, pip_url=pip_url, install_root=install_root)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="the connector's config JSON (api_key, …)")
    parser.add_argument("--pip-url", help="let PyAirbyte install the connector from this wheel or pip requirement")
    parser.add_argument("--install-root", type=Path, help="where PyAirbyte puts .venv-source-meetlog (with --pip-url)")
    args = parser.parse_args(argv)
    if args.install_root and not args.pip_url:
        parser.error("--install-root needs --pip-url")

    source = get_source(json.loads(args.config.read_text()), args.pip_url, args.install_root)
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
