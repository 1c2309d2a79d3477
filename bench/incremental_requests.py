"""Requests an incremental sync makes, against a full refresh of the same data.

    PYTHONPATH=. .venv/bin/python -m bench.incremental_requests
    PYTHONPATH=. .venv/bin/python -m bench.incremental_requests --messy-transcripts 1000

Counts requests, not seconds: at 60 requests a minute per key, each request is a second of
the user's sync. Runs the connector in-process against the local Meetlog API (no rate limit,
so it finishes in seconds) and prints two Markdown tables: the clean data (every record final but
the ones a row makes pending), and messy data, where about one transcript in 7 and one report in 10
stay `processing` for good, at every age (build_dataset(stuck_every=7, stuck_reports_every=10), the
data of integration_tests/test_change_detection.py). Each messy row starts from the state of a first
incremental sync of the three streams, on a fresh server with the same data and the one change.
Goals are issue #19's: a no-change sync reads the transcripts list (newest first) only as deep as
min(pages down to the oldest pending transcript, 1 + one detail re-check per pending transcript below
page 1), reports and projects (no order promised) whole; a change costs its own detail requests.
"""

import argparse
import copy
import math
from typing import Callable, Dict, List, Optional, Sequence

from airbyte_cdk.models import SyncMode

from integration_tests.harness import STREAMS, config_for, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset

PAGE = 100
SHORT = {"transcripts": "t", "reports": "r", "projects": "p"}


def _details(sync) -> str:
    """Detail requests, with each stream's share: `2 (t 1, r 1)`."""
    per_stream = {s: len(sync.detail_requests(s)) for s in STREAMS}
    total = sum(per_stream.values())
    shares = ", ".join(f"{SHORT[s]} {n}" for s, n in per_stream.items() if n)
    return f"{total} ({shares})" if total and shares else str(total)


def _records(sync) -> str:
    """Records emitted, deletion markers apart: `2` or `2 + 1 marker`."""
    markers = sum(1 for m in sync.output.records if m.record.data.get("_ab_cdc_deleted_at"))
    plain = len(sync.output.records) - markers
    return f"{plain} + {markers} marker{'s' if markers > 1 else ''}" if markers else str(plain)


def _row(label, sync, goal):
    lists = sum(len(sync.list_requests(s)) for s in STREAMS)
    details = sum(len(sync.detail_requests(s)) for s in STREAMS)
    return f"| {label} | {lists} | {_details(sync)} | {lists + details} | {_records(sync)} | {goal} |"


def pending_places(server: MeetlogServer) -> List[int]:
    return [place for place, t in enumerate(server.dataset.list_items("transcripts")) if t["status"] == "processing"]


