"""`make read`: a full read of every stream from a local Meetlog API seeded with sample data.

    .venv/bin/python -m integration_tests.demo_read [--streams transcripts,reports] [--incremental]

Starts the local API on 127.0.0.1 (60 requests a minute per key, like the real one), registers a
key, writes a config and a configured catalog to a temporary folder and runs the installed
`source-meetlog read`. Its Airbyte protocol messages pass through on stdout; this script speaks
on stderr only, and exits with the connector's exit code.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from integration_tests.meetlog_server import MeetlogServer, build_dataset

CURSOR_FIELDS = {"transcripts": "created_at", "reports": "created_at", "projects": "updated_at"}


def configured_catalog(streams, incremental: bool) -> dict:
    def entry(name: str) -> dict:
        cursor = [CURSOR_FIELDS[name]]
        return {
            "stream": {
                "name": name,
                "json_schema": {},
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": cursor,
                "source_defined_primary_key": [["id"]],
            },
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append_dedup" if incremental else "overwrite",
            "cursor_field": cursor,
            "primary_key": [["id"]],
        }

    return {"streams": [entry(name) for name in streams]}


def connector_executable() -> str:
    """The console script installed beside this Python (the venv's bin/), else the one on PATH."""
    found = shutil.which("source-meetlog", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        sys.exit("source-meetlog is not installed: run `make setup` (pip install -e '.[tests]') first.")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default=",".join(CURSOR_FIELDS), help="comma-separated (default: all three)")
    parser.add_argument("--incremental", action="store_true", help="incremental sync mode instead of full refresh")
    args = parser.parse_args(argv)
    streams = [name.strip() for name in args.streams.split(",") if name.strip()]
    unknown = set(streams) - set(CURSOR_FIELDS)
    if unknown or not streams:
        parser.error(f"--streams takes some of {', '.join(CURSOR_FIELDS)}; got {args.streams!r}")

    executable = connector_executable()
    server = MeetlogServer(dataset=build_dataset(), requests_per_window=60).start()
    try:
        with tempfile.TemporaryDirectory(prefix="meetlog-demo-") as folder:
            config_path, catalog_path = Path(folder, "config.json"), Path(folder, "catalog.json")
            config_path.write_text(json.dumps({"api_key": server.add_key(label="demo"), "base_url": server.base_url}))
            catalog_path.write_text(json.dumps(configured_catalog(streams, args.incremental)))
            command = [executable, "read", "--config", str(config_path), "--catalog", str(catalog_path)]
            print(f"Local Meetlog API with sample data on {server.base_url}; running: source-meetlog read "
                  f"({'incremental' if args.incremental else 'full refresh'}: {', '.join(streams)})",
                  file=sys.stderr, flush=True)
            return subprocess.run(command).returncode
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
