"""Benchmarks of source-meetlog against the local Meetlog API; prints one table of figures and goals.

    .venv/bin/python -m bench.run_benchmarks            # the real limits: about 8 minutes
    .venv/bin/python -m bench.run_benchmarks --quick    # a 6 s window and smaller data sets: about 2 minutes

The connector runs as the real `source-meetlog read` subprocess; the server runs in this process.
Each figure is of the child process alone (bench/child.py): wall time, user+system CPU, peak RSS.

Rate limit (the server's real 60 requests per 60 s per key), with 1, 2 and 3 keys:
  a full refresh of the transcripts stream needing 150 requests (2 list pages + 148 details).
  Its minimum wall time is the limiter's floor (bench/limits.py) plus the same sync with the limit
  off (median of 3 runs), measured in the same run: what is left over is what pacing costs beyond what
  the limit forces.
Throughput (limit off, requests_per_minute 1,000,000, one key): full refreshes of 2,000 and 20,000
  transcripts, next to a plain requests + json client (the baseline, below) doing the same calls.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from bench.child import ChildRun, run_child
from bench.limits import full_refresh_requests, limiter_floor_seconds, transcripts_for_requests
from integration_tests.rate_limited_statuses import median, quota_reset_errors, rate_limited, stream_statuses, wall_offset
from source_meetlog.components.key_pool import TEST_WINDOW_ENVIRONMENT_VARIABLE

REPO = Path(__file__).resolve().parent.parent
CONNECTOR_WINDOW_SECONDS = 60.0  # source_meetlog/components/key_pool.py: WINDOW_SECONDS
UNLIMITED_RPM = 1_000_000
KEY_COUNTS = (1, 2, 3)
SHORT_RUN_REPEATS = 3  # runs of a few seconds swing with the machine's other work: their median
EXPORT = "/api/v1/export/transcripts"
# Only --quick shortens the connector's window, to match the server's shorter one, through the
# test-only environment variable (source_meetlog/components/key_pool.py; not in the spec).


@dataclass(frozen=True)
class Scale:
    window_seconds: float
    per_window: int  # requests per window per key, on the server and in the connector's config
    limited_requests: int
    throughput_transcripts: Tuple[int, ...]


FULL = Scale(window_seconds=60.0, per_window=60, limited_requests=150, throughput_transcripts=(2_000, 20_000))
QUICK = Scale(window_seconds=6.0, per_window=6, limited_requests=30, throughput_transcripts=(200, 2_000))


# ---------------------------------------------------------------------------------- baseline

def baseline_client(base_url: str, key: str) -> None:
    """The baseline: the same list + detail calls as the connector, one at a time, as JSON lines.

    Plain requests + json, no framework: the floor a Python client pays for this traffic.
    Each line is an Airbyte RECORD message, so both write the same kind of output.
    """
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {key}", "Accept": "application/json"})
    out = sys.stdout.buffer
    page = 1
    while True:
        listed = session.get(f"{base_url}{EXPORT}", params={"page": page, "page_size": 100})
        listed.raise_for_status()
        body = listed.json()
        for item in body["items"]:
            detail = session.get(f"{base_url}{EXPORT}/{item['id']}")
            detail.raise_for_status()
            message = {
                "type": "RECORD",
                "record": {"stream": "transcripts", "data": detail.json(), "emitted_at": int(time.time() * 1000)},
            }
            out.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        if page >= body["meta"]["total_pages"]:
            break
        page += 1
    out.flush()


# ---------------------------------------------------------------------------------- runs

@dataclass
class Sync:
    """One measured child process and what the server saw of it."""

    run: ChildRun
    expected_records: int
    requests: int
    rejected: int  # 429 answers
    per_key: List[int]
    first_request_at: Optional[float]  # seconds after the spawn
    last_request_at: Optional[float]
    rate_limited_statuses: int = 0  # STREAM_STATUS RUNNING with reason RATE_LIMITED on stdout
    quota_reset_errors: Tuple[float, ...] = ()  # |quota_reset - the stream's next request|, s, one per status

    @property
    def startup_seconds(self) -> Optional[float]:
        return self.first_request_at

    @property
    def request_span_seconds(self) -> Optional[float]:
        if self.first_request_at is None or self.last_request_at is None:
            return None
        return self.last_request_at - self.first_request_at

    def check(self) -> None:
        """A sync that failed or lost records is no benchmark: stop rather than print its times."""
        failure = self.run.failure()
        if failure is None and self.run.records != self.expected_records:
            failure = f"{self.run.records} records instead of {self.expected_records}; see {self.run.stdout_path}"
        if failure:
            raise SystemExit(f"benchmark run failed: {failure}")


class Bench:
    def __init__(self, scale: Scale, work: Path, log=print):
        self.scale = scale
        self.work = work
        self.log = log
        self.connector = self._connector_command()

    def _connector_command(self) -> List[str]:
        script = Path(sys.executable).parent / "source-meetlog"
        return [str(script)] if script.exists() else [shutil.which("source-meetlog") or "source-meetlog"]

    def _connector_env(self) -> Optional[dict]:
        if self.scale.window_seconds == CONNECTOR_WINDOW_SECONDS:
            return None
        return {**os.environ, TEST_WINDOW_ENVIRONMENT_VARIABLE: str(self.scale.window_seconds)}

    def connector_sync(self, server, keys: Sequence[str], requests_per_minute: int, name: str, expected: int) -> Sync:
        config, catalog = self.work / f"{name}.config.json", self.work / f"{name}.catalog.json"
        config.write_text(json.dumps(
            {"api_key": ",".join(keys), "base_url": server.base_url, "requests_per_minute": requests_per_minute}
        ))
        catalog.write_text(json.dumps({"streams": [{
            "stream": {"name": "transcripts", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }]}))
        argv = self.connector + ["read", "--config", str(config), "--catalog", str(catalog)]
        return self._measure(server, argv, name, expected, env=self._connector_env())

    def baseline_sync(self, server, key: str, name: str, expected: int) -> Sync:
        argv = [sys.executable, "-m", "bench.run_benchmarks", "--baseline-client", server.base_url]
        return self._measure(server, argv, name, expected, env={**os.environ, "MEETLOG_API_KEY": key})

    def _measure(self, server, argv: List[str], name: str, expected: int, env) -> Sync:
        before = len(server.requests)
        self.log(f"  {name}: running…", flush=True)
        run = run_child(argv, self.work, name, env=env, cwd=REPO)
        seen = server.requests.snapshot()[before:]
        with open(run.stdout_path, encoding="utf-8") as stdout:
            statuses = stream_statuses(stdout)
        sync = Sync(
            run=run,
            expected_records=expected,
            requests=len(seen),
            rejected=sum(1 for r in seen if r.status == 429),
            per_key=[sum(1 for r in seen if r.key == f"key{n}") for n in range(1, max(KEY_COUNTS) + 1)],
            first_request_at=seen[0].timestamp - run.started_at if seen else None,
            last_request_at=seen[-1].timestamp - run.started_at if seen else None,
            rate_limited_statuses=len(rate_limited(statuses)),
            quota_reset_errors=tuple(quota_reset_errors(statuses, seen, wall_offset())),
        )
        sync.check()
        self.log(f"  {name}: {describe(sync)}", flush=True)
        return sync

    # ---- the rate limit ----------------------------------------------------------------

    def rate_limited(self) -> List["LimitedResult"]:
        scale = self.scale
        transcripts = transcripts_for_requests(scale.limited_requests)
        requests = full_refresh_requests(transcripts)
        results = []
        for keys in KEY_COUNTS:
            floor = limiter_floor_seconds(requests, keys, scale.per_window, scale.window_seconds)
            # The same sync with the limit off: the connector's own time for these requests.
            free = self._median([
                self._one_sync(transcripts, keys, None, UNLIMITED_RPM, f"limit-off-{keys}key-{attempt}")
                for attempt in range(1, SHORT_RUN_REPEATS + 1)
            ])
            # A sync that fits in the first burst takes seconds and swings as much as the limit-off
            # one: it gets a median too. One that waits for the window is run once.
            limited_runs = [
                self._one_sync(transcripts, keys, scale.per_window, scale.per_window, f"limited-{keys}key-{attempt}")
                for attempt in range(1, (SHORT_RUN_REPEATS if floor == 0 else 1) + 1)
            ]
            limited = self._median(limited_runs)
            self.log(f"  {keys} key(s): limiter floor {floor:.0f} s; the limited sync's first to last request "
                     f"{limited.request_span_seconds:.2f} s; limit off (median) {free.run.wall_seconds:.2f} s", flush=True)
            results.append(LimitedResult(keys, requests, floor, limited, free, limited_runs))
        return results

    def _one_sync(self, transcripts: int, keys: int, per_window: Optional[int], requests_per_minute: int,
                  name: str) -> Sync:
        from integration_tests.meetlog_server import MeetlogServer, build_dataset

        with MeetlogServer(build_dataset(transcripts), requests_per_window=per_window,
                           window_seconds=self.scale.window_seconds) as server:
            labels = [server.add_key() for _ in range(keys)]
            return self.connector_sync(server, labels, requests_per_minute, name, transcripts)

    @staticmethod
    def _median(syncs: List[Sync]) -> Sync:
        return sorted(syncs, key=lambda sync: sync.run.wall_seconds)[len(syncs) // 2]

    # ---- throughput --------------------------------------------------------------------

    def throughput(self) -> List[Tuple[int, Sync, Sync]]:
        from integration_tests.meetlog_server import MeetlogServer, build_dataset

        results = []
        for transcripts in self.scale.throughput_transcripts:
            with MeetlogServer(build_dataset(transcripts), requests_per_window=None) as server:
                key = server.add_key()
                connector = self.connector_sync(server, [key], UNLIMITED_RPM, f"connector-{transcripts}", transcripts)
                baseline = self.baseline_sync(server, key, f"baseline-{transcripts}", transcripts)
            results.append((transcripts, connector, baseline))
        return results


@dataclass
class LimitedResult:
    keys: int
    requests_needed: int
    limiter_floor: float
    limited: Sync  # the median run, when there are several
    limit_off: Sync
    limited_runs: List[Sync]

    @property
    def rejected(self) -> int:
        """429s of every limited run, not only the median one."""
        return sum(sync.rejected for sync in self.limited_runs)

    @property
    def most_requests(self) -> int:
        return max(sync.requests for sync in self.limited_runs)

    @property
    def minimum(self) -> float:
        return self.limiter_floor + self.limit_off.run.wall_seconds


def describe(sync: Sync) -> str:
    run = sync.run
    parts = [
        f"wall {run.wall_seconds:.2f} s",
        f"startup {sync.startup_seconds:.2f} s" if sync.startup_seconds is not None else "no requests",
        f"requests {sync.requests} ({sync.rejected} × 429)",
        f"{sync.rate_limited_statuses} RATE_LIMITED statuses"
        + (f" (quota_reset off by median {median(sync.quota_reset_errors):.3f} s, at most {max(sync.quota_reset_errors):.3f} s)"
           if sync.quota_reset_errors else ""),
        f"span {sync.request_span_seconds:.2f} s" if sync.request_span_seconds is not None else "",
        f"cpu {run.cpu_seconds:.2f} s",
        f"peak RSS {run.peak_rss_mb:.0f} MB",
        f"{run.records} records",
    ]
    if sum(sync.per_key[1:]):
        parts.append("per key " + "/".join(str(n) for n in sync.per_key if n))
    return ", ".join(p for p in parts if p)


# ---------------------------------------------------------------------------------- the table

def verdict(ok: Optional[bool]) -> str:
    return "—" if ok is None else ("pass" if ok else "**miss**")


def table(scale: Scale, limited: List[LimitedResult], throughput) -> List[str]:
    rows = [("Figure", "Measured", "Goal", "Result"), ("---", "---", "---", "---")]
    if limited:
        requests = limited[0].requests_needed
        for r in limited:
            ratio = r.limited.run.wall_seconds / r.minimum
            rows.append((
                f"{r.keys} key{'s' if r.keys > 1 else ''}: wall / minimum ({requests} requests, {scale.per_window} per {scale.window_seconds:g} s per key)",
                f"{r.limited.run.wall_seconds:.1f} s / ({r.limiter_floor:.0f} s limiter + {r.limit_off.run.wall_seconds:.1f} s limit off) = {ratio:.3f}",
                "≤ 1.05", verdict(ratio <= 1.05),
            ))
        statuses = [r.limited.rate_limited_statuses for r in limited]
        rows.append(("RATE_LIMITED statuses sent (1 / 2 / 3 keys)", " / ".join(map(str, statuses)), "one per wait",
                     verdict(None)))
        errors = [median(r.limited.quota_reset_errors) for r in limited]
        rows.append((
            "median |quota_reset − that stream's next request| (1 / 2 / 3 keys)",
            " / ".join("—" if e is None else f"{e:.3f} s" for e in errors),
            "≤ 2 s", verdict(all(e is None or e <= 2.0 for e in errors)),
        ))
        worst = [max(r.limited.quota_reset_errors, default=0.0) for r in limited]
        rows.append(("largest |quota_reset − next request| (1 / 2 / 3 keys)", " / ".join(f"{w:.3f} s" for w in worst),
                     "≤ 2 s", verdict(all(w <= 2.0 for w in worst))))
        rejected = [r.rejected for r in limited]
        rows.append(("429 responses (1 / 2 / 3 keys)", " / ".join(map(str, rejected)), "0", verdict(not any(rejected))))
        made = [r.most_requests / r.requests_needed for r in limited]
        rows.append((
            "requests made / minimum (1 / 2 / 3 keys)",
            " / ".join(f"{r.most_requests}/{r.requests_needed} = {m:.2f}" for r, m in zip(limited, made)),
            "1.00", verdict(all(round(m, 2) == 1.0 for m in made)),
        ))
        one = limited[0].limited.run.wall_seconds
        for r in limited[1:]:
            speedup = one / r.limited.run.wall_seconds
            ideal = limited[0].minimum / r.minimum
            rows.append((
                f"speed-up, {r.keys} keys over 1",
                f"{speedup:.2f}× (ideal under this limiter {ideal:.2f}×)",
                f"≥ {0.9 * r.keys:.1f}×", verdict(speedup >= 0.9 * r.keys),
            ))
    for transcripts, connector, baseline in throughput:
        c, b = connector.run, baseline.run
        c_rate, b_rate = c.records / c.wall_seconds, b.records / b.wall_seconds
        c_cpu, b_cpu = 1000 * c.cpu_seconds / c.records, 1000 * b.cpu_seconds / b.records
        rows.append((
            f"no limit, {transcripts:,} transcripts: records/s, connector vs baseline",
            f"{c_rate:.0f} vs {b_rate:.0f} ({c_rate / b_rate:.2f}×)", "vs baseline", verdict(None),
        ))
        rows.append((
            f"no limit, {transcripts:,} transcripts: CPU s per 1,000 records, connector vs baseline",
            f"{c_cpu:.2f} vs {b_cpu:.2f} ({c_cpu / b_cpu:.1f}×)", "vs baseline", verdict(None),
        ))
    if len(throughput) >= 2:
        (small, c_small, b_small), (large, c_large, b_large) = throughput[0], throughput[-1]
        growth = c_large.run.peak_rss_mb / c_small.run.peak_rss_mb
        rows.append((
            f"peak RSS, connector, {small:,} → {large:,} transcripts",
            f"{c_small.run.peak_rss_mb:.0f} MB → {c_large.run.peak_rss_mb:.0f} MB ({growth:.2f}×)",
            "flat (≤ 1.10×)", verdict(growth <= 1.10),
        ))
        rows.append((
            f"peak RSS, baseline, {small:,} → {large:,} transcripts",
            f"{b_small.run.peak_rss_mb:.0f} MB → {b_large.run.peak_rss_mb:.0f} MB "
            f"({b_large.run.peak_rss_mb / b_small.run.peak_rss_mb:.2f}×)",
            "reference", verdict(None),
        ))
    return ["| " + " | ".join(row) + " |" for row in rows]


def machine() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "source_meetlog"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    tree = f"{head or 'unknown'}{' + uncommitted changes in source_meetlog/' if dirty else ''}"
    return (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.release()}; "
            f"connector at {tree}")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run_benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a 6 s window of 6 requests (the connector's window set to match through "
                             f"{TEST_WINDOW_ENVIRONMENT_VARIABLE}), 30 requests, "
                             "200 and 2,000 transcripts: a smoke run of about 2 minutes")
    parser.add_argument("--only", choices=("limits", "throughput"), help="run one half of the benchmarks")
    parser.add_argument("--requests", type=int,
                        help="requests of the rate-limited sync (default 150); above 3 × 60 = 180 even 3 keys wait")
    parser.add_argument("--sizes", type=lambda text: tuple(int(n) for n in text.split(",")),
                        help="transcript counts of the throughput runs, comma-separated (default 2000,20000)")
    parser.add_argument("--keep-output", action="store_true", help="keep each run's stdout and stderr files")
    parser.add_argument("--baseline-client", metavar="BASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_client:
        baseline_client(args.baseline_client, os.environ["MEETLOG_API_KEY"])
        return

    scale = QUICK if args.quick else FULL
    if args.sizes:
        scale = dataclasses.replace(scale, throughput_transcripts=args.sizes)
    if args.requests:
        scale = dataclasses.replace(scale, limited_requests=args.requests)
    work = Path(tempfile.mkdtemp(prefix="meetlog-bench-"))
    started = time.monotonic()
    print(f"Machine: {machine()}")
    print(f"Runs' output in {work}" + ("" if args.keep_output else " (deleted at the end; --keep-output keeps it)"))
    bench = Bench(scale, work)
    try:
        limited = throughput = []
        if args.only in (None, "limits"):
            print(f"Rate limit: {scale.per_window} requests per {scale.window_seconds:g} s per key, "
                  f"{scale.limited_requests} requests ({transcripts_for_requests(scale.limited_requests)} transcripts)")
            limited = bench.rate_limited()
        if args.only in (None, "throughput"):
            print("No limit: full refresh of transcripts, connector then baseline")
            throughput = bench.throughput()
    finally:
        if not args.keep_output:
            shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - started
    print()
    print("\n".join(table(scale, limited, throughput)))
    print()
    print(f"Total run time {math.floor(total // 60)} min {total % 60:.0f} s"
          f"{' (--quick: not the real limits)' if args.quick else ''}.")


if __name__ == "__main__":
    main()
