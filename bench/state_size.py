"""State size over one first sync and one no-change sync, driving the FetchPlan the way the router does.

    PYTHONPATH=. .venv/bin/python -m bench.state_size                  # the table, and a check against real syncs
    PYTHONPATH=. .venv/bin/python -m bench.state_size --no-calibrate   # the table alone
    PYTHONPATH=. .venv/bin/python -m bench.state_size --sizes 1000,4000

The transcripts stream alone (remembered_detail report_ids: its entries are 8 bytes), listed newest first, 100 a page,
no start_date. The plan (core/fetch_plan.py) is fed as components/router.py feeds it: see() for each
listed item, wants_next_page() after each page, finish() once the list is read, answered() for each
detail, close(), and its state() is the list's state. The messages counted are those the CDK writes
(ConcurrentPerPartitionCursor with cdk_internals.checkpoint_as_records_are_sent):

- at each detail partition's close, a checkpoint when the list state committed with it has moved and the
  plan's checkpoint_is_due() says the read's budget has room (then checkpointed()); never on the CDK's
  600 s clock, which cdk_internals replaces. Time is simulated at one request a second (one key at 60
  a minute);
- the final state (ensure_at_least_one_state_emitted), once every partition is closed.

A partition's committed state is the plan's state when the router yielded the next partition (the CDK
asks for it then). Each message is measured as the STATE line the CDK writes (the per-partition
cursor's state around the plan's), each record as its RECORD line: details shaped as
integration_tests.meetlog_server's build_dataset serves them (a generic completed transcript and a
processing one), with new ids, titles and dates.

Data: N transcripts, 15% pending (`processing` for good) at every age (3 at random places in each run
of 20), and 4,000 with one in seven pending (one in each run of 7, as build_dataset(stuck_every=7)).
The first sync sends every transcript; the no-change sync then sends none (its pending ones are still
pending) and writes its final state alone. A no-change sync has no record bytes to share: the last
column puts the two syncs' state bytes together against the first sync's record bytes. A third sync
follows, after --new transcripts; and the first sync at 4,000 is run again with longer transcripts
(--record-sizes). Shares are given against the RECORD lines and against the records' data alone
(len(orjson.dumps(record)), what the plan's StateBudget counts).

--calibrate (on by default) first runs the real connector in-process on build_dataset(1,000 transcripts,
stuck_every=7) and the model on the same data (with no time passing, as in-process), and prints both.
"""

from __future__ import annotations

import argparse
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import orjson

from source_meetlog.core.fetch_plan import FetchPlan, ListRules, StateBudget
from source_meetlog.core.list_state import ListState
from source_meetlog.core.timestamps import parse_cursor_value

STREAM = "transcripts"
LIST_NAME = "transcripts_list"  # the hidden list stream whose state the router writes under parent_state
CURSOR = "created_at"
LIST_FIELDS = ("id", "title", "status", "created_at", "duration_seconds", "source_url")
PAGE_SIZE = 100
SECONDS_PER_REQUEST = 1.0  # one key at 60 requests a minute
NEWEST = datetime(2026, 11, 30, 9, 0, 0)
EMITTED_AT = 1_764_590_400_000
TARGET_LARGEST = 16 * 1024  # issue #19: largest state <= 16 KB at 4,000 transcripts, 1 in 7 pending, no reconcile
TARGET_SHARE = 0.05  # issue #19: all state messages <= 5% of the record bytes


def rules(reconcile: bool) -> ListRules:
    """The transcripts stream's rules, as the router builds them from the manifest's parameters."""
    return ListRules(cursor_field=CURSOR, status_field="status", newest_first=True, reconcile_deletions=reconcile,
                     detail_fields=frozenset({"text", "summary", "file_size_mb", "report_ids"}), remembered_detail="report_ids")


# ------------------------------------------------------------------ the data


def record_line(data: Dict[str, Any]) -> int:
    return len(orjson.dumps({"type": "RECORD", "record": {"stream": STREAM, "data": data, "emitted_at": EMITTED_AT}}))


