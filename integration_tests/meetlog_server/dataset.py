"""The live data behind the server, with the API's orders, paging and ownership rules.

One lock guards every read and mutation, so a test may add or delete records while the server
is answering (page drift). Each account's sorted list is cached until the next mutation, which
keeps paging through 20,000 transcripts cheap.
"""

from __future__ import annotations

import hashlib
import threading

from .mutations import DatasetMutations
from .records import Project, Report, Transcript

RESOURCES = ("transcripts", "reports", "projects")
REPORTS_ORDERS = ("newest", "oldest", "shuffled")


class Dataset(DatasetMutations):
    """Records of every account; the API's reads here, add/update/delete in DatasetMutations."""

    def __init__(self, seed: int = 0, reports_order: str = "newest"):
        self.seed = seed
        self._lock = threading.RLock()
        self._transcripts: dict[str, Transcript] = {}
        self._reports: dict[str, Report] = {}
        self._projects: dict[str, Project] = {}
        self._report_ids_by_transcript: dict[str, list[str]] = {}
        self._sorted: dict[tuple[str, str], list] = {}
        self._latest_time = ""
        self._added = 0
        self.reports_order = reports_order
        self._projects_shuffled = False
        self._order_seed = seed  # what a shuffled order is drawn from

    # ---- orders -------------------------------------------------------------------------

    @property
    def reports_order(self) -> str:
        """The doc promises no order for reports, so tests can pick one: newest | oldest | shuffled."""
        return self._reports_order

    @reports_order.setter
    def reports_order(self, order: str) -> None:
        if order not in REPORTS_ORDERS:
            raise ValueError(f"reports_order must be one of {REPORTS_ORDERS}, not {order!r}")
        with self._lock:
            self._reports_order = order
            self._sorted.clear()

    def serve_unordered_lists_shuffled(self, order_seed: int) -> None:
        """Reports and projects, whose order the doc does not promise, in an order drawn from
        `order_seed`: each new seed is another order, as an API may serve after a restart."""
        with self._lock:
            self._reports_order, self._projects_shuffled, self._order_seed = "shuffled", True, order_seed
            self._sorted.clear()

    def _sort(self, resource: str, records: list) -> list:
        oldest_first = sorted(records, key=lambda r: (r.created_at, r.id))  # ties broken by id
        if resource == "projects" and not self._projects_shuffled:  # the doc gives no order; oldest first is stable
            return oldest_first
        if resource == "transcripts" or (resource == "reports" and self._reports_order == "newest"):  # transcripts: documented
            return oldest_first[::-1]
        if resource == "reports" and self._reports_order == "oldest":
            return oldest_first
        # Shuffled, yet the same on every request: paging must still see one order.
        return sorted(records, key=lambda r: hashlib.sha256(f"{self._order_seed}:{r.id}".encode()).digest())

    def _ordered(self, resource: str, account: str) -> list:
        key = (resource, account)
        if key not in self._sorted:
            owned = [r for r in self._store(resource).values() if r.account == account]
            self._sorted[key] = self._sort(resource, owned)
        return self._sorted[key]

    # ---- reads the API serves -----------------------------------------------------------

    def page(self, resource: str, account: str, page: int, page_size: int) -> tuple[list[dict], int]:
        """One page of list items and the total; a page past the end is simply empty."""
        with self._lock:
            ordered = self._ordered(resource, account)
            start = (page - 1) * page_size
            return [r.list_item() for r in ordered[start : start + page_size]], len(ordered)

    def detail(self, resource: str, id: str, account: str | None = None) -> dict | None:
        """The detail dict, or None when missing or (given an account) owned by someone else."""
        with self._lock:
            record = self._store(resource).get(id)
            if record is None or (account is not None and record.account != account):
                return None
            if resource == "transcripts":
                return record.detail(self._report_ids(id))
            if resource == "projects":
                return record.detail(self._project_transcripts(record))
            return record.detail()

    # ---- reads for tests: expected records, in API order ---------------------------------

    def list_items(self, resource: str, account: str = "acme") -> list[dict]:
        with self._lock:
            return [r.list_item() for r in self._ordered(resource, account)]

    def details(self, resource: str, account: str = "acme") -> list[dict]:
        with self._lock:
            return [self.detail(resource, r.id) for r in self._ordered(resource, account)]

    def transcripts(self, account: str = "acme") -> list[dict]:
        return self.list_items("transcripts", account)

    def reports(self, account: str = "acme") -> list[dict]:
        return self.list_items("reports", account)

    def projects(self, account: str = "acme") -> list[dict]:
        return self.list_items("projects", account)

    def transcript_detail(self, id: str) -> dict:
        return self._existing_detail("transcripts", id)

    def report_detail(self, id: str) -> dict:
        return self._existing_detail("reports", id)

    def project_detail(self, id: str) -> dict:
        return self._existing_detail("projects", id)

    def _existing_detail(self, resource: str, id: str) -> dict:
        found = self.detail(resource, id)
        if found is None:
            raise KeyError(f"no {resource[:-1]} {id}")
        return found

    # ---- inserting whole records (the seeding path) -------------------------------------

    def load(self, transcripts=(), reports=(), projects=()) -> None:
        """Bulk insert of ready records: one lock, one cache reset, for seeding big data sets fast."""
        with self._lock:
            latest = [self._latest_time]
            for transcript in transcripts:
                self._refuse_taken_id(transcript.id)
                self._transcripts[transcript.id] = transcript
                latest.append(transcript.created_at)
            for report in reports:
                self._refuse_taken_id(report.id)
                self._reports[report.id] = report
                self._report_ids_by_transcript.setdefault(report.transcription_id, []).append(report.id)
                latest.append(report.created_at)
            for project in projects:
                self._refuse_taken_id(project.id)
                self._projects[project.id] = project
                latest.append(project.updated_at)
            self._latest_time = max(latest)
            self._sorted.clear()

    def insert_transcript(self, transcript: Transcript) -> None:
        self.load(transcripts=[transcript])

    def insert_report(self, report: Report) -> None:
        self.load(reports=[report])

    def insert_project(self, project: Project) -> None:
        self.load(projects=[project])

    # ---- helpers ------------------------------------------------------------------------

    def _store(self, resource: str) -> dict:
        if resource not in RESOURCES:
            raise ValueError(f"unknown resource {resource!r}")
        return {"transcripts": self._transcripts, "reports": self._reports, "projects": self._projects}[resource]

    def _report_ids(self, transcript_id: str) -> list[str]:
        reports = [self._reports[i] for i in self._report_ids_by_transcript.get(transcript_id, [])]
        return [r.id for r in sorted(reports, key=lambda r: (r.created_at, r.id))]

    def _project_transcripts(self, project: Project) -> list[Transcript]:
        members = [self._transcripts.get(i) for i in project.transcript_ids]
        owned = [t for t in members if t is not None and t.account == project.account]
        return sorted(owned, key=lambda t: (t.created_at, t.id), reverse=True)

    def _refuse_taken_id(self, id: str) -> None:
        if id in self._transcripts or id in self._reports or id in self._projects:
            raise ValueError(f"id {id} is already taken")
