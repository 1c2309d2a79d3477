"""The sync guarantee (docs/meetlog.md, "What a sync guarantees"), tested by a model (issue #23).

Whatever sequence of incremental syncs (some killed after k records, some met by a server that fails
for a while or for good, each resumed from the last STATE of each stream), changes to the account
(between syncs, between attempts, while a list is paged), configuration changes (start_date,
lookback_window_days, reconcile_deletions, the keys, each stream's columns: all, its list columns or
any few of them, a stream left out of some syncs, project_transcripts selected or not) and unreadable
saved states came before, one more clean incremental sync leaves the Append + Deduped destination holding every record the
configuration covers exactly as the API serves it, field by field, null included; with
reconcile_deletions, no record the API no longer serves; without it, only what docs/meetlog.md's
known limitations allow (sync_model.Excuse, sync_model.Deleted).

Hypothesis draws the sequences on a small account (5 to 10 transcripts, a report each, 3 projects)
served 2 to 4 records a page, so that every sync pages. A failing sequence is shrunk and printed as
a reproduction; each one found becomes a plain test in test_sync_guarantee_regressions.py.

    make test                                     # 100 sequences, derandomized: the same ones every run
    MEETLOG_MODEL_EXAMPLES=2000 .venv/bin/python -m pytest integration_tests/test_sync_guarantee.py  # random ones
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from integration_tests.meetlog_server import MeetlogServer
from integration_tests.sync_model import INCREMENTAL_STREAMS, Account, FaultPlan, Settings, cache_manifest_building, small_account

pytestmark = pytest.mark.slow  # hundreds of in-process reads (make test-fast leaves it to make test)

EXAMPLES = int(os.environ.get("MEETLOG_MODEL_EXAMPLES", "100"))
STEPS = int(os.environ.get("MEETLOG_MODEL_STEPS", "5"))
# Which sequences: the same ones on every run unless a long run asks for new ones.
DERANDOMIZE = "MEETLOG_MODEL_EXAMPLES" not in os.environ
# Shrinking replays a failing sequence hundreds of times (minutes): on for a long run, or when asked.
SHRINK = os.environ.get("MEETLOG_MODEL_SHRINK", "0" if DERANDOMIZE else "1") == "1"

# Start dates around the seeded transcripts (newest 2026-05-08T09:14:22Z, one every 20 min to 3 h back)
# and the projects (from 2026-04-01); records added during a test are made now, inside every one.
START_DATES = (None, "2026-05-08T06:00:00Z", "2026-05-07T00:00:00Z", "2026-04-15T00:00:00Z")
LOOKBACKS = (0, 1, 30)

# A change to the account: (kind, a, b), a and b picking records among those that exist when it applies.
CHANGE_KINDS = (
    "add_transcript", "add_processing_transcript", "complete_transcript", "fail_transcript", "rename_transcript",
    "delete_transcript", "add_report", "add_processing_report", "complete_report", "retitle_report", "move_report",
    "delete_report", "edit_project", "set_project_transcripts", "add_project", "delete_project", "reorder_lists",
)
changes = st.tuples(st.sampled_from(CHANGE_KINDS), st.integers(0, 40), st.integers(0, 40))

# What a server does wrong, on a stream's list and details ("…/transcripts") or its details alone ("…/transcripts/").
FAULTS = ("http_503", "reset", "truncated_json", "non_json", "rate_limited")
FAULT_PATHS = tuple(f"/api/v1/export/{stream}{end}" for stream in INCREMENTAL_STREAMS for end in ("", "/"))

# Saved states no version wrote, or cut short: the stream must restart, with a log line, without a traceback.
BAD_STATES = ("not ours", "cursor not a date", "a number", "list state cut short", "list state missing")


def pick(items: list, index: int):
    return items[index % len(items)] if items else None


def apply_change(account: Account, change: tuple) -> None:
    """Applies one drawn change to the server, noting in the model what it may excuse."""
    kind, a, b = change
    data = account.dataset
    transcripts = [t["id"] for t in data.list_items("transcripts")]
    processing = [t["id"] for t in data.list_items("transcripts") if t["status"] == "processing"]
    reports = [r["id"] for r in data.list_items("reports")]
    processing_reports = [r["id"] for r in data.list_items("reports") if r["status"] == "processing"]
    projects = [p["id"] for p in data.list_items("projects")]
    n = data._added + 1  # a fresh number for titles
    if kind == "add_transcript":
        account.apply(lambda: account.server.add_transcript(title=f"New {n} — новая"))
    elif kind == "add_processing_transcript":
        account.apply(lambda: account.server.add_transcript(status="processing", title=f"New {n}", duration_seconds=None))
    elif kind in ("complete_transcript", "fail_transcript") and processing:
        account.finish_transcript(pick(processing, a), "completed" if kind == "complete_transcript" else "failed")
    elif kind == "rename_transcript" and transcripts:
        account.rename_transcript(pick(transcripts, a), f"Renamed {n} ✏️")
    elif kind == "delete_transcript" and transcripts:
        account.delete_transcript(pick(transcripts, a))
    elif kind in ("add_report", "add_processing_report") and transcripts:
        status = "completed" if kind == "add_report" else "processing"
        account.apply(lambda: account.server.add_report(pick(transcripts, a), status=status))
    elif kind == "complete_report" and processing_reports:
        account.apply(lambda: account.server.update_report(pick(processing_reports, a), status="completed",
                                                           content="## Done\n- ✅"))
    elif kind == "retitle_report" and reports:
        account.apply(lambda: account.server.retitle_report(pick(reports, a), f"Протокол v{n}"))
    elif kind == "move_report" and reports and len(transcripts) > 1:
        report = pick(reports, a)
        parent = data.report_detail(report)["transcription_id"]
        others = [t for t in transcripts if t != parent]
        account.move_report(report, pick(others, b))
    elif kind == "delete_report" and reports:
        account.delete_report(pick(reports, a))
    elif kind == "edit_project" and projects:
        edits = [{"name": f"Project {n}"}, {"description": None}, {"description": f"About {n}"}, {"color": "#000000"}]
        account.apply(lambda: account.server.update_project(pick(projects, a), **pick(edits, b)))
    elif kind == "set_project_transcripts" and projects:
        members = transcripts[b % 3: b % 3 + 1 + b % 4] if transcripts else []
        account.apply(lambda: account.server.set_project_transcripts(pick(projects, a), members))
    elif kind == "add_project":
        account.apply(lambda: account.server.add_project(name=f"Project {n}", transcript_ids=transcripts[a % 3:a % 3 + 2]))
    elif kind == "delete_project" and projects:
        account.delete_project(pick(projects, a))
    elif kind == "reorder_lists":
        account.apply(lambda: data.serve_unordered_lists_shuffled(order_seed=a * 41 + b))
    account.log.append(f"change {change}")


def bad_state(kind: str, saved: Optional[dict]) -> dict:
    """The stream_state the platform would pass: written by no version of this connector, or cut short."""
    blob = (saved or {}).get("stream", {}).get("stream_state")
    if kind in ("list state cut short", "list state missing") and isinstance(blob, dict) and blob.get("parent_state"):
        if kind == "list state missing":
            return {k: v for k, v in blob.items() if k != "parent_state"}
        [(name, list_state)] = list(blob["parent_state"].items())[:1]
        cut = {k: (v[: len(v) // 2] if isinstance(v, str) else v) for k, v in list_state.items()}
        return {**blob, "parent_state": {name: cut}}
    return {"not ours": {"cursor": "2026-01-01"}, "cursor not a date": {"created_at": "yesterday"},
            "a number": {"state": 12}}.get(kind, {"cursor": "2026-01-01"})


class SyncGuarantee(RuleBasedStateMachine):
    """Syncs, kills, changes and settings drawn by Hypothesis; after each clean sync, the invariant."""

    account: Account

    @initialize(seed=st.integers(0, 3), transcripts=st.integers(5, 10), page=st.integers(2, 4))
    def start(self, seed: int, transcripts: int, page: int) -> None:
        server = MeetlogServer(small_account(seed, transcripts), requests_per_window=None, max_page_size=page).start()
        self.account = Account(server)
        self.settings = Settings(keys=(server.add_key(),))
        self.syncs = 0

    def teardown(self) -> None:
        if hasattr(self, "account"):
            try:
                if sys.exc_info()[0] is None:  # not after a failed step: its failure is the news
                    self.sync()  # every sequence ends with one more clean sync, and its check
            finally:
                self.account.server.stop()

    # ------------------------------------------------------------------ syncs

    @rule()
    def sync(self) -> None:
        """A clean incremental sync: nothing changes while it runs. Then the invariant."""
        self.account.log.append(f"clean sync ({self.settings.describe()})")
        self.account.sync(self.settings)
        self.syncs += 1
        found = self.account.differences(self.settings)
        assert found == [], "after a clean sync the destination differs from the API:\n  " + "\n  ".join(
            found[:20]) + "\nsteps:\n  " + "\n  ".join(self.account.log)

    @rule(kills=st.lists(st.integers(0, 30), min_size=1, max_size=2),
          between=st.lists(changes, max_size=2))
    def killed_sync(self, kills, between) -> None:
        """A sync killed after k records (for each k), the changes `between` made before each resume,
        resumed from each stream's last STATE."""
        self.account.log.append(f"killed sync after {kills} records, changes between attempts {between}")
        self.account.sync(self.settings, kills=kills,
                          between_attempts=[lambda c=c: apply_change(self.account, c) for c in between][: len(kills)])

    @rule(request=st.integers(1, 8), change=changes)
    def sync_while_a_list_is_paged(self, request, change) -> None:
        """A sync during which `change` happens, as its `request`-th request reaches the server."""
        self.account.log.append(f"sync with {change} at request {request}")
        self.account.sync(self.settings, while_paged=(request, lambda: apply_change(self.account, change)))

    @rule(fault=st.sampled_from(FAULTS), path=st.sampled_from(FAULT_PATHS), after=st.integers(0, 6),
          times=st.sampled_from((1, 2, None)), between=st.lists(changes, max_size=2))
    def sync_with_faults(self, fault, path, after, times, between) -> None:
        """A sync whose requests to `path` fail with `fault` from the (after + 1)-th on: `times` of them, which
        its retries get past, or every one (None), which ends the attempt with a clear error; the platform's
        next attempt, after the changes `between`, resumes from each stream's last STATE."""
        plan = FaultPlan(fault, path, after, times)
        self.account.log.append(f"sync with {plan}, changes before the next attempt {between}")
        if not plan.never_heals:
            self.account.sync(self.settings, faults=plan)
            return
        # The failed attempt counts as one killed at its end: the platform commits what came before each STATE.
        changed = lambda: [apply_change(self.account, change) for change in between]  # noqa: E731
        self.account.sync(self.settings, kills=[lambda attempt: attempt.record_count], between_attempts=[changed],
                          faults=plan)

    # ------------------------------------------------------------------ changes

    @rule(change=changes)
    def change_the_account(self, change) -> None:
        apply_change(self.account, change)

    @rule(start_date=st.none() | st.sampled_from(START_DATES[1:] + ("none",)),
          lookback=st.none() | st.sampled_from(LOOKBACKS),
          reconcile=st.none() | st.booleans(),
          keys=st.none() | st.sampled_from(("new key", "two keys", "one key")),
          list_only=st.none() | st.frozensets(st.sampled_from(INCREMENTAL_STREAMS)),
          picked=st.none() | st.dictionaries(st.sampled_from(INCREMENTAL_STREAMS), st.tuples(*[st.integers(0, 15)] * 3)),
          off=st.none() | st.frozensets(st.sampled_from(INCREMENTAL_STREAMS), max_size=2),
          project_transcripts=st.none() | st.booleans())
    def reconfigure(self, start_date, lookback, reconcile, keys, list_only, picked, off, project_transcripts) -> None:
        """What a user may change between syncs; None leaves a setting as it is."""
        s = self.settings
        if start_date is not None:
            s = Settings(**{**s.__dict__, "start_date": None if start_date == "none" else start_date})
        if lookback is not None:
            s = Settings(**{**s.__dict__, "lookback_window_days": lookback})
        if reconcile is not None:
            s = Settings(**{**s.__dict__, "reconcile_deletions": reconcile})
        if keys == "new key":
            s = Settings(**{**s.__dict__, "keys": (self.account.server.add_key(),)})
        elif keys == "two keys":
            s = Settings(**{**s.__dict__, "keys": (s.keys[0], self.account.server.add_key())})
        elif keys == "one key":
            s = Settings(**{**s.__dict__, "keys": s.keys[-1:]})
        if list_only is not None:  # these streams' list columns, the others' as they were picked
            s = Settings(**{**s.__dict__, "list_only": list_only, "picked": tuple((k, v) for k, v in s.picked if k not in list_only)})
        if picked is not None:  # some columns of these streams, by position; the others as they were
            kept = tuple((k, v) for k, v in s.picked if k not in picked)
            s = Settings(**{**s.__dict__, "picked": kept + tuple(sorted(picked.items())), "list_only": s.list_only - set(picked)})
        if off is not None:
            s = Settings(**{**s.__dict__, "off": off})
        if project_transcripts is not None:
            s = Settings(**{**s.__dict__, "project_transcripts": project_transcripts})
        self.settings = s
        self.account.log.append(f"reconfigure: {s.describe()}")

    @precondition(lambda self: self.syncs > 0)
    @rule(stream=st.sampled_from(INCREMENTAL_STREAMS), kind=st.sampled_from(BAD_STATES))
    def feed_an_unreadable_state(self, stream, kind) -> None:
        """The next sync gets, for `stream`, a state no version wrote or one cut short."""
        blob = bad_state(kind, self.account.states.get(stream))
        self.account.log.append(f"unreadable state for {stream} ({kind}): {str(blob)[:120]}")
        self.account.feed_unreadable_state(stream, blob)


SyncGuarantee.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if SHRINK else []),
)


def test_given_any_sequence_of_syncs_kills_and_changes_when_synced_once_more_then_the_destination_is_what_the_guarantee_says(
    monkeypatch,
):
    """The invariant holds after every clean sync of every sequence drawn (see the module docstring)."""
    cache_manifest_building(monkeypatch)
    SyncGuarantee.TestCase().runTest()
