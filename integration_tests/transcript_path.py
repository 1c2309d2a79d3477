"""The package functions one transcript passes on its way from manifest.yaml to stdout, in the order
they are first called: docs/architecture.md's map is this list (test_architecture_map.py holds them equal).

    .venv/bin/python -m integration_tests.transcript_path        # prints the map's table rows

One transcript, no report, no project; the transcripts stream alone, incremental, first sync; the
console script's `run(["read", ...])` in-process, its stdout captured, with a profiler on every
thread that notes each call into source_meetlog/. Functions the read calls for its own set-up (the
config, the key pool, the manifest) count too: they are on the way.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator, List, Tuple

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder

from integration_tests.harness import config_for
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from source_meetlog.run import run

PACKAGE = Path(__file__).resolve().parent.parent / "source_meetlog"


@contextlib.contextmanager
def _stdout_into(path: Path) -> Iterator[None]:
    """sys.stdout and file descriptor 1 into `path`: the CDK prints through sys.stdout, its logger
    through a stream it may hold from before (under pytest, the two are not the same)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(path, "w", buffering=1) as target, contextlib.redirect_stdout(target):
        os.dup2(target.fileno(), 1)
        try:
            yield
        finally:
            target.flush()
            os.dup2(saved, 1)
            os.close(saved)


def transcript_path() -> List[Tuple[str, str]]:
    """(file, function) pairs in the order first called, for one transcript's first incremental sync."""
    seen: List[Tuple[str, str]] = []
    noted = set()
    lock = threading.Lock()

    def profile(frame, event, _arg):
        if event != "call":
            return
        filename = frame.f_code.co_filename
        if not filename.startswith(str(PACKAGE)):
            return
        where = (str(Path(filename).relative_to(PACKAGE.parent)), frame.f_code.co_qualname)
        if "<" in where[1] or not frame.f_code.co_flags & inspect.CO_OPTIMIZED:
            return  # comprehensions, lambdas and generator expressions belong to their function; class bodies run on import
        with lock:
            if where not in noted:
                noted.add(where)
                seen.append(where)

    catalog = CatalogBuilder().with_stream("transcripts", SyncMode.incremental).build()
    with MeetlogServer(dataset=build_dataset(transcripts=1, reports_per_transcript=0, projects=0),
                       requests_per_window=None) as server, tempfile.TemporaryDirectory() as folder:
        files = {"config": config_for(server, server.add_key()),
                 "catalog": ConfiguredAirbyteCatalogSerializer.dump(catalog)}
        for name, content in files.items():
            (Path(folder) / f"{name}.json").write_text(json.dumps(content))
        threading.setprofile(profile)
        sys.setprofile(profile)
        try:
            with _stdout_into(Path(folder) / "stdout"):
                run(["read", "--config", f"{folder}/config.json", "--catalog", f"{folder}/catalog.json"])
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
        printed = (Path(folder) / "stdout").read_text()
    lines = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    records = [m["record"]["stream"] for m in lines if m["type"] == "RECORD"]
    assert records == ["transcripts"], f"one transcript, not {records}: {[m.get('log', m.get('trace')) for m in lines]}"
    return seen


def main() -> None:
    path = transcript_path()
    files = {file for file, _ in path}
    for number, (file, function) in enumerate(path, start=1):
        print(f"| {number} | `{file}` | `{function}` |")
    print(f"\n{len(path)} functions in {len(files)} files")


if __name__ == "__main__":
    main()