def promised_transcripts(server: MeetlogServer) -> int:
    """Issue #19: a no-change sync's transcript requests, min(pages of 100 down to the oldest pending
    transcript, 1 + one re-check per pending transcript below page 1); 1 without any pending."""
    places = pending_places(server)
    if not places:
        return 1
    return min(places[-1] // PAGE + 1, 1 + sum(place >= PAGE for place in places))


def list_pages(server: MeetlogServer, stream: str) -> int:
    return max(math.ceil(len(server.dataset.list_items(stream)) / PAGE), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=500)
    parser.add_argument("--new", type=int, default=5, help="k new transcripts before the third sync")
    parser.add_argument("--messy-transcripts", type=int, default=230,
                        help="transcripts of the messy data (1 report each, 12 projects); 230 as in test_change_detection")
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
        reconciled_again = run_sync(server, reconciling, mode=SyncMode.incremental, state=reconciled.state)
        server.delete_transcript(server.dataset.list_items("transcripts")[-1]["id"])  # and its 2 reports
        deleted = run_sync(server, reconciling, mode=SyncMode.incremental, state=reconciled_again.state)

        # A new report for the oldest transcript: the report, and (both streams selected) the transcript
        # relinked in the same sync for its report_ids (core/links.py).
        server.add_report(server.dataset.list_items("transcripts")[-1]["id"])
        relinked = run_sync(server, config, mode=SyncMode.incremental, state=updated.state)
        after_relink = run_sync(server, config, mode=SyncMode.incremental, state=relinked.state)

    pending_rows = [row for k in (0, 1, 10) for row in _pending_rows(args.transcripts, k, lists - 1)]

    print(f"Data: {counts['transcripts']} transcripts, {counts['reports']} reports, {counts['projects']} projects "
          f"(full-sync floor: {floor} requests). Detail requests per stream: t transcripts, r reports, p projects.\n")
    print("| Sync | List requests | Detail requests | Total | Records | Goal |")
    print("|---|---|---|---|---|---|")
    print(_row("Full refresh", full, f"floor {floor}"))
    print(_row("First incremental (no state)", first, f"floor {floor}"))
    print(_row("Second incremental, nothing changed", unchanged, f"{lists} lists, 0 details"))
    print(_row(f"{args.new} new transcripts", grown, f"{lists} + {args.new}"))
    print(_row("1 new transcript, still processing", seen_pending, f"{lists} + 1"))
    print(_row("that transcript completes", completed, f"{lists} + 1 (its final text)"))
    print(_row("1 project renamed", updated, f"{lists} + 1"))
    print(_row("1 new report on the oldest transcript", relinked, f"{lists} + 2: the report and its transcript, 2 records"))
    print(_row("the sync after it", after_relink, f"{lists}, 0 records"))
    for row in pending_rows:
        print(row)
    print(_row("reconcile_deletions switched on (state of syncs without it), nothing changed", reconciled,
               f"{whole_lists} lists, 0 details, 0 records"))
    print(_row("reconcile_deletions on, nothing changed again", reconciled_again, f"{whole_lists} lists, 0 details"))
    print(_row("reconcile_deletions on, 1 transcript deleted", deleted,
               f"{whole_lists} lists, 0 details, 3 markers (its reports go too)"))

    print()
    messy_rows(args.messy_transcripts, args.new)


def _pending_rows(transcripts: int, pending: int, other_lists: int):
    """k transcripts behind the first list page still processing (places 200 on): the transcripts list is read
    down to the oldest of them or each is re-checked by its detail, whichever costs fewer requests."""
    with MeetlogServer(dataset=build_dataset(transcripts=transcripts, reports_per_transcript=2, projects=10),
                       requests_per_window=None) as server:
        config = config_for(server, server.add_key())
        old = [t["id"] for t in server.dataset.list_items("transcripts")[200:200 + pending]]
        for transcript_id in old:
            server.update_transcript(transcript_id, status="processing", text=None, summary=None)
        promised = other_lists + promised_transcripts(server)
        places = pending_places(server)
        # Re-checked by its detail, the one that completes costs nothing more; read on its list page, its detail.
        by_detail = 1 + sum(place >= PAGE for place in places) < places[-1] // PAGE + 1
        first = run_sync(server, config, mode=SyncMode.incremental)
        unchanged = run_sync(server, config, mode=SyncMode.incremental, state=first.state)
        rows = [_row(f"nothing changed, {pending} pending behind page 1", unchanged,
                     f"{promised} (min(pages, 1 + {pending} re-checks)), 0 records")]
        if old:
            server.update_transcript(old[0], status="completed", text="final", summary="done")
            completed = run_sync(server, config, mode=SyncMode.incremental, state=unchanged.state)
            rows.append(_row(f"1 of those {pending} completes", completed,
                             f"{promised}, 1 record (its re-check brings it)" if by_detail else f"{promised} + 1, 1 record"))
    return rows


# ------------------------------------------------------------------ messy data


def messy_rows(transcripts: int, new: int) -> None:
    sizes = dict(transcripts=transcripts, reports_per_transcript=1, projects=12, stuck_every=7, stuck_reports_every=10)
    first_states: Dict[bool, list] = {}
    for reconcile in (False, True):
        with MeetlogServer(build_dataset(**sizes), requests_per_window=None) as server:
            sync = run_sync(server, config_for(server, server.add_key(), reconcile_deletions=reconcile),
                            mode=SyncMode.incremental)
            assert sync.errors == [] and len(sync.ids("transcripts")) == transcripts, sync.errors
            first_states[reconcile] = sync.state
            if not reconcile:
                first = sync
                places = pending_places(server)
                counts = {s: len(server.dataset.list_items(s)) for s in STREAMS}
                stuck_reports = sum(r["status"] == "processing" for r in server.dataset.list_items("reports"))
                whole = sum(list_pages(server, s) for s in STREAMS)
                others = list_pages(server, "reports") + list_pages(server, "projects")

    def after(change: Optional[Callable[[MeetlogServer], object]], reconcile: bool = False,
              streams: Sequence[str] = STREAMS):
        """A sync from the first sync's state, on a fresh server with the same data and `change` made;
        returns (the sync, what `change` returned, issue #19's no-change transcript cost before the change)."""
        with MeetlogServer(build_dataset(**sizes), requests_per_window=None) as server:
            before = promised_transcripts(server)
            made = change(server) if change else None
            config = config_for(server, server.add_key(), reconcile_deletions=reconcile)
            sync = run_sync(server, config, streams=streams, mode=SyncMode.incremental,
                            state=copy.deepcopy(first_states[reconcile]))
            assert sync.errors == [], sync.errors
            return sync, made, before, promised_transcripts(server)

    def add(k):
        return lambda server: [server.add_transcript() for _ in range(k)]

    def complete(which):
        def change(server):
            places = pending_places(server)
            place = places[1] if which == "on page 1" else places[-1]
            transcript = server.dataset.list_items("transcripts")[place]["id"]
            server.update_transcript(transcript, status="completed", text="Готово ✅", summary="Final summary")
            return place
        return change

    def rename(server):
        place = next(p for p in range(150, transcripts) if server.dataset.list_items("transcripts")[p]["status"] == "completed")
        server.rename_transcript(server.dataset.list_items("transcripts")[place]["id"], "Переименовано ✏️ — renamed")
        return place

    def retitle(server):
        report = next(r for r in server.dataset.list_items("reports")[PAGE:] if r["status"] == "completed")
        server.retitle_report(report["id"], "Протокол v2 📝")

    def oldest_with_report(server):
        return next(t["id"] for t in reversed(server.dataset.list_items("transcripts"))
                    if server.dataset.transcript_detail(t["id"])["report_ids"])

    def add_report(server):
        server.add_report(oldest_with_report(server))

    def delete_report(server):
        server.delete_report(server.dataset.transcript_detail(oldest_with_report(server))["report_ids"][0])

    print(f"Messy data: build_dataset({transcripts} transcripts, 1 report each, 12 projects, stuck_every=7, "
          f"stuck_reports_every=10): {counts['transcripts']} transcripts ({len(places)} pending for good, at list "
          f"places {places[0]} to {places[-1]}, {sum(p >= PAGE for p in places)} below page 1), {counts['reports']} "
          f"reports ({stuck_reports} pending), {counts['projects']} projects. A first incremental sync of the three "
          f"streams: {len(first.requests)} requests, {len(first.output.records)} records. Each row below syncs on "
          "from that state (taken with the same reconcile_deletions), all three streams selected unless said.\n")
    print("| Sync (messy data) | List requests | Detail requests | Total | Records | Goal |")
    print("|---|---|---|---|---|---|")

    sync, _, promised, _ = after(None)
    print(_row("nothing changed", sync, f"{promised + others} lists ({promised} + {others}), 0 details, 0 records"))
    sync, _, promised, _ = after(None, streams=("transcripts",))
    print(_row("nothing changed, transcripts alone", sync,
               f"{promised} = min({places[-1] // PAGE + 1} pages, 1 + {sum(p >= PAGE for p in places)} re-checks), 0 records"))
    sync, _, _, _ = after(None, reconcile=True)
    print(_row("reconcile_deletions on, nothing changed", sync, f"{whole} lists (all, whole), 0 details, 0 records"))
    for k in sorted({1, new}):
        sync, _, _, promised = after(add(k))
        print(_row(f"{k} new transcript{'s' if k > 1 else ''}", sync,
                   f"{promised + others} + {k} (no change, its pending places shifted by {k}), {k} record{'s' if k > 1 else ''}"))
    for which in ("on page 1", "oldest"):
        sync, place, promised, _ = after(complete(which))
        print(_row(f"1 pending transcript completes ({which}, place {place})", sync,
                   f"{promised + others} + 1, 1 record"))
    sync, place, promised, _ = after(rename)
    print(_row(f"1 transcript renamed (place {place}), reconcile_deletions off", sync,
               f"not promised: below page 1 only reconcile_deletions remembers what was sent "
               f"({promised + others} lists, 0 records)"))
    sync, place, _, _ = after(rename, reconcile=True)
    print(_row(f"1 transcript renamed (place {place}), reconcile_deletions on", sync, f"{whole} + 1, 1 record"))
    sync, _, promised, _ = after(retitle)
    print(_row("1 report retitled (reports page 2)", sync, f"{promised + others} + 1, 1 record"))
    sync, _, promised, _ = after(retitle, reconcile=True)
    print(_row("1 report retitled (reports page 2), reconcile_deletions on", sync, f"{whole} + 1, 1 record"))
    for order in (("transcripts", "reports", "projects"), ("reports", "transcripts", "projects")):
        label = "transcripts first" if order[0] == "transcripts" else "reports first"
        sync, _, promised, _ = after(add_report, streams=order)
        print(_row(f"1 report added to the oldest transcript with one ({label})", sync,
                   f"{promised + others} + 2 (the report, the transcript), 2 records"))
        sync, _, _, _ = after(delete_report, reconcile=True, streams=order)
        print(_row(f"1 report deleted from it, reconcile_deletions on ({label})", sync,
                   f"{whole} + 1 (the transcript), 1 record + 1 marker"))


if __name__ == "__main__":
    main()
