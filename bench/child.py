"""One measured child process: wall time, CPU seconds and peak RSS of that process alone.

Peak RSS goes through a small launcher. A child spawned straight from the benchmark process
reports the benchmark's own peak RSS as its ru_maxrss: Python spawns with vfork, and Linux
carries the memory the child had just before exec (the parent's, under vfork) into the child's
high-water mark. With a 20,000-transcript server in this process that adds tens of MB to every
child. The launcher (`python -S`, about 10 MB) forks and execs the command itself and reports
the command's own os.wait4 usage, so the floor of any child's peak RSS is the launcher's ~10 MB.
(RUSAGE_CHILDREN would be no better: it reports the largest child so far, not this one.)
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

RECORD_PREFIX = b'{"type":"RECORD"'  # the connector's orjson and the baseline both write compact JSON

LAUNCHER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started_at = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
ended_at = time.monotonic()
with open(report, "w") as out:
    json.dump({"started_at": started_at, "wall_seconds": ended_at - started_at,
               "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_kb": usage.ru_maxrss,
               "exit_code": os.waitstatus_to_exitcode(status)}, out)
"""


@dataclass
class ChildRun:
    started_at: float  # time.monotonic() at the fork: the same clock as the server's request log
    wall_seconds: float
    cpu_seconds: float  # user + system of the child
    peak_rss_mb: float
    exit_code: int
    records: int
    stdout_path: Path
    stderr_path: Path

    def failure(self) -> Optional[str]:
        """Why this run cannot count as a benchmark, or None."""
        if self.exit_code != 0:
            return f"exit code {self.exit_code}; see {self.stderr_path} and {self.stdout_path}"
        if b'"failure_type"' in self.stdout_path.read_bytes():
            return f"the output carries an error trace; see {self.stdout_path}"
        return None


def run_child(argv: List[str], output_dir: Path, name: str, env: Optional[Dict[str, str]] = None,
              cwd: Optional[Path] = None) -> ChildRun:
    """Runs argv with stdout and stderr to files in output_dir, and counts the RECORD lines."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = output_dir / f"{name}.stdout.jsonl", output_dir / f"{name}.stderr.txt"
    report_path = output_dir / f"{name}.usage.json"
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(report_path), *argv],
                       stdout=stdout, stderr=stderr, env=env, cwd=cwd, check=True)
    usage = json.loads(report_path.read_text())
    return ChildRun(
        started_at=usage["started_at"],
        wall_seconds=usage["wall_seconds"],
        cpu_seconds=usage["cpu_seconds"],
        peak_rss_mb=usage["peak_rss_kb"] / 1024,  # Linux reports kilobytes
        exit_code=usage["exit_code"],
        records=count_records(stdout_path),
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )


def count_records(path: Path) -> int:
    with open(path, "rb") as lines:
        return sum(1 for line in lines if line.startswith(RECORD_PREFIX))
