"""Requests an incremental sync makes, against a full refresh of the same data.

    .venv/bin/python -m bench.incremental_requests

Counts requests, not seconds: at 60 requests a minute per key, each request is a second of
the user's sync. Runs the connector in-process against the local Meetlog API (no rate limit,
so it finishes in seconds) and prints a Markdown table.
"""

import argparse
import math

from airbyte_cdk.models import SyncMode

from integration_tests.harness import STREAMS, config_for, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset


def _row(label, sync, goal):
    lists = sum(len(sync.list_requests(s)) for s in STREAMS)
    details = sum(len(sync.detail_requests(s)) for s in STREAMS)
    records = len(sync.output.records)
    return f"| {label} | {lists} | {details} | {lists + details} | {records} | {goal} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=500)
    parser.add_argument("--new", type=int, default=5, help="k new transcripts before the third sync")
    args = parser.parse_args()

    dataset = build_dataset(transcripts=args.transcripts, reports_per_transcript=2, projects=10)
    with MeetlogServer(dataset=dataset, requests_per_window=None) as server:
        config = config_for(server, server.add_key())
        counts = {s: len(server.dataset.list_items(s)) for s in STREAMS}
        floor = sum(math.ceil(n / 100) + n for n in counts.values())
        # Transcripts are listed newest first and paged until the cursor: one page. Reports and
        # projects promise no order and are listed whole.
        lists = 1 + math.ceil(counts["reports"] / 100) + math.ceil(counts["projects"] / 100)

        full = run_sync(server, config, mode=SyncMode.full_refresh)
        first = run_sync(server, config, mode=SyncMode.incremental)
        unchanged = run_sync(server, config, mode=SyncMode.incremental, state=first.state)
        for _ in range(args.new):
            server.add_transcript()
        grown = run_sync(server, config, mode=SyncMode.incremental, state=unchanged.state)
        pending = server.add_transcript(status="processing")["id"]
        seen_pending = run_sync(server, config, mode=SyncMode.incremental, state=grown.state)
        server.update_transcript(pending, status="completed", text="final")
        completed = run_sync(server, config, mode=SyncMode.incremental, state=seen_pending.state)
        project = server.dataset.list_items("projects")[0]["id"]
        server.update_project(project, name="renamed")
        updated = run_sync(server, config, mode=SyncMode.incremental, state=completed.state)
        # reconcile_deletions reads the transcripts list whole too; deleted records need no request.
        reconciling = {**config, "reconcile_deletions": True}
        whole_lists = sum(math.ceil(len(server.dataset.list_items(s)) / 100) for s in STREAMS)
        reconciled = run_sync(server, reconciling, mode=SyncMode.incremental, state=updated.state)
        server.delete_transcript(server.dataset.list_items("transcripts")[-1]["id"])  # and its 2 reports
        deleted = run_sync(server, reconciling, mode=SyncMode.incremental, state=reconciled.state)

        # A new report for the oldest transcript: the report, and the transcript once for its report_ids
        # (report_links.py), in this sync or, when the transcripts list ended first, the next.
        server.add_report(server.dataset.list_items("transcripts")[-1]["id"])
        relinked = run_sync(server, config, mode=SyncMode.incremental, state=updated.state)
        after_relink = run_sync(server, config, mode=SyncMode.incremental, state=relinked.state)

    pending_rows = [row for k in (0, 1, 10) for row in _pending_rows(args.transcripts, k, lists)]

    print(f"Data: {counts['transcripts']} transcripts, {counts['reports']} reports, {counts['projects']} projects "
          f"(full-sync floor: {floor} requests).\n")
    print("| Sync | List requests | Detail requests | Total | Records | Goal |")
    print("|---|---|---|---|---|---|")
    print(_row("Full refresh", full, f"floor {floor}"))
    print(_row("First incremental (no state)", first, f"floor {floor}"))
    print(_row("Second incremental, nothing changed", unchanged, f"{lists} lists, 0 details"))
    print(_row(f"{args.new} new transcripts", grown, f"{lists} + {args.new}"))
    print(_row("1 new transcript, still processing", seen_pending, f"{lists} + 1"))
    print(_row("that transcript completes", completed, f"{lists} + 1 (its final text)"))
    print(_row("1 project renamed", updated, f"{lists} + 1"))
    print(_row("1 new report on the oldest transcript", relinked, f"{lists} + 1 report (+ its transcript, here or next)"))
    print(_row("the sync after it", after_relink, f"{lists} (+ the transcript, if not fetched before)"))
    for row in pending_rows:
        print(row)
    print(_row("reconcile_deletions on, nothing changed", reconciled, f"{whole_lists} lists, 0 details"))
    print(_row("reconcile_deletions on, 1 transcript deleted", deleted,
               f"{whole_lists} lists, 0 details, 3 markers (its reports go too)"))


def _pending_rows(transcripts: int, pending: int, lists: int):
    """k transcripts behind the first list page still processing: each costs one re-check a sync."""
    with MeetlogServer(dataset=build_dataset(transcripts=transcripts, reports_per_transcript=2, projects=10),
                       requests_per_window=None) as server:
        config = config_for(server, server.add_key())
        old = [t["id"] for t in server.dataset.list_items("transcripts")[200:200 + pending]]
        for transcript_id in old:
            server.update_transcript(transcript_id, status="processing", text=None, summary=None)
        first = run_sync(server, config, mode=SyncMode.incremental)
        unchanged = run_sync(server, config, mode=SyncMode.incremental, state=first.state)
        rows = [_row(f"nothing changed, {pending} pending behind page 1", unchanged, f"{lists} + {pending} re-checks, 0 records")]
        if old:
            server.update_transcript(old[0], status="completed", text="final", summary="done")
            completed = run_sync(server, config, mode=SyncMode.incremental, state=unchanged.state)
            rows.append(_row(f"1 of those {pending} completes", completed, f"{lists} + {pending}, 1 record"))
    return rows


if __name__ == "__main__":
    main()
