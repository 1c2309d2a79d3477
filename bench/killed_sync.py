"""What a SIGKILL costs: a sync killed mid-way and resumed from its last state messages (issue #19).

    PYTHONPATH=. .venv/bin/python -m bench.killed_sync                               # about 3 minutes
    PYTHONPATH=. .venv/bin/python -m bench.killed_sync --kill-after 190 --scan-step 0  # the test's kill point alone

The data and the runs of integration_tests/test_killed_sync.py: build_dataset(230 transcripts, 1 report
each, 12 projects, stuck_every=7, stuck_reports_every=10): 33 transcripts and 21 reports stay
`processing`. The three streams, incremental, with one key and no rate limit; each run is the console
script `source-meetlog read` in a subprocess (integration_tests/killed_sync.py), killed with SIGKILL by
the server when the detail request after the first N arrives, and resumed with the `state` of each
stream's last STATE line, as the platform resumes it.

For each kill point N:
- one kill: the details the resumed run asked for again (already answered to the killed run), and the
  RECORD lines it printed again (records the killed run had printed, sent again: duplicates an Append +
  Deduped table absorbs);
- two kills: the killed run, the resumed run killed again at the same point (half way through its
  details when it makes fewer than N), and the run that finishes; their requests together, against the
  clean read's (issue #19: at most 1.2 times).
Each row also says whether what the runs printed, the later version of a record winning, is every record
the server holds, field by field (integration_tests/served_records.py). A second table kills one run at
every --scan-step details over the whole read and resumes it once: what one kill costs wherever it lands.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Dict, List

from integration_tests.harness import config_for, minimum_requests
from integration_tests.killed_sync import Run, fetched_again, latest_records, read, state_after
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.served_records import configured_catalog, differences, record_key, served_records

STREAMS = ("transcripts", "reports", "projects")
MESSY = dict(transcripts=230, reports_per_transcript=1, projects=12, stuck_every=7, stuck_reports_every=10)
TEST_KILL_POINT = 190  # test_killed_sync.KILL_AFTER_DETAILS: the transcripts' second list page
FETCHED_AGAIN_PER_KILL = 20  # issue #19: "fetches again at most about 20 records"
TWO_KILLS_COST = 1.2  # issue #19: two SIGKILLs cost at most 1.2 times the requests of one clean read


def printed_again(earlier: List[Run], later: Run) -> int:
    """RECORD lines of `later` whose record (stream and key) one of the `earlier` runs printed already."""
    before = {(stream, record_key(stream, r)) for run in earlier for stream, rs in run.records.items() for r in rs}
    return sum((stream, record_key(stream, r)) in before for stream, rs in later.records.items() for r in rs)


def per_stream(counts: Dict[str, int]) -> str:
    total = sum(counts.values())
    shares = ", ".join(f"{stream[0]} {n}" for stream, n in counts.items() if n)
    return f"{total} ({shares})" if shares else "0"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.killed_sync", description=__doc__.splitlines()[0])
    parser.add_argument("--kill-after", default="60,190,320",
                        help="kill points of the two-kill runs: detail requests answered before the kill (190: the test's)")
    parser.add_argument("--scan-step", type=int, default=20, help="one kill every this many details (0: no scan)")
    args = parser.parse_args()
    points = [int(n) for n in args.kill_after.split(",")]

    with MeetlogServer(dataset=build_dataset(**MESSY), requests_per_window=None) as server, \
            tempfile.TemporaryDirectory() as work:
        config, catalog = config_for(server, server.add_key()), configured_catalog("incremental", STREAMS)
        folder = Path(work)
        expected = {s: r for s, r in served_records(server).items() if s in STREAMS}

        def sync(name: str, state=None, **kill) -> Run:
            run = read(server, config, catalog, folder / name, state=state, **kill)
            if not run.killed:
                assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
            return run

        def complete(*runs: Run) -> str:
            return "yes" if differences(latest_records(*runs), expected) == [] else "NO"

        clean = sync("clean")
        floor = minimum_requests(len(server.dataset.list_items(s)) for s in STREAMS)
        print(f"Data: {', '.join(f'{len(server.dataset.list_items(s))} {s}' for s in STREAMS)} "
              f"(build_dataset(**{MESSY})). Clean read: {len(clean.requests)} requests (floor {floor}), "
              f"{clean.record_count} records, {sum(m['type'] == 'STATE' for m in clean.messages)} state messages, "
              f"complete: {complete(clean)}.\n")
        print("| Killed after N details | Records printed before the kill | One kill: details fetched again "
              "| records printed again | complete | Two kills: requests of the 3 runs | details fetched again by run 2 "
              "/ by run 3 | state messages of run 2 | / clean read | complete |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        verdicts = []
        for point in points:
            killed = sync(f"killed-{point}", kill_after_details=point)
            assert killed.killed and killed.state, f"no state before the kill at {point}"
            resumed = sync(f"resumed-{point}", state=killed.state)
            # The resumed run killed again at the same point, or half way through its details if it makes fewer.
            resumed_details = sum(len(resumed.detail_ids(stream)) for stream in STREAMS)
            second = point if resumed_details > point else resumed_details // 2
            again = sync(f"killed-again-{point}", state=killed.state, kill_after_details=second)
            finished = sync(f"finished-{point}", state=state_after(killed, again)) if again.killed else None
            fetched = fetched_again([killed], resumed, STREAMS)
            three = [killed, again] + ([finished] if finished else [])
            spent = [len(run.requests) for run in three]
            ratio = sum(spent) / len(clean.requests)
            second_kill = "" if second == point else f" (run 2 killed after {second})"
            second_kill += "" if again.killed else " (run 2 ended before its kill)"
            by_second = sum(fetched_again([killed], again, STREAMS).values())
            by_third = sum(fetched_again([killed, again], finished, STREAMS).values()) if finished else 0
            print(f"| {point} | {killed.record_count} | {per_stream(fetched)} | {printed_again([killed], resumed)} "
                  f"| {complete(killed, resumed)} | {' + '.join(map(str, spent))} = {sum(spent)}{second_kill} "
                  f"| {by_second} / {by_third if finished else '-'} | {sum(m['type'] == 'STATE' for m in again.messages)} "
                  f"| {ratio:.2f} | {complete(*three)} |")
            mark = " (the test's kill point)" if point == TEST_KILL_POINT else ""
            verdicts.append(
                f"- Killed after {point} details{mark}: {sum(fetched.values())} details fetched again after one kill "
                f"({'met' if sum(fetched.values()) <= FETCHED_AGAIN_PER_KILL else 'NOT MET'}: about "
                f"{FETCHED_AGAIN_PER_KILL} at most); two kills {ratio:.2f} x the clean read "
                f"({'met' if ratio <= TWO_KILLS_COST else 'NOT MET'}: at most {TWO_KILLS_COST}).")
        if args.scan_step:
            scan(sync, complete, clean, args.scan_step, verdicts)
        print("\nIssue #19's targets:\n")
        print("\n".join(verdicts))


def streams_at(clean: Run) -> List[str]:
    """The stream of each detail request of the clean read, in order."""
    prefix = "/api/v1/export/"
    return [r.path[len(prefix):].split("/")[0] for r in clean.requests if r.path.count("/") == 5]


def scan(sync, complete, clean: Run, step: int, verdicts: List[str]) -> None:
    order = streams_at(clean)
    print(f"\nOne kill every {step} details of the clean read's {len(order)}, each resumed once:\n")
    print("| Killed after N details | (the clean read's next detail) | Records printed before the kill "
          "| Details fetched again | Records printed again | Resumed run's requests | complete |")
    print("|---|---|---|---|---|---|---|")
    worst = (0, 0)
    for point in range(step, len(order), step):
        killed = sync(f"scan-{point}", kill_after_details=point)
        if not killed.killed or not killed.state:
            print(f"| {point} | {order[point]} | {killed.record_count} | not killed, or no state before the kill | | | |")
            continue
        resumed = sync(f"scan-resumed-{point}", state=killed.state)
        fetched = fetched_again([killed], resumed, STREAMS)
        worst = max(worst, (sum(fetched.values()), point))
        print(f"| {point} | {order[point]} | {killed.record_count} | {per_stream(fetched)} "
              f"| {printed_again([killed], resumed)} | {len(resumed.requests)} | {complete(killed, resumed)} |")
    verdicts.append(f"- Over the scan, the most details fetched again after one kill: {worst[0]} (killed after {worst[1]} "
                    f"details; {'met' if worst[0] <= FETCHED_AGAIN_PER_KILL else 'NOT MET'}: about "
                    f"{FETCHED_AGAIN_PER_KILL} at most).")


if __name__ == "__main__":
    main()
