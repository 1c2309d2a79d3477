"""A model of what Airbyte does with this connector's output, for the model-based test of the sync
guarantee (test_sync_guarantee.py, docs/meetlog.md, "What a sync guarantees").

    account = Account(MeetlogServer(small_account(seed=3, transcripts=8), max_page_size=3).start())
    settings = Settings(keys=(account.server.add_key(),))
    account.sync(settings)                      # a clean incremental sync, delivered
    account.sync(settings, kills=[5], between_attempts=[...])  # killed after the 5th RECORD, resumed
    account.differences(settings)               # [] when the destination is what the guarantee says

A read runs in-process, and its stdout lines are parsed as JSON as the platform parses them (so a
null the writer dropped is a missing key, not a None). A kill after k records is the read's message
list cut before its (k+1)-th RECORD: the API is read-only, so what the connector printed up to there is
the same whether it would have gone on or not. Of a killed attempt the platform commits, per stream,
the records before that stream's last STATE in the cut, and passes that STATE to the next attempt;
the records after it are lost with the attempt.

The destination is Append + Deduped: a row per primary key, the latest record emitted replacing it
(the cursors, created_at and updated_at, never go back on this server, so the latest emitted is the
one Airbyte's dedup keeps), a record with `_ab_cdc_deleted_at` deleting it, and only the columns the
catalog selects kept (`platform_view`). project_transcripts, full refresh, is overwritten by each
sync that finishes with the rows all its attempts delivered.

What the destination may lack or hold stale, where docs/meetlog.md's "Known limitations" and
"Deletions" allow it, is tracked per record as narrowly as the model can (`Excuse`): each excuse is
made by the change that can cause it, and dropped as soon as the destination holds the served value.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import threading
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import AirbyteStateMessageSerializer, ConfiguredAirbyteCatalogSerializer

from integration_tests.harness import unclear_errors
from integration_tests.meetlog_server import Dataset, MeetlogServer, build_dataset, faults
from integration_tests.pruned_catalog import DETAIL_ONLY, columns, discover_streams, list_columns, platform_view, pruned_catalog
from integration_tests.served_records import record_key
from source_meetlog import SourceMeetlog

INCREMENTAL_STREAMS = ("transcripts", "reports", "projects")
# What Airbyte's column selection always keeps: the primary key, the cursor, and the deletion marker's field.
ALWAYS_SELECTED = {"transcripts": {"id", "created_at"}, "reports": {"id", "created_at"}, "projects": {"id", "updated_at"}}
DELETED_AT = "_ab_cdc_deleted_at"
UNREADABLE_STATE_LOG = "is not one this connector writes"
STREAMS_FAILED = "AirbyteTracedException: During the sync, the following streams did not sync successfully"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def small_account(seed: int = 0, transcripts: int = 8) -> Dataset:
    """build_dataset's edge cases (a transcript processing, one failed, a null source_url, a report
    processing, a project without description), one report per completed transcript, 3 projects."""
    return build_dataset(transcripts=transcripts, reports_per_transcript=1, projects=3, seed=seed)


def _time(text: Optional[str]) -> Optional[datetime]:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc) if text else None


# ------------------------------------------------------------------------------------ the configuration


@dataclass(frozen=True)
class Settings:
    """What a user configures between syncs: the connector's config and the catalog's column selection."""

    keys: Tuple[str, ...]
    start_date: Optional[str] = None
    lookback_window_days: int = 0
    reconcile_deletions: bool = False
    list_only: FrozenSet[str] = frozenset()  # streams with only their list columns selected
    project_transcripts: bool = True  # selected or not
    # Streams with some columns selected, each with the positions (mod their count) of its columns picked.
    picked: Tuple[Tuple[str, Tuple[int, ...]], ...] = ()
    off: FrozenSet[str] = frozenset()  # incremental streams not selected in this sync (their state is kept)

    def config(self, server: MeetlogServer) -> dict:
        config = {"api_key": ",".join(self.keys), "base_url": server.base_url, "requests_per_minute": 100_000,
                  "lookback_window_days": self.lookback_window_days, "reconcile_deletions": self.reconcile_deletions}
        return {**config, "start_date": self.start_date} if self.start_date else config

    def streams(self) -> Tuple[str, ...]:
        on = tuple(s for s in INCREMENTAL_STREAMS if s not in self.off)
        return on + (("project_transcripts",) if self.project_transcripts else ())

    def selected(self, discovered: Mapping[str, dict], stream: str) -> Optional[List[str]]:
        """The stream's selected columns, in the discovered order; None: every column."""
        if stream in self.list_only:
            return list_columns(discovered, stream)
        positions = dict(self.picked).get(stream)
        if positions is None:
            return None
        names = columns(discovered, stream)
        chosen = {names[i % len(names)] for i in positions} | ALWAYS_SELECTED[stream] | {DELETED_AT}
        return [name for name in names if name in chosen]

    def reads_lists_only(self, discovered: Mapping[str, dict], stream: str) -> bool:
        """No detail-only column selected: the connector sends each record as its list item."""
        chosen = self.selected(discovered, stream)
        return chosen is not None and not set(chosen) & set(DETAIL_ONLY[stream])

    def catalog(self, discovered: Mapping[str, dict]) -> dict:
        selection = {s: self.selected(discovered, s) if s in INCREMENTAL_STREAMS else None for s in self.streams()}
        return pruned_catalog(discovered, selection, "incremental")

    def describe(self) -> str:
        return (f"start_date={self.start_date} lookback={self.lookback_window_days} reconcile={self.reconcile_deletions} "
                f"keys={len(self.keys)} list_only={sorted(self.list_only)} picked={dict(self.picked)} off={sorted(self.off)} "
                f"project_transcripts={self.project_transcripts}")


