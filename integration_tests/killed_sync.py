"""The installed `source-meetlog read`, run as the platform runs it, killed without warning, and resumed.

    first = read(server, config, catalog, folder / "1", kill_after_records=150)  # SIGKILL after the 150th RECORD line
    second = read(server, config, catalog, folder / "2", state=first.state)     # resumed with --state
    latest_records(first, second)                       # what an Append + Deduped table holds
    fetched_again([first], second, streams)             # details asked for again, per stream

Each run is the console script in a subprocess (with this worktree on PYTHONPATH), its stdout read
line by line and each line parsed as JSON, as the platform reads it. A kill is SIGKILL: no handler
runs, nothing is flushed; the lines the process had already written into the pipe still arrive
(the platform reads them too), a line torn by the kill does not. The kill comes after a number of
RECORD lines read, or, at a point that does not move with how fast stdout is read, from the server
when the detail request after a given number arrives. `state` is what the platform passes to the
next attempt: the `state` object of the last STATE line of each stream. `requests` are the server's
log of this run. Every run is bounded by `timeout`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from integration_tests.meetlog_server import IncomingRequest, MeetlogServer, RequestRecord
from integration_tests.served_records import record_key, records_by_stream

REPO = Path(__file__).resolve().parent.parent
RUN_TIMEOUT_SECONDS = 120.0
# After the process is gone the server may still be answering its last requests: their log lines
# are waited for until none has come for this long.
SETTLE_SECONDS = 0.3


def console_script() -> str:
    found = shutil.which("source-meetlog", path=str(Path(sys.executable).parent))
    assert found, "the console script source-meetlog is not installed beside this Python"
    return found


@dataclass
class Run:
    messages: List[dict]  # every whole line printed, parsed, in order
    requests: List[RequestRecord]  # the server's log of this run, the requests cut short by a kill included
    killed: bool  # SIGKILL was sent
    returncode: int
    stderr: str
    answered_before_kill: Optional[int] = None  # how many of `requests` the server had answered at the kill
    records_at_kill: Optional[int] = None  # RECORD lines read when the kill was sent
    torn_line: str = ""  # a last line the kill cut short (dropped, as the platform drops it)

    @property
    def records(self) -> Dict[str, List[dict]]:
        return records_by_stream(self.messages)

    @property
    def record_count(self) -> int:
        return sum(1 for m in self.messages if m.get("type") == "RECORD")

    @property
    def state(self) -> List[dict]:
        """The `state` of the last STATE line of each stream, as the platform passes them back."""
        latest: Dict[str, dict] = {}
        for message in self.messages:
            if message.get("type") == "STATE":
                latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        return list(latest.values())

    def detail_ids(self, stream: str) -> List[str]:
        """The ids whose detail the server answered (200) to this run, before the kill if it was killed."""
        prefix = f"/api/v1/export/{stream}/"
        answered = self.requests if self.answered_before_kill is None else self.requests[: self.answered_before_kill]
        return [r.path[len(prefix):] for r in answered if r.path.startswith(prefix) and r.status == 200]

    @property
    def errors(self) -> List[str]:
        return [m["trace"]["error"]["message"] for m in self.messages
                if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]


class _Killer:
    """Sends SIGKILL once, from the line reader or from the server's request hook, and notes when."""

    def __init__(self, server: MeetlogServer, before: int) -> None:
        self._server, self._before = server, before
        self._lock = threading.Lock()
        self.process: Optional[subprocess.Popen] = None
        self.answered: Optional[int] = None  # requests of this run answered at the kill
        self.records: Optional[int] = None
        self.details = 0

    @property
    def done(self) -> bool:
        return self.answered is not None

    def kill(self, records: Optional[int]) -> None:
        with self._lock:
            if self.done:
                return
            os.kill(self.process.pid, signal.SIGKILL)
            # The server logs a request as it answers it: what is logged now was answered before the kill.
            self.answered = len(self._server.requests) - self._before
            self.records = records

    def hook(self, details: int, lines: List[int]) -> Callable[[IncomingRequest], None]:
        """An on_request hook that kills when the detail request after the first `details` arrives."""

        def on_request(incoming: IncomingRequest) -> None:
            if incoming.path.count("/") != 5:  # /api/v1/export/<stream>/<id>: a detail
                return
            with self._lock:
                self.details += 1
                due = self.details > details
            if due:
                self.kill(lines[0])

        return on_request



