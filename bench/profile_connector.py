"""Where the connector spends its CPU: a full refresh of transcripts, no limit, under cProfile.

    .venv/bin/python -m bench.profile_connector --transcripts 2000 [--sort tottime] [--top 30]

cProfile sees only the thread that enables it, and the CDK's concurrent read makes its requests in
worker threads, so the child enables one profiler per thread (wrapping Thread.run) and merges
them at exit. Each profiler counts its thread's CPU time (time.thread_time), not wall time: with
the GIL shared by several threads, wall time would charge a thread for the time it waited for the
GIL. Profiling slows the connector about twofold; read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import pstats
import sys
import tempfile
from pathlib import Path

from bench.child import run_child
from bench.run_benchmarks import REPO, UNLIMITED_RPM

PROFILED_RUNNER = """
import cProfile, sys, threading, time
profiles = []
thread_run = threading.Thread.run
def profiled_run(self):
    profile = cProfile.Profile(time.thread_time)
    profiles.append(profile)
    profile.enable()
    try:
        thread_run(self)
    finally:
        profile.disable()
threading.Thread.run = profiled_run
main_profile = cProfile.Profile(time.thread_time)
profiles.append(main_profile)
main_profile.enable()
try:
    from source_meetlog.run import run
    run()
finally:
    main_profile.disable()
    import pstats
    stats = pstats.Stats(main_profile)
    for profile in profiles[1:]:
        profile.disable()
        stats.add(profile)
    stats.dump_stats({stats_path!r})
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_connector", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transcripts", type=int, default=2000)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)

    from integration_tests.meetlog_server import MeetlogServer, build_dataset

    work = Path(tempfile.mkdtemp(prefix="meetlog-profile-"))
    stats_path = work / "connector.pstats"
    with MeetlogServer(build_dataset(args.transcripts), requests_per_window=None) as server:
        key = server.add_key()
        config, catalog = work / "config.json", work / "catalog.json"
        config.write_text(json.dumps({"api_key": key, "base_url": server.base_url, "requests_per_minute": UNLIMITED_RPM}))
        catalog.write_text(json.dumps({"streams": [{
            "stream": {"name": "transcripts", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite",
        }]}))
        runner = PROFILED_RUNNER.format(stats_path=str(stats_path))
        run = run_child([sys.executable, "-c", runner, "read", "--config", str(config), "--catalog", str(catalog)],
                        work, "profiled", cwd=REPO)
    print(f"{run.records} records, wall {run.wall_seconds:.1f} s, cpu {run.cpu_seconds:.1f} s (profiled); "
          f"stats in {stats_path}")
    if run.failure():
        raise SystemExit(run.failure())
    pstats.Stats(str(stats_path)).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
