"""State size over one sync, driving the FetchPlan directly (fetch_plan.py) the way the router does.

    .venv/bin/python -m bench.state_size

For N transcripts listed newest first, 100 a page, a first sync: the state a checkpoint would write
after every page (json bytes), its largest, and the sum over the sync, with and without
reconcile_deletions, beside the record bytes (a detail of about RECORD_BYTES each). The 20 newest
transcripts are still processing (they stay in `pending`); with reconcile_deletions, the last
sync's state named every id.
"""

import json
import random
import uuid
from datetime import datetime, timedelta

from source_meetlog.core.fetch_plan import FetchPlan, ListRules
from source_meetlog.core.list_state import ListState

RECORD_BYTES = 2_000  # a transcript detail with its text is a few kB; a modest figure
NOW = datetime(2026, 12, 1, 12, 0, 0)


def one_sync(transcripts: int, reconcile: bool) -> dict:
    rules = ListRules(cursor_field="created_at", status_field="status", newest_first=True, reconcile_deletions=reconcile)
    ids = [str(uuid.UUID(int=random.Random(position).getrandbits(128), version=4)) for position in range(transcripts)]
    previous = set(ids) if reconcile else None
    saved = ListState.read(ListState(synced_ids=previous).written("created_at", reconcile), "created_at")
    plan = FetchPlan(rules, saved, None, inclusive=False, now=NOW)
    plan.new_read()
    largest = total = checkpoints = 0
    for position in range(transcripts):
        created = (NOW - timedelta(minutes=position)).strftime("%Y-%m-%dT%H:%M:%SZ")
        item = {"id": ids[position], "created_at": created,
                "status": "processing" if position < 20 else "completed"}
        if position % 100 == 0:
            plan.page_done(next_item=item)
            plan.record_bytes += 100 * RECORD_BYTES if position else 0
            if position and plan.worth_a_checkpoint():
                size = len(json.dumps(plan.state().written("created_at", reconcile)))
                largest, total, checkpoints = max(largest, size), total + size, checkpoints + 1
        fetch = plan.see(item, position // 100 + 1, item["id"])
        if fetch:
            plan.answered(fetch.record_id, item)
    plan.page_done()
    plan.finish()
    plan.close()
    final = len(json.dumps(plan.state().written("created_at", reconcile)))
    return {"largest": max(largest, final), "total": total + final, "checkpoints": checkpoints + 1,
            "records": transcripts * RECORD_BYTES}


def main() -> None:
    print(f"{'transcripts':>11} {'reconcile':>9} {'checkpoints':>11} {'largest state':>14} {'all states':>12} {'of record bytes':>16}")
    for transcripts in (1_000, 4_000, 10_000, 100_000):
        for reconcile in (False, True):
            figures = one_sync(transcripts, reconcile)
            share = figures["total"] / figures["records"]
            print(f"{transcripts:>11,} {str(reconcile):>9} {figures['checkpoints']:>11,} {figures['largest']:>12,} B "
                  f"{figures['total']:>10,} B {share:>15.2%}")


if __name__ == "__main__":
    main()
