"""Requests a sync makes with every column selected, against list columns only (issue #20).

    .venv/bin/python -m bench.column_selection                 # issue #20's data: 230 transcripts, 140 reports, 12 projects
    .venv/bin/python -m bench.column_selection --transcripts 2000 --reports 1500 --projects 40 --keys 2

Column selection (Airbyte's "select columns") sends `read` a catalog whose json_schema.properties
holds the selected columns only. With no detail-only column selected (transcripts' text, summary,
file_size_mb, report_ids; reports' content; projects' transcripts), issue #20 serves a stream from its
list pages alone: one request per 100 records instead of one more per record.

Runs the installed `source-meetlog read` (the console script, as the platform does) against the local
Meetlog API without a rate limit, so it finishes in seconds, and counts the requests the server
answered. At the API's 60 requests a minute per key, each request is a second of the user's sync:
the time column is requests / (60 x keys) minutes. Prints a Markdown table: a full refresh and a
second incremental sync with nothing changed, all columns against list columns only, and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Dict

from integration_tests.column_selection import ISSUE_SIZES, LISTED_STREAMS, ConsoleRead, console_read, issue_dataset, list_pages
from integration_tests.meetlog_server import MeetlogServer
from integration_tests.pruned_catalog import discover_streams, list_columns, pruned_catalog

API_REQUESTS_PER_MINUTE = 60  # per key, the Export API's limit


def duration(requests: int, keys: int) -> str:
    """How long `requests` take at the API's limit: requests / (60 x keys) minutes, as "6 min 28 s"."""
    seconds = round(requests * 60 / (API_REQUESTS_PER_MINUTE * keys))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def ratio(all_columns: int, list_only: int) -> str:
    return f"{all_columns / list_only:.1f}x" if list_only else "-"


def describe(read: ConsoleRead) -> str:
    counts = read.request_counts()
    lists = sum(n for name, n in counts.items() if name.endswith(" list"))
    return f"{lists} + {len(read.requests) - lists}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.column_selection", description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=ISSUE_SIZES["transcripts"])
    parser.add_argument("--reports", type=int, default=ISSUE_SIZES["reports"])
    parser.add_argument("--projects", type=int, default=ISSUE_SIZES["projects"])
    parser.add_argument("--keys", type=int, default=1, help="API keys of the account (each has its own 60 a minute)")
    args = parser.parse_args()

    dataset = issue_dataset(args.transcripts, args.reports, args.projects)
    with MeetlogServer(dataset=dataset, requests_per_window=None) as server, tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        config = {"api_key": server.add_key(), "base_url": server.base_url, "requests_per_minute": 1_000_000}
        counts = {stream: len(server.dataset.list_items(stream)) for stream in LISTED_STREAMS}
        discovered = discover_streams(config)
        selections = {
            "all columns": {stream: None for stream in LISTED_STREAMS},
            "list columns only": {stream: list_columns(discovered, stream) for stream in LISTED_STREAMS},
        }

        def read(selection, mode, state=None) -> ConsoleRead:
            catalog = pruned_catalog(discovered, selection, mode)
            done = console_read(server, folder, config, catalog, state).assert_succeeded()
            if state is None:  # a first sync emits every record, whatever its columns
                emitted = {stream: len(done.records(stream)) for stream in LISTED_STREAMS}
                assert emitted == counts, f"{emitted} records, the server has {counts}"
            return done

        results: Dict[str, Dict[str, ConsoleRead]] = {"full": {}, "unchanged": {}}
        for name, selection in selections.items():
            results["full"][name] = read(selection, "full_refresh")
            first = read(selection, "incremental")
            results["unchanged"][name] = read(selection, "incremental", first.state)

    lists_whole = sum(list_pages(n) for n in counts.values())
    # An unchanged incremental sync reads transcripts (newest first) up to the cursor: one page;
    # reports and projects promise no order and are read whole. Columns change nothing there.
    lists_unchanged = 1 + list_pages(counts["reports"]) + list_pages(counts["projects"])
    goals = {"full": lists_whole, "unchanged": lists_unchanged}
    labels = {"full": "Full refresh", "unchanged": "Incremental, nothing changed (2nd sync)"}

    print(f"Data: {counts['transcripts']} transcripts, {counts['reports']} reports, {counts['projects']} projects; "
          f"{args.keys} key{'s' if args.keys > 1 else ''} at {API_REQUESTS_PER_MINUTE} requests a minute each. "
          f"Requests are list + detail.\n")
    print("| Sync | All columns: requests | time | List columns only: requests | time | Ratio | List columns only, goal (#20) |")
    print("|---|---|---|---|---|---|---|")
    for sync, label in labels.items():
        every, list_only = results[sync]["all columns"], results[sync]["list columns only"]
        print(f"| {label} | {len(every.requests)} ({describe(every)}) | {duration(len(every.requests), args.keys)} "
              f"| {len(list_only.requests)} ({describe(list_only)}) | {duration(len(list_only.requests), args.keys)} "
              f"| {ratio(len(every.requests), len(list_only.requests))} "
              f"| {goals[sync]} ({duration(goals[sync], args.keys)}, {ratio(len(every.requests), goals[sync])}) |")


if __name__ == "__main__":
    main()
