"""What test_column_selection.py and bench/column_selection.py share (issue #20, column selection):
the issue's data set, `source-meetlog read` run as the platform runs it and its stdout parsed line by
line, and a destination that keeps what the platform passes on.

    server = MeetlogServer(dataset=issue_dataset(), requests_per_window=None)
    done = console_read(server, tmp_path, config, catalog)        # a ConsoleRead
    done.records("transcripts"), done.state, done.logs, done.requests, done.list_requests("reports")
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from integration_tests.meetlog_server import Dataset, MeetlogServer, RequestRecord, build_dataset
from integration_tests.pruned_catalog import REPO, connector_env, console_script, platform_view, write_catalog
from integration_tests.secrets_scan import assert_no_key_fragment

READ_TIMEOUT_SECONDS = 180
EXPORT = "/api/v1/export"
PAGE_SIZE = 100
LISTED_STREAMS = ("transcripts", "reports", "projects")  # the streams with a list endpoint of their own
DELETED_AT = "_ab_cdc_deleted_at"
ISSUE_SIZES = {"transcripts": 230, "reports": 140, "projects": 12}


# ------------------------------------------------------------------------------------ the issue's data set


def issue_dataset(transcripts: int = ISSUE_SIZES["transcripts"], reports: int = ISSUE_SIZES["reports"],
                  projects: int = ISSUE_SIZES["projects"]) -> Dataset:
    """230 transcripts, 140 reports, 12 projects by default, as in issue #20: build_dataset's (edge
    cases, nulls: a transcript processing, one failed, source_url null on every third, a report
    processing, a project without description), its reports trimmed to the `reports` newest (of 229
    at one report a completed transcript). Other sizes for the benchmark; at most about 10 reports a
    transcript."""
    completed = max(1, transcripts - 2)  # build_dataset's transcripts 1 (processing) and 4 (failed) have none
    per_transcript = max(1, math.ceil(reports / completed))
    dataset = build_dataset(transcripts=transcripts, reports_per_transcript=per_transcript, projects=projects)
    for report in dataset.list_items("reports")[reports:]:  # newest first: the oldest go
        dataset.delete_report(report["id"])
    return dataset


def list_pages(count: int) -> int:
    """List requests for `count` records read whole: one per page of 100 (one, even for none)."""
    return max(1, math.ceil(count / PAGE_SIZE))


def listed(server: MeetlogServer, streams=LISTED_STREAMS) -> Dict[str, Dict[str, dict]]:
    """Each stream's list items as the server lists them now, by id: what a list-only read must emit."""
    return {stream: {item["id"]: item for item in server.dataset.list_items(stream)} for stream in streams}


# ------------------------------------------------------------------------------------ the console script


@dataclass(repr=False)
class ConsoleRead:
    """One `source-meetlog read`: every stdout line parsed, and the requests the server saw meanwhile."""

    catalog: dict
    messages: List[dict]
    requests: List[RequestRecord]
    returncode: int
    stderr: str

    def __repr__(self) -> str:  # what an assertion message shows of a read
        streams = [entry["stream"]["name"] for entry in self.catalog["streams"]]
        return f"<read of {streams}: exit {self.returncode}, {len(self.messages)} messages, {self.request_counts()}>"

    def records(self, stream: str) -> List[dict]:
        return [m["record"]["data"] for m in self.messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]

    def records_by_stream(self) -> Dict[str, List[dict]]:
        found: Dict[str, List[dict]] = {}
        for message in self.messages:
            if message["type"] == "RECORD":
                found.setdefault(message["record"]["stream"], []).append(message["record"]["data"])
        return found

    @property
    def state(self) -> List[dict]:
        """The last STATE message of each stream: what the platform passes to the next read."""
        latest: Dict[str, dict] = {}
        for message in self.messages:
            if message["type"] == "STATE":
                latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        return list(latest.values())

    @property
    def logs(self) -> List[str]:
        return [m["log"]["message"] for m in self.messages if m["type"] == "LOG"]

    @property
    def errors(self) -> List[str]:
        return [m["trace"]["error"]["message"] for m in self.messages if m["type"] == "TRACE" and m["trace"].get("error")]

    def list_requests(self, stream: str) -> List[RequestRecord]:
        return [r for r in self.requests if r.path == f"{EXPORT}/{stream}"]

    def detail_requests(self, stream: Optional[str] = None) -> List[RequestRecord]:
        streams = LISTED_STREAMS if stream is None else (stream,)
        return [r for r in self.requests if any(r.path.startswith(f"{EXPORT}/{s}/") for s in streams)]

    def request_counts(self) -> Dict[str, int]:
        """{"transcripts list": 3, "transcripts detail": 230, ...}: the figures a reader compares."""
        counts: Counter = Counter()
        for request in self.requests:
            parts = request.path[len(EXPORT) + 1:].split("/")
            counts[f"{parts[0]} {'list' if len(parts) == 1 else 'detail'}"] += 1
        return dict(counts)

    def assert_succeeded(self) -> "ConsoleRead":
        assert self.returncode == 0 and self.errors == [], (
            f"read failed: exit {self.returncode}, errors {self.errors}\n{self.stderr[-3000:]}")
        return self


_numbers = itertools.count(1)


def console_read(server: MeetlogServer, folder: Path, config: Mapping, catalog: Mapping,
                 state: Optional[List[dict]] = None) -> ConsoleRead:
    """Runs `source-meetlog read --config --catalog [--state]` from files in `folder`, as the platform
    does, and parses each stdout line as JSON (a line that is not fails here). Checks no key leaked;
    whether the read succeeded is the caller's (ConsoleRead.assert_succeeded)."""
    number = next(_numbers)
    config_path = folder / f"config-{number}.json"
    config_path.write_text(json.dumps(dict(config)))
    catalog_path = write_catalog(folder / f"catalog-{number}.json", catalog)
    command = [console_script(), "read", "--config", str(config_path), "--catalog", str(catalog_path)]
    if state is not None:
        state_path = folder / f"state-{number}.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    before = len(server.requests)
    finished = subprocess.run(command, capture_output=True, text=True, timeout=READ_TIMEOUT_SECONDS, cwd=REPO,
                              env=connector_env())
    requests = server.requests.snapshot()[before:]
    assert_no_key_fragment(finished.stdout + finished.stderr, config["api_key"])
    messages = []
    for line in finished.stdout.splitlines():
        if line.strip():
            messages.append(json.loads(line))
    return ConsoleRead(dict(catalog), messages, requests, finished.returncode, finished.stderr)


# ------------------------------------------------------------------------------------ the destination


@dataclass
class Destination:
    """Append + Deduped tables fed by the platform: each record as platform_view passes it on (without
    the columns its read did not select), the latest version of a key replacing the one before, a
    deletion marker deleting its row."""

    tables: Dict[str, Dict[str, dict]] = field(default_factory=dict)

    def load(self, read: ConsoleRead) -> "Destination":
        for stream, records in read.records_by_stream().items():
            table = self.tables.setdefault(stream, {})
            for record in records:
                if record.get(DELETED_AT):
                    table.pop(record["id"], None)
                else:
                    table[record["id"]] = platform_view(record, read.catalog, stream)
        return self