def state_after(*runs: Run) -> List[dict]:
    """What the platform passes to the next attempt: each stream's last STATE over the attempts so far
    (a stream that wrote none in the latest attempt keeps the one before)."""
    latest: Dict[str, dict] = {}
    for run in runs:
        latest.update((state["stream"]["stream_descriptor"]["name"], state) for state in run.state)
    return list(latest.values())

def read(
    server: MeetlogServer,
    config: dict,
    catalog: dict,
    folder: Path,
    state: Optional[List[dict]] = None,
    *,
    kill_after_records: Optional[int] = None,
    kill_after_details: Optional[int] = None,
    timeout: float = RUN_TIMEOUT_SECONDS,
) -> Run:
    """One `source-meetlog read`, killed (SIGKILL) once `kill_after_records` RECORD lines have been read
    from its stdout, or once the server has answered `kill_after_details` detail requests of this run
    (when the next one arrives: a point in the sync that does not depend on how fast stdout is read);
    otherwise it runs to its end."""
    folder.mkdir(parents=True, exist_ok=True)
    args = ["read", "--config", _write(folder / "config.json", config), "--catalog", _write(folder / "catalog.json", catalog)]
    if state is not None:
        args += ["--state", _write(folder / "state.json", state)]
    before = len(server.requests)
    killer = _Killer(server, before)
    messages: List[dict] = []
    records = [0]  # a list, so that the hook reads the current count
    torn = ""
    previous_hook = server.on_request
    with open(folder / "stderr.txt", "w+") as stderr:
        killer.process = process = subprocess.Popen(
            [console_script(), *args], cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, env={**os.environ, "PYTHONPATH": str(REPO)})
        if kill_after_details is not None:
            server.on_request = killer.hook(kill_after_details, records)
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, stop)
        watchdog.start()
        try:
            for raw in process.stdout:
                if not raw.endswith(b"\n") and killer.done:
                    torn = raw.decode("utf-8", errors="replace")  # the kill cut this line short, maybe inside a character
                    break
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                message = json.loads(line)  # anything but a protocol message fails here, naming itself
                messages.append(message)
                if message.get("type") == "RECORD":
                    records[0] += 1
                    if kill_after_records is not None and records[0] >= kill_after_records:
                        killer.kill(records[0])
            returncode = process.wait(timeout=10)
        finally:
            watchdog.cancel()
            server.on_request = previous_hook
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            process.stdout.close()
        stderr.seek(0)
        errors = stderr.read()
    if timed_out.is_set():
        raise AssertionError(f"source-meetlog read ran past {timeout:g} s and was stopped\n{errors[-2000:]}")
    return Run(messages=messages, requests=_requests_since(server, before), killed=killer.done, returncode=returncode,
               stderr=errors, answered_before_kill=killer.answered, records_at_kill=killer.records, torn_line=torn)


def latest_records(*runs: Run) -> Dict[str, List[dict]]:
    """Each record's last version over the runs, by stream: what an Append + Deduped destination keeps."""
    latest: Dict[str, Dict[object, dict]] = {}
    for run in runs:
        for stream, records in run.records.items():
            for record in records:
                latest.setdefault(stream, {})[record_key(stream, record)] = record
    return {stream: list(by_key.values()) for stream, by_key in latest.items()}


def fetched_again(earlier: Sequence[Run], later: Run, streams: Sequence[str]) -> Dict[str, int]:
    """Per stream: details `later` asked for that one of the `earlier` runs had already got."""
    return {stream: len(set(later.detail_ids(stream)) & {i for run in earlier for i in run.detail_ids(stream)})
            for stream in streams}


def _write(path: Path, content) -> str:
    path.write_text(json.dumps(content))
    return str(path)


def _requests_since(server: MeetlogServer, before: int) -> List[RequestRecord]:
    seen, quiet_since = len(server.requests), time.monotonic()
    while time.monotonic() - quiet_since < SETTLE_SECONDS:
        time.sleep(0.05)
        if len(server.requests) != seen:
            seen, quiet_since = len(server.requests), time.monotonic()
    return server.requests.snapshot()[before:]