_discovered: Dict[str, dict] = {}


def discovered(server: MeetlogServer, key: str) -> Dict[str, dict]:
    """discover's streams (the same for every account), asked once per process."""
    if not _discovered:
        _discovered.update(discover_streams({"api_key": key, "base_url": server.base_url}, in_process=True))
    return _discovered


# ------------------------------------------------------------------------------------ a server that fails


@dataclass(frozen=True)
class FaultPlan:
    """Requests whose path starts with `path` fail with `fault` from the (after + 1)-th on: `times` of them,
    which the connector's retries get past, or every one (None), which ends what needs them with an error."""

    fault: str
    path: str
    after: int = 0
    times: Optional[int] = 1

    @property
    def never_heals(self) -> bool:
        return self.times is None

    def install(self, server: MeetlogServer) -> None:
        # "0" sent as it is: the server writes a number of seconds rounded up to 1, a real second per 429.
        fault = faults.rate_limited(retry_after="0") if self.fault == "rate_limited" else self.fault
        server.inject(fault, path_prefix=self.path, times=self.times, after=self.after)


# ------------------------------------------------------------------------------------ one attempt


@dataclass
class Attempt:
    """One run of `read`: every message it printed, parsed from its line, and its log lines."""

    messages: List[dict]
    crash: Optional[str]  # the traceback of an exception that escaped the entrypoint

    @property
    def logs(self) -> List[str]:
        return [m["log"]["message"] for m in self.messages if m.get("type") == "LOG"]

    @property
    def errors(self) -> List[str]:
        return [m["trace"]["error"]["message"] for m in self.messages
                if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"]

    @property
    def record_count(self) -> int:
        return sum(m.get("type") == "RECORD" for m in self.messages)

    def cut_after(self, k: int) -> "Attempt":
        """What the platform had read when the process died after its k-th RECORD line, as it was about
        to write the next one: the messages printed between (a checkpoint, say) arrived."""
        seen = 0
        for index, message in enumerate(self.messages):
            if message.get("type") == "RECORD":
                if seen == k:
                    return Attempt(self.messages[:index], None)
                seen += 1
        return self

    def committed(self) -> Tuple[Dict[str, List[dict]], Dict[str, dict]]:
        """Per stream, the records a destination commits (those before the stream's last STATE) and that STATE."""
        last_state: Dict[str, int] = {}
        for index, message in enumerate(self.messages):
            if message.get("type") == "STATE":
                last_state[message["state"]["stream"]["stream_descriptor"]["name"]] = index
        records: Dict[str, List[dict]] = {}
        for index, message in enumerate(self.messages):
            if message.get("type") == "RECORD":
                stream = message["record"]["stream"]
                if index < last_state.get(stream, -1):
                    records.setdefault(stream, []).append(message["record"]["data"])
        return records, {stream: self.messages[index]["state"] for stream, index in last_state.items()}

    def kill_after_checkpoint(self, stream: str, record_id: Optional[str] = None, nth: int = 1) -> int:
        """The smallest k whose cut ends with the `nth` checkpoint of `stream` taken while its list is read
        (one holding `progress`), after `record_id`'s record if given: the attempt is killed mid-stream there."""
        records, sent = 0, record_id is None
        for message in self.messages:
            if message.get("type") == "RECORD":
                records += 1
                data = message["record"]["data"]
                sent = sent or (message["record"]["stream"] == stream and data.get("id") == record_id)
            elif message.get("type") == "STATE" and sent and message["state"]["stream"]["stream_descriptor"]["name"] == stream \
                    and '"progress"' in json.dumps(message["state"]):
                nth -= 1
                if nth == 0:
                    return records
        raise AssertionError(f"no checkpoint of {stream} while its list is read (after {record_id}): no kill lands there")

    def all_records(self) -> Dict[str, List[dict]]:
        found: Dict[str, List[dict]] = {}
        for message in self.messages:
            if message.get("type") == "RECORD":
                found.setdefault(message["record"]["stream"], []).append(message["record"]["data"])
        return found


_read_lock = threading.Lock()  # the CDK's entrypoint and its logging are process-wide


def read_in_process(config: dict, catalog: dict, states: Mapping[str, dict]) -> Attempt:
    """`source-meetlog read --config --catalog [--state]` in this process, every line as printed."""
    with _read_lock, tempfile.TemporaryDirectory() as folder:
        paths = {name: Path(folder) / f"{name}.json" for name in ("config", "catalog", "state")}
        paths["config"].write_text(json.dumps(config))
        paths["catalog"].write_text(json.dumps(catalog))
        args = ["read", "--config", str(paths["config"]), "--catalog", str(paths["catalog"])]
        if states:
            paths["state"].write_text(json.dumps(list(states.values())))
            args += ["--state", str(paths["state"])]
        captured = io.StringIO()
        handler = logging.StreamHandler(captured)
        handler.setLevel(logging.INFO)
        handler.setFormatter(AirbyteLogFormatter())
        root = logging.getLogger("")
        root.addHandler(handler)
        lines: List[str] = []
        crash = None
        try:
            source = SourceMeetlog(catalog=ConfiguredAirbyteCatalogSerializer.load(catalog), config=config,
                                   state=[AirbyteStateMessageSerializer.load(s) for s in states.values()])
            for line in AirbyteEntrypoint(source).run(AirbyteEntrypoint.parse_args(args)):
                lines.extend(line.splitlines())
        except Exception:
            crash = traceback.format_exc()
        finally:
            root.removeHandler(handler)
        lines += captured.getvalue().splitlines()
        messages = []
        for line in lines:
            if line.strip():
                try:
                    messages.append(json.loads(line))
                except ValueError:
                    messages.append({"type": "LOG", "log": {"level": "INFO", "message": line}})
        return Attempt(messages, crash)


# ------------------------------------------------------------------------------------ the destination


@dataclass
class Destination:
    """Append + Deduped tables: stream -> primary key -> row, as the platform passes records on."""

    tables: Dict[str, Dict[object, dict]] = field(default_factory=lambda: {s: {} for s in INCREMENTAL_STREAMS})

    def commit(self, stream: str, records: Iterable[dict], catalog: dict) -> List[object]:
        keys = []
        table = self.tables.setdefault(stream, {})
        for record in records:
            key = record_key(stream, record)
            keys.append(key)
            if record.get(DELETED_AT):
                table.pop(key, None)
            else:
                table[key] = platform_view(record, catalog, stream)
        return keys

    def overwrite(self, stream: str, records: Iterable[dict], catalog: dict) -> None:
        self.tables[stream] = {}
        self.commit(stream, records, catalog)


# ------------------------------------------------------------------------------------ what may differ


@dataclass
class Excuse:
    """A field of a record that the destination may hold stale, and why docs/meetlog.md allows it.

    kind "older edit": a final transcript renamed; the next syncs compare only the transcripts their
    state remembers (newest page, pending) unless reconcile_deletions is on, and then only those it
    named by id. `lost` once a sync ran with the state not remembering it: no later sync sees it.
    kind "report removed": the last report of a transcript deleted or moved off: the same rule for its
    report_ids ("an older transcript whose last report was deleted or moved away is caught only with
    reconcile_deletions").
    kind "project members": a member transcript changed, which moves neither the project's
    updated_at nor its list fields: stale in `projects.transcripts` while project_transcripts is not
    selected (the docs' first limitation); a sync with project_transcripts selected must catch it.
    """

    kind: str
    field: str
    lost: bool = False


@dataclass
class Deleted:
    """A record deleted on the server whose row may remain: `lost` once no sync can send its marker
    (it was deleted while the state did not name ids, or a sync since ran without reconcile_deletions)."""

    lost: bool


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class Account:
    """The server, the destination, the saved state, and what the model knows of what may differ."""

    def __init__(self, server: MeetlogServer) -> None:
        self.server = server
        self.destination = Destination()
        self.states: Dict[str, dict] = {}  # stream -> its last committed STATE (the platform's)
        self.excuses: Dict[Tuple[str, object, str], Excuse] = {}  # (stream, id, field) -> excuse
        self.deleted: Dict[Tuple[str, str], Deleted] = {}
        # Per stream: whether the last finished sync wrote a state naming every id (reconcile_deletions on),
        # and the start_date it ran with.
        self.names_ids: Dict[str, bool] = {s: False for s in INCREMENTAL_STREAMS}
        self.last_start_date: Dict[str, Optional[str]] = {s: None for s in INCREMENTAL_STREAMS}
        self.synced_once: Dict[str, bool] = {s: False for s in INCREMENTAL_STREAMS}
        self.start_date_changed: Dict[str, bool] = {s: False for s in INCREMENTAL_STREAMS}  # by the last sync
        self.unreadable_state_fed: set = set()
        self.log: List[str] = []  # the steps, for a failure's message
        self._lock = threading.RLock()

    @property
    def dataset(self) -> Dataset:
        return self.server.dataset

    # ---------------------------------------------------------------- syncs

    def sync(self, settings: Settings, kills: Sequence[object] = (),
             between_attempts: Sequence[Callable[[], None]] = (),
             while_paged: Optional[Tuple[object, Optional[Callable[[], None]]]] = None,
             reader: Optional[Callable[[dict, dict, Dict[str, dict], Optional[int]], Attempt]] = None,
             faults: Optional[FaultPlan] = None) -> List[Attempt]:
        """One sync: an attempt per kill (each cut after its k-th record; a kill may also be a function of
        the whole attempt that returns k) and a last one that runs to its end.
        `between_attempts[i]` runs after attempt i is killed; `while_paged` = (n, change) runs the change
        when the n-th request of the first attempt reaches the server. `reader(config, catalog, states, kill)`,
        if given, runs each attempt instead (a real process that it kills after `kill` records itself).
        `faults`: what the server does wrong during the first attempt (FaultPlan); one that never heals may
        end that attempt with errors, which must be clear ones."""
        config = settings.config(self.server)
        catalog = settings.catalog(discovered(self.server, settings.keys[0]))
        states = {s: st for s, st in self.states.items() if s in settings.streams() and s in INCREMENTAL_STREAMS}
        expected_bad = self.unreadable_state_fed & set(settings.streams())
        attempts, full_refresh_rows = [], []
        for number in range(len(kills) + 1):
            hook = None
            if while_paged is not None and number == 0:
                hook = self._change_on_request(*while_paged)
            kill = kills[number] if number < len(kills) else None
            if reader is not None:  # a real process, killed by the reader itself
                attempt = reader(config, catalog, states, kill)
            else:
                self.server.on_request = hook
                faulty = faults if number == 0 else None
                if faulty is not None:
                    faulty.install(self.server)
                try:
                    attempt = read_in_process(config, catalog, states)
                finally:
                    self.server.on_request = None
                    if faulty is not None:
                        self.server.faults.clear()
            may_fail = number == 0 and faults is not None and faults.never_heals
            self._assert_well_behaved(attempt, expected_bad if number == 0 else set(), may_fail)
            if kill is not None and reader is None:
                attempt = attempt.cut_after(kill(attempt) if callable(kill) else kill)
            attempts.append(attempt)
            records, new_states = attempt.committed()
            if number == len(kills):  # the last attempt ran to its end: everything it printed counts
                records = attempt.all_records()
            for stream, stream_records in records.items():
                if stream == "project_transcripts":
                    full_refresh_rows += stream_records
                else:
                    self.destination.commit(stream, stream_records, catalog)
            states = {**states, **new_states}
            self._after_attempt(settings)
            if number < len(between_attempts):
                between_attempts[number]()
        if settings.project_transcripts:
            self.destination.overwrite("project_transcripts", full_refresh_rows, catalog)
        else:
            self.destination.tables.pop("project_transcripts", None)
        # The platform keeps each stream's last state; a full-refresh stream's only between attempts.
        self.states = {**self.states, **{s: st for s, st in states.items() if s in INCREMENTAL_STREAMS}}
        for stream in (s for s in INCREMENTAL_STREAMS if s in settings.streams()):
            self.start_date_changed[stream] = self.synced_once[stream] and self.last_start_date[stream] != settings.start_date
            self.last_start_date[stream] = settings.start_date
            self.names_ids[stream] = settings.reconcile_deletions
            self.synced_once[stream] = True
        self.unreadable_state_fed.clear()
        return attempts

    def _assert_well_behaved(self, attempt: Attempt, unreadable: set, may_fail: bool = False) -> None:
        # The CDK's entrypoint ends a read whose streams failed by raising this (the console script exits 1 with it).
        failed = may_fail and attempt.crash is not None and STREAMS_FAILED in attempt.crash
        assert attempt.crash is None or failed, f"a traceback escaped the read:\n{attempt.crash}"
        if may_fail:  # a server that never heals: the user reads what failed, in a sentence
            assert unclear_errors(attempt.errors) == [], f"the read failed without a clear error: {attempt.errors}"
        else:
            assert attempt.errors == [], f"the read failed: {attempt.errors}"
        for stream in unreadable:
            said = [line for line in attempt.logs if f"'{stream}'" in line and UNREADABLE_STATE_LOG in line]
            assert said, f"an unreadable state of '{stream}' was fed, and no log line said it restarts"

    def _after_attempt(self, settings: Settings) -> None:
        """A sync without reconcile_deletions writes a state that names no id: what it owed is lost."""
        with self._lock:
            if not settings.reconcile_deletions:
                for (stream, _, _), excuse in self.excuses.items():
                    if excuse.kind in ("older edit", "report removed") and stream in settings.streams():
                        excuse.lost = True
                for (stream, _), gone in self.deleted.items():
                    gone.lost = gone.lost or stream in settings.streams()

    def _change_on_request(self, n: object, change: Optional[Callable[[], None]]):
        """The change at the n-th request; or `n` itself the server's hook, where a test picks the request."""
        if callable(n):
            return n
        count = [0]

        def on_request(incoming) -> None:
            count[0] += 1
            if count[0] == n:
                change()

        return on_request

    def feed_unreadable_state(self, stream: str, state_blob: dict) -> None:
        """The platform passes `state_blob` as the stream's state next time: the stream must restart, saying so."""
        self.states[stream] = {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": state_blob}}
        self.unreadable_state_fed.add(stream)
        self.names_ids[stream] = False  # restarted, the stream's state names nothing: owed markers are lost
        for (deleted_stream, _), gone in self.deleted.items():
            if deleted_stream == stream:
                gone.lost = True

    # ---------------------------------------------------------------- changes to the account, with what they may excuse

    def _excuse(self, stream: str, record_id: object, kind: str, field_name: str, lost: bool) -> None:
        key = (stream, record_id, field_name)
        if key not in self.excuses:
            self.excuses[key] = Excuse(kind, field_name, lost)
        elif lost:
            self.excuses[key].lost = True

    def _projects_with(self, transcript_id: str) -> List[str]:
        return [p["id"] for p in self.dataset.details("projects") if any(t["id"] == transcript_id for t in p["transcripts"])]

    def _members_changed(self, transcript_id: str) -> None:
        for project_id in self._projects_with(transcript_id):
            self._excuse("projects", project_id, "project members", "transcripts", lost=False)

    def rename_transcript(self, transcript_id: str, title: str) -> None:
        with self._lock:
            final = self.dataset.transcript_detail(transcript_id)["status"] != "processing"
            self._members_changed(transcript_id)
            self.server.rename_transcript(transcript_id, title)
            if final:
                self._excuse("transcripts", transcript_id, "older edit", "title", lost=not self.names_ids["transcripts"])

    def finish_transcript(self, transcript_id: str, status: str) -> None:
        with self._lock:
            self._members_changed(transcript_id)
            if status == "completed":
                self.server.update_transcript(transcript_id, status="completed", text="Готово ✅ final text", summary="Final summary")
            else:
                self.server.update_transcript(transcript_id, status="failed", text=None, summary=None, duration_seconds=None)

    def delete_transcript(self, transcript_id: str) -> None:
        with self._lock:
            self._members_changed(transcript_id)
            reports = self.dataset.transcript_detail(transcript_id)["report_ids"]
            self.server.delete_transcript(transcript_id)
            self._deleted("transcripts", transcript_id)
            for report_id in reports:
                self._deleted("reports", report_id)

    def _report_removed_from(self, transcript_id: str) -> None:
        """Only a transcript left with no report may keep stale report_ids: no report names it, so only a
        state that remembers its report_ids sees the change (a report still naming it is caught by the
        links' digest, core/links.py)."""
        detail = self.dataset.transcript_detail(transcript_id)
        if detail is not None and not detail["report_ids"]:
            self._excuse("transcripts", transcript_id, "report removed", "report_ids", lost=not self.names_ids["transcripts"])

    def delete_report(self, report_id: str) -> None:
        with self._lock:
            parent = self.dataset.report_detail(report_id)["transcription_id"]
            self.server.delete_report(report_id)
            self._report_removed_from(parent)
            self._deleted("reports", report_id)

    def move_report(self, report_id: str, to_transcript: str) -> None:
        with self._lock:
            parent = self.dataset.report_detail(report_id)["transcription_id"]
            self.server.update_report(report_id, transcription_id=to_transcript)
            self._report_removed_from(parent)  # the transcript it moved to: no excuse, the docs promise nothing less

    def delete_project(self, project_id: str) -> None:
        with self._lock:
            self.server.delete_project(project_id)
            self._deleted("projects", project_id)

    def _deleted(self, stream: str, record_id: str) -> None:
        self.deleted[(stream, record_id)] = Deleted(lost=not self.names_ids[stream])

    def apply(self, change: Callable[[], None]) -> None:
        with self._lock:
            change()

    # ---------------------------------------------------------------- the invariant

    def expected(self, settings: Settings) -> Dict[str, Dict[object, dict]]:
        """What the destination must hold after a clean sync under `settings`: each record the configuration
        covers (created_at >= start_date) as the API serves it now, its list item for a list-only stream,
        only the selected columns."""
        start = _time(settings.start_date)
        catalog = settings.catalog(discovered(self.server, settings.keys[0]))
        expected: Dict[str, Dict[object, dict]] = {}
        for stream in (s for s in INCREMENTAL_STREAMS if s in settings.streams()):
            as_listed = settings.reads_lists_only(discovered(self.server, settings.keys[0]), stream)
            served = self.dataset.list_items(stream) if as_listed else self.dataset.details(stream)
            expected[stream] = {r["id"]: platform_view(r, catalog, stream) for r in served
                                if start is None or _time(r["created_at"]) >= start}
        if settings.project_transcripts:
            expected["project_transcripts"] = {
                (p["id"], t["id"]): platform_view({**{k: v for k, v in t.items() if k != "id"}, "project_id": p["id"],
                                                   "transcript_id": t["id"]}, catalog, "project_transcripts")
                for p in self.dataset.details("projects") if start is None or _time(p["created_at"]) >= start
                for t in p["transcripts"]}
        return expected

    def differences(self, settings: Settings) -> List[str]:
        """After a clean sync under `settings`: every way the destination differs from `expected` that the
        docs do not allow. Drops each excuse whose field the destination now holds as served."""
        expected = self.expected(settings)
        catalog = settings.catalog(discovered(self.server, settings.keys[0]))
        start = _time(settings.start_date)
        found: List[str] = []
        for stream, want in expected.items():
            table = self.destination.tables.get(stream, {})
            for key, record in want.items():
                row = table.get(key)
                if row is not None:  # the platform drops the columns a user deselects from the table too
                    row = platform_view(row, catalog, stream)
                if row is None:
                    found.append(f"{stream} {key}: served, not in the destination")
                    continue
                for name in sorted(record.keys() | row.keys()):
                    if name in record and name in row and _json(record[name]) == _json(row[name]):
                        self.excuses.pop((stream, key, name), None)
                        continue
                    excuse = self.excuses.get((stream, key, name))
                    if excuse is not None and self._excused(excuse, settings):
                        continue
                    if (stream, name) == ("transcripts", "report_ids") and "reports" not in settings.streams():
                        continue  # documented: without reports in the sync, report_ids are as of each transcript's last sync
                    if name not in row:
                        found.append(f"{stream} {key}: {name!r} missing; served {_json(record[name])[:70]}")
                    elif name not in record:
                        found.append(f"{stream} {key}: {name!r} is in the row, not served")
                    else:
                        found.append(f"{stream} {key}: {name!r} is {_json(row[name])[:70]}; served {_json(record[name])[:70]}"
                                     + (f" (excuse {excuse.kind}, not applicable)" if excuse else ""))
            for key, row in table.items():
                if key in want:
                    continue
                if start is not None and row.get("created_at") and _time(row["created_at"]) < start:
                    continue  # synced under an earlier start_date: the configuration no longer covers it
                if stream != "project_transcripts" and (stream, key) in self.deleted:
                    if self._deletion_excused(stream, key, settings):
                        continue
                    found.append(f"{stream} {key}: deleted on the server, still in the destination (reconcile_deletions on)")
                    continue
                if stream != "project_transcripts" and self.dataset.detail(stream, key) is not None:
                    continue  # exists, created before start_date
                found.append(f"{stream} {key}: in the destination, never served")
        for stream in INCREMENTAL_STREAMS:  # deletions the destination has applied need no excuse any more
            for key in [k for k in self.deleted if k[0] == stream and k[1] not in self.destination.tables.get(stream, {})]:
                del self.deleted[key]
        return found

    def _excused(self, excuse: Excuse, settings: Settings) -> bool:
        if excuse.kind == "project members":
            return not settings.project_transcripts
        return excuse.lost or not settings.reconcile_deletions

    def _deletion_excused(self, stream: str, key: str, settings: Settings) -> bool:
        if not settings.reconcile_deletions:
            return True  # documented: without reconcile_deletions, deleted records stay
        return self.deleted[(stream, key)].lost


# ------------------------------------------------------------------------------------ hundreds of reads


def cache_manifest_building(monkeypatch) -> None:
    """A model run makes hundreds of in-process reads of the same manifest. The CDK resolves its
    references (about 0.2 s) and reads each custom class's type hints (about 0.15 s) anew for each
    one; both depend on the manifest and the classes alone, so they are kept for the test's length.
    What the connector is built from is unchanged: a resolved manifest is copied out of the cache."""
    import copy
    import functools

    from airbyte_cdk.sources.declarative import concurrent_declarative_source as declarative
    from airbyte_cdk.sources.declarative import yaml_declarative_source as yaml_source
    from airbyte_cdk.sources.declarative.parsers import model_to_component_factory as factory

    resolve = declarative.ConcurrentDeclarativeSource._pre_process_manifest
    resolved: Dict[str, dict] = {}

    def cached_resolve(self, manifest):
        key = json.dumps(manifest, sort_keys=True, default=str)
        if key not in resolved:
            resolved[key] = resolve(self, manifest)
        return copy.deepcopy(resolved[key])

    monkeypatch.setattr(declarative.ConcurrentDeclarativeSource, "_pre_process_manifest", cached_resolve)
    # The manifest, and the CDK's schema of manifests it is validated against, are parsed from YAML each time.
    for module in (declarative, yaml_source):
        monkeypatch.setattr(module, "safe_load_yaml", _cached_yaml(module.safe_load_yaml))
    monkeypatch.setattr(factory, "get_type_hints", functools.lru_cache(maxsize=None)(factory.get_type_hints))


def _cached_yaml(load):
    import copy

    parsed: Dict[str, object] = {}

    def cached(text):
        if not isinstance(text, str):
            return load(text)
        if text not in parsed:
            parsed[text] = load(text)
        return copy.deepcopy(parsed[text])

    return cached