@dataclass
class Templates:
    """A generic completed transcript's detail and a processing one's, as build_dataset serves them."""

    completed: Dict[str, Any]
    pending: Dict[str, Any]
    completed_median: int  # RECORD line bytes, median of build_dataset's generic completed transcripts
    pending_median: int

    @classmethod
    def measured(cls) -> "Templates":
        from integration_tests.meetlog_server import build_dataset

        dataset = build_dataset(transcripts=400, reports_per_transcript=1, projects=0, stuck_every=7)
        generic = [dataset.transcript_detail(t["id"]) for t in dataset.list_items(STREAM)[7:]]  # 0-6: edge cases
        by_status = {s: sorted((d for d in generic if (d["status"] == "completed") == (s == "completed")),
                               key=record_line) for s in ("completed", "pending")}
        picks = {s: records[len(records) // 2] for s, records in by_status.items()}
        return cls(picks["completed"], picks["pending"], record_line(picks["completed"]), record_line(picks["pending"]))

    def padded(self, line_bytes: int) -> "Templates":
        """A completed transcript whose text makes its RECORD line about `line_bytes` long (a longer meeting)."""
        text = self.completed["text"]
        lines = (text + "\n") * (1 + line_bytes // max(len(text.encode()), 1))
        completed = dict(self.completed, text="")
        room = line_bytes - record_line(completed)
        completed["text"] = lines.encode()[:max(room, 0)].decode(errors="ignore")
        return Templates(completed, self.pending, record_line(completed), self.pending_median)


class Data:
    """Transcripts newest first: list items and details, made on demand from their place in the list."""

    def __init__(self, items: Sequence[Dict[str, Any]], detail: Callable[[str], Dict[str, Any]], label: str) -> None:
        self.items, self._detail, self.label = items, detail, label
        self.now = max(parse_cursor_value(i[CURSOR]) for i in items[:1]) + timedelta(hours=1)

    def detail(self, record_id: str) -> Dict[str, Any]:
        return self._detail(record_id)

    @property
    def pending(self) -> int:
        return sum(1 for item in self.items if item["status"] == "processing")

    def grown(self, new: int) -> "Data":
        """The same list with `new` completed transcripts on top, made a minute apart after the newest."""
        newest = parse_cursor_value(self.items[0][CURSOR])
        added = []
        for number in range(new, 0, -1):
            detail = {**self.detail(next(i["id"] for i in self.items if i["status"] == "completed")),
                      "id": str(uuid.UUID(int=random.Random(f"new:{number}").getrandbits(128), version=4)),
                      "title": f"New transcript {number}",
                      "created_at": (newest + timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%SZ")}
            added.append(detail)
        by_id = {d["id"]: d for d in added}
        return Data([{k: d[k] for k in LIST_FIELDS} for d in added] + list(self.items),
                    lambda record_id: by_id.get(record_id) or self.detail(record_id), self.label)


def synthetic(transcripts: int, pending_in_run: Tuple[int, int], templates: Templates, seed: int = 0) -> Data:
    """`pending_in_run` (k, n): k pending transcripts at random places in each run of n, newest to oldest."""
    rng = random.Random(f"state-size:{seed}")
    k, run = pending_in_run
    pending = set()
    for start in range(0, transcripts, run):
        pending.update(rng.sample(range(start, min(start + run, transcripts)), min(k, transcripts - start)))
    items, reports, created = [], {}, NEWEST
    for place in range(transcripts):
        created -= timedelta(seconds=rng.randint(20 * 60, 3 * 3600))
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        status = "processing" if place in pending else "completed"
        items.append({"id": record_id, "title": f"{templates.completed['title'].rsplit('#', 1)[0]}#{place + 1}",
                      "status": status, "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "duration_seconds": rng.randint(300, 5400),
                      "source_url": None if place % 3 == 2 else f"https://meet.example.com/rec/{place + 1}"})
        if status == "completed":
            reports[record_id] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    by_id = {item["id"]: item for item in items}

    def detail(record_id: str) -> Dict[str, Any]:
        item = by_id[record_id]
        template = templates.completed if item["status"] == "completed" else templates.pending
        return {**template, **item, "report_ids": [reports[record_id]] if record_id in reports else [],
                "file_size_mb": round(item["duration_seconds"] / 100, 1) if item["status"] == "completed" else template["file_size_mb"]}

    share = f"{k} in {run}" if (k, run) != (3, 20) else "15%"
    return Data(items, detail, share)


def seeded(dataset: Any) -> Data:
    """A build_dataset's acme transcripts, as its server lists and details them."""
    items = dataset.list_items(STREAM)
    return Data(items, dataset.transcript_detail, "1 in 7 (build_dataset)")


# ------------------------------------------------------------------ one sync, as the router and the CDK run it


@dataclass
class SyncFigures:
    lists: int = 0
    details: int = 0
    records: int = 0
    record_bytes: int = 0  # RECORD lines, as written to stdout
    data_bytes: int = 0  # the records' data alone, as the plan's budget counts them
    checkpoints: int = 0  # allowed by the plan's budget
    states: List[int] = field(default_factory=list)  # every STATE line's bytes, the final one last
    seconds: float = 0.0
    final_state: Optional[Dict[str, Any]] = None  # the stream's state, as the platform passes it to the next sync

    @property
    def largest(self) -> int:
        return max(self.states)

    @property
    def all_states(self) -> int:
        return sum(self.states)


class CdkCursor:
    """What ConcurrentPerPartitionCursor writes: its state around the plan's, and when."""

    def __init__(self, plan: FetchPlan, saved: Optional[Dict[str, Any]], figures: SyncFigures) -> None:
        self._plan, self._figures = plan, figures
        self._global = saved.get("state") if saved else None  # the last sync's cursor, until this one ends
        self._lookback = saved.get("lookback_window", 0) if saved else 0
        self._last_sent: Any = None
        self._last_emission = -math.inf
        self._records_since = 0

    def record(self) -> None:
        self._records_since += 1

    def partition_closed(self, committed: Dict[str, Any], clock: float) -> None:
        """`committed`: the list state the CDK took when this partition was generated."""
        if committed is not self._last_sent and self._plan.checkpoint_is_due():
            self._last_sent = committed
            self._plan.checkpointed()
            self._figures.checkpoints += 1
        else:
            return
        self._last_emission = clock
        self._emit(committed)

    def final(self, clock: float) -> Dict[str, Any]:
        """ensure_at_least_one_state_emitted: the plan's outcome, the cursor where the list's reached."""
        state = self._plan.state()
        if self._figures.records:
            self._global, self._lookback = {CURSOR: state.get(CURSOR)}, int(clock)
        return self._emit(state)

    def _emit(self, list_state: Dict[str, Any]) -> Dict[str, Any]:
        stream_state: Dict[str, Any] = {"use_global_cursor": True}
        if self._global:
            stream_state["state"] = self._global
        stream_state["lookback_window"] = self._lookback
        stream_state["parent_state"] = {LIST_NAME: list_state}
        message = {"type": "STATE", "state": {"type": "STREAM", "stream": {
            "stream_descriptor": {"name": STREAM}, "stream_state": stream_state},
            "sourceStats": {"recordCount": float(self._records_since)}}}
        self._figures.states.append(len(orjson.dumps(message)))
        self._records_since = 0
        return stream_state


def one_sync(data: Data, reconcile: bool, saved: Optional[Dict[str, Any]], seconds_per_request: float) -> SyncFigures:
    """One incremental sync of `data` from the stream state `saved` (None: the first)."""
    figures = SyncFigures()
    started = time.perf_counter()
    list_state = ListState.read((saved or {}).get("parent_state", {}).get(LIST_NAME), CURSOR)
    # The list partition starts where the last sync settled (no lookback window), else at the epoch.
    resume_after = parse_cursor_value(list_state.cursor) or datetime(1970, 1, 1)
    plan = FetchPlan(rules(reconcile), list_state, resume_after, inclusive=False, now=data.now, budget=StateBudget())
    cursor = CdkCursor(plan, saved, figures)
    clock = 0.0
    waiting: List[str] = []  # the partition yielded last, whose state the CDK takes when the next one comes
    taken: List[Dict[str, Any]] = [{}]  # the state the CDK took last: a new object only when it differs

    def fetch_detail(record_id: str, committed: Dict[str, Any]) -> None:
        nonlocal clock
        figures.details += 1
        clock += seconds_per_request
        detail = data.detail(record_id)
        if plan.answered(record_id, detail):
            figures.records += 1
            figures.record_bytes += record_line(detail)
            figures.data_bytes += len(orjson.dumps(detail))
            cursor.record()
        cursor.partition_closed(committed, clock)

    def take_state() -> Dict[str, Any]:
        state = plan.state()
        if state != taken[0]:
            taken[0] = state
        return taken[0]

    def yielded(record_id: str) -> None:
        # The CDK takes the router's state when the next partition comes: the previous one's is now known.
        if waiting:
            fetch_detail(waiting.pop(), take_state())
        waiting.append(record_id)

    total = len(data.items)
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    plan.new_read()
    for page in range(1, pages + 1):
        figures.lists += 1
        clock += seconds_per_request
        for item in data.items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
            if page == pages:
                plan.last_page_read()
            for fetch in plan.see(item, page, item["id"], parse_cursor_value(item[CURSOR]), total, pages):
                yielded(fetch.record_id)
        if page < pages and not plan.wants_next_page():
            break
    for fetch in plan.finish():
        yielded(fetch.record_id)
    last_state = take_state()
    plan.close()
    if waiting:
        fetch_detail(waiting.pop(), last_state)
    figures.final_state = cursor.final(clock)
    figures.seconds = time.perf_counter() - started
    return figures


def syncs(data: Data, reconcile: bool, seconds_per_request: float = SECONDS_PER_REQUEST,
          new: int = 0) -> Tuple[SyncFigures, ...]:
    """The first sync, the no-change sync after it, and with `new`, a sync after that many new transcripts."""
    first = one_sync(data, reconcile, None, seconds_per_request)
    again = one_sync(data, reconcile, first.final_state, seconds_per_request)
    if not new:
        return first, again
    return first, again, one_sync(data.grown(new), reconcile, again.final_state, seconds_per_request)


# ------------------------------------------------------------------ the real connector, for the calibration


def real_syncs(dataset_args: Dict[str, Any], reconcile: bool, new: int) -> List[SyncFigures]:
    """The real connector's first sync, no-change sync, and the sync after `new` new transcripts."""
    from airbyte_cdk.entrypoint import AirbyteEntrypoint
    from airbyte_cdk.models import SyncMode

    from integration_tests.harness import config_for, run_sync
    from integration_tests.meetlog_server import MeetlogServer, build_dataset

    results = []
    with MeetlogServer(dataset=build_dataset(**dataset_args), requests_per_window=None) as server:
        config = config_for(server, server.add_key(), reconcile_deletions=reconcile)
        state = None
        for run in range(3):
            if run == 2:
                for _ in range(new):
                    server.add_transcript()
            sync = run_sync(server, config, streams=(STREAM,), mode=SyncMode.incremental, state=state)
            assert sync.errors == [], sync.errors
            figures = SyncFigures(lists=len(sync.list_requests(STREAM)), details=len(sync.detail_requests(STREAM)))
            figures.records = len(sync.output.records)
            figures.record_bytes = sum(len(AirbyteEntrypoint.airbyte_message_to_string(m).encode()) for m in sync.output.records)
            figures.states = [len(AirbyteEntrypoint.airbyte_message_to_string(m).encode()) for m in sync.output.state_messages]
            results.append(figures)
            state = sync.state
    return results


# ------------------------------------------------------------------ printing


def kb(size: int) -> str:
    return f"{size:,} B" if size < 10_000 else f"{size / 1024:,.1f} KB" if size < 10_000_000 else f"{size / 1024 / 1024:,.1f} MB"


def share(part: int, whole: int) -> str:
    return f"{part / whole:.2%}" if whole else "no record"


def shares(f: SyncFigures) -> str:
    """All state bytes against the RECORD lines, and against the records' data alone (what the budget counts)."""
    return f"{share(f.all_states, f.record_bytes)} / {share(f.all_states, f.data_bytes)}" if f.records else "no record"


def calibrate(new: int) -> None:
    from integration_tests.meetlog_server import build_dataset

    args = dict(transcripts=1000, reports_per_transcript=1, projects=0, stuck_every=7)
    print("### The model against the real connector\n")
    print("build_dataset(1,000 transcripts, 1 report each, stuck_every=7): 143 pending, the 200 KB edge case among "
          f"the first. Three syncs: the first, one with no change, one after {new} new transcripts. Real: "
          "`source-meetlog` in-process (transcripts only, no rate limit). Model: this script on the same list items "
          "and details, with no time passing.\n")
    print("| reconcile | sync | | requests | records | record bytes | state messages | largest | all states |")
    print("|---|---|---|---|---|---|---|---|---|")
    for reconcile in (False, True):
        dataset = build_dataset(**args)
        first, again = syncs(seeded(dataset), reconcile, seconds_per_request=0.0)
        for _ in range(new):
            dataset.add_transcript()
        model = [first, again, one_sync(seeded(dataset), reconcile, again.final_state, 0.0)]
        real = real_syncs(args, reconcile, new)
        for name, m, r in zip(("first", "no change", f"{new} new"), model, real):
            for who, f in (("real", r), ("model", m)):
                print(f"| {'on' if reconcile else 'off'} | {name} | {who} | {f.lists} + {f.details} | {f.records:,} | "
                      f"{f.record_bytes:,} | {len(f.states)} | {f.largest:,} | {f.all_states:,} |")
    print()


def case_label(transcripts: int, data: Data, reconcile: bool) -> str:
    return f"| {transcripts:,} | {data.pending:,} ({data.label}) | {'on' if reconcile else 'off'} "


def messages(f: SyncFigures) -> str:
    return f"{len(f.states):,} ({f.checkpoints:,} + 1)"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.state_size", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,4000,10000,100000", help="transcript counts with 15%% pending")
    parser.add_argument("--new", type=int, default=5, help="new transcripts before the third sync")
    parser.add_argument("--record-sizes", default="4000,40000", help="RECORD line bytes of a completed transcript, "
                        "besides build_dataset's, for the table at 4,000 transcripts")
    parser.add_argument("--no-calibrate", action="store_true", help="skip the check against real syncs")
    args = parser.parse_args()

    if not args.no_calibrate:
        calibrate(args.new)

    templates = Templates.measured()
    print(f"RECORD lines: a completed transcript {templates.completed_median:,} B, a pending one "
          f"{templates.pending_median:,} B (medians of build_dataset's generic transcripts). State messages are "
          "counted as (checkpoints the plan's budget allowed + the final state).\n")
    cases = [(int(n), (3, 20)) for n in args.sizes.split(",")]
    cases.insert(min(2, len(cases)), (4000, (1, 7)))
    rows, grown_rows, verdicts = [], [], []
    for transcripts, pending in cases:
        data = synthetic(transcripts, pending, templates)
        for reconcile in (False, True):
            first, again, grown = syncs(data, reconcile, new=args.new)
            both = first.all_states + again.all_states
            rows.append(case_label(transcripts, data, reconcile) +
                        f"| {first.lists} + {first.details} | {first.records:,} ({kb(first.record_bytes)}) "
                        f"| {messages(first)} | {kb(first.largest)} | {kb(first.all_states)} "
                        f"| {shares(first)} | {again.lists} + {again.details} "
                        f"| {len(again.states)} | {kb(again.largest)} | {share(both, first.record_bytes)} |")
            grown_rows.append(case_label(transcripts, data, reconcile) +
                              f"| {grown.lists} + {grown.details} | {grown.records:,} ({kb(grown.record_bytes)}) "
                              f"| {messages(grown)} | {kb(grown.largest)} | {kb(grown.all_states)} "
                              f"| {shares(grown)} |")
            largest = max(first.largest, again.largest)
            if transcripts == 4000 and pending == (1, 7) and not reconcile:
                verdicts.append(f"- Largest state at 4,000 transcripts, 1 in 7 pending, reconcile_deletions off: "
                                f"{largest:,} B: {'met' if largest <= TARGET_LARGEST else 'NOT MET'} "
                                f"(target <= {TARGET_LARGEST:,} B).")
            # The target is the bytes on stdout: STATE lines against RECORD lines (the data alone is shown in the tables).
            for whole, what in ((first.record_bytes, "RECORD lines"),):
                ok = first.all_states <= TARGET_SHARE * whole
                verdicts.append(f"- First sync, {transcripts:,} ({data.label}), reconcile_deletions "
                                f"{'on' if reconcile else 'off'}: all states {share(first.all_states, whole)} of the "
                                f"{what}: {'met' if ok else 'NOT MET'} (target <= {TARGET_SHARE:.0%}).")

    print("#### A first sync, then one with no change\n")
    print("| Transcripts | Pending | reconcile | First sync: requests | records (RECORD bytes) | state messages "
          "| largest | all states | of record bytes (RECORD lines / data) | No change: requests | state messages | largest (= all) "
          "| Both syncs' states / first sync's record bytes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n#### Then a sync after {args.new} new transcripts\n")
    print("| Transcripts | Pending | reconcile | requests | records (RECORD bytes) | state messages | largest "
          "| all states | of record bytes (RECORD lines / data) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(grown_rows))

    print("\n#### Longer transcripts: the first sync at 4,000, one in seven pending\n")
    print("| Completed transcript's RECORD line | reconcile | records (RECORD bytes) | state messages | largest "
          "| all states | of record bytes (RECORD lines / data) |")
    print("|---|---|---|---|---|---|---|")
    for size in [None] + [int(n) for n in args.record_sizes.split(",") if n]:
        shaped = templates if size is None else templates.padded(size)
        data = synthetic(4000, (1, 7), shaped)
        for reconcile in (False, True):
            first = one_sync(data, reconcile, None, SECONDS_PER_REQUEST)
            print(f"| {shaped.completed_median:,} B | {'on' if reconcile else 'off'} | {first.records:,} "
                  f"({kb(first.record_bytes)}) | {messages(first)} | {kb(first.largest)} | {kb(first.all_states)} "
                  f"| {shares(first)} |")

    print("\n#### Issue #19's targets\n")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
