"""Dataset's add, update and delete methods: the changes tests make between or during syncs.

All run under the data set's lock; adds and updates return the detail dict the API would now show.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta, timezone

from .content import PROJECT_COLORS, REPORT_TEMPLATES, make_id
from .records import GENERATED, Project, Report, Transcript, as_timestamp, format_time, parse_time


class DatasetMutations:
    """Mixed into Dataset, whose store (_transcripts, _reports, _projects, _lock, ...) it edits."""

    def add_transcript(
        self,
        account: str = "acme",
        status: str = "completed",
        created_at: str | datetime | None = None,
        *,
        title: str | None = None,
        duration_seconds: int | None = 600,
        source_url: str | None = None,
        text: str | None = None,
        summary: str | None = None,
        file_size_mb: float | None = None,
        id: str | None = None,
    ) -> dict:
        """A new transcript, newest of all unless `created_at` says otherwise; returns its detail.

        A completed one gets generated text and summary when none are given; others keep None.
        """
        with self._lock:
            number = self._next_added()
            transcript_id = id or make_id(self.seed, "added", number)
            title = title or f"Added transcript {number} — новая запись"
            completed = status == "completed"
            self.insert_transcript(Transcript(
                id=transcript_id,
                account=account,
                title=title,
                status=status,
                created_at=self._stamp(created_at),
                duration_seconds=duration_seconds,
                source_url=source_url,
                text=text if text is not None or not completed else GENERATED,
                summary=summary if summary is not None or not completed else GENERATED,
                file_size_mb=file_size_mb if file_size_mb is not None else round((duration_seconds or 0) / 100, 1),
            ))
            return self.transcript_detail(transcript_id)

    def add_report(
        self,
        transcription_id: str,
        status: str = "completed",
        created_at: str | datetime | None = None,
        *,
        template_code: str = "meeting_minutes",
        template_name: str | None = None,
        is_auto_generated: bool = True,
        content: str | None = None,
        id: str | None = None,
    ) -> dict:
        """A report on an existing transcript, owned by that transcript's account; returns its detail."""
        with self._lock:
            transcript = self._transcripts[transcription_id]
            number = self._next_added()
            report_id = id or make_id(self.seed, "added", number)
            completed = status == "completed"
            self.insert_report(Report(
                id=report_id,
                account=transcript.account,
                transcription_id=transcription_id,
                template_name=template_name or REPORT_TEMPLATES.get(template_code, template_code),
                template_code=template_code,
                status=status,
                is_auto_generated=is_auto_generated,
                created_at=self._stamp(created_at),
                content=content if content is not None or not completed else GENERATED,
            ))
            return self.report_detail(report_id)

    def add_project(
        self,
        account: str = "acme",
        name: str | None = None,
        description: str | None = None,
        color: str = PROJECT_COLORS[0],
        created_at: str | datetime | None = None,
        *,
        transcript_ids: tuple[str, ...] | list[str] = (),
        id: str | None = None,
    ) -> dict:
        with self._lock:
            number = self._next_added()
            project_id = id or make_id(self.seed, "added", number)
            created = self._stamp(created_at)
            self.insert_project(Project(
                id=project_id,
                account=account,
                name=name or f"Added project {number}",
                description=description,
                color=color,
                created_at=created,
                updated_at=created,
                transcript_ids=list(transcript_ids),
            ))
            return self.project_detail(project_id)

    def update_transcript(self, id: str, **changes) -> dict:
        """E.g. processing -> completed: update_transcript(id, status="completed", text=..., summary=...)."""
        with self._lock:
            self._apply(self._transcripts[id], changes)
            return self.transcript_detail(id)

    def rename_transcript(self, id: str, title: str) -> dict:
        """A new title and nothing else. update_transcript(id, title=...) would change a generic
        transcript's text and summary too: they are made from the title when asked for."""
        with self._lock:
            before = self.transcript_detail(id)
            return self.update_transcript(id, title=title, text=before["text"], summary=before["summary"])

    def update_report(self, id: str, **changes) -> dict:
        with self._lock:
            report = self._reports[id]
            old_parent = report.transcription_id
            self._apply(report, changes)
            if report.transcription_id != old_parent:
                self._report_ids_by_transcript[old_parent].remove(id)
                self._report_ids_by_transcript.setdefault(report.transcription_id, []).append(id)
            return self.report_detail(id)

    def retitle_report(self, id: str, template_name: str) -> dict:
        """A new template_name and nothing else (a generic report's content is made from it when asked for)."""
        with self._lock:
            before = self.report_detail(id)
            return self.update_report(id, template_name=template_name, content=before["content"])

    def update_project(self, id: str, **changes) -> dict:
        """Bumps updated_at to now unless the changes set it."""
        with self._lock:
            changes.setdefault("updated_at", self._stamp(None))
            self._apply(self._projects[id], changes)
            return self.project_detail(id)

    def set_project_transcripts(self, project_id: str, transcript_ids: list[str] | tuple[str, ...]) -> dict:
        """Membership is part of the project, so changing it bumps updated_at like any other edit."""
        return self.update_project(project_id, transcript_ids=list(transcript_ids))

    def delete_transcript(self, id: str) -> None:
        """Deletes its reports too and drops it from projects (without touching their updated_at)."""
        with self._lock:
            del self._transcripts[id]
            for report_id in self._report_ids_by_transcript.pop(id, []):
                del self._reports[report_id]
            for project in self._projects.values():
                if id in project.transcript_ids:
                    project.transcript_ids.remove(id)
            self._sorted.clear()

    def delete_report(self, id: str) -> None:
        with self._lock:
            report = self._reports.pop(id)
            self._report_ids_by_transcript[report.transcription_id].remove(id)
            self._sorted.clear()

    def delete_project(self, id: str) -> None:
        with self._lock:
            del self._projects[id]
            self._sorted.clear()

    # ---- helpers ------------------------------------------------------------------------

    def _apply(self, record, changes: dict) -> None:
        allowed = {f.name for f in fields(record)} - {"id", "account"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"cannot update {sorted(unknown)} on {type(record).__name__}")
        for name, value in changes.items():
            if name in ("created_at", "updated_at"):
                value = self._stamp(value)
            setattr(record, name, list(value) if name == "transcript_ids" else value)
        self._sorted.clear()

    def _next_added(self) -> int:
        self._added += 1
        return self._added

    def _stamp(self, moment: str | datetime | None) -> str:
        """Given times are kept; "now" is a minute ago by the wall clock, but always after every time
        already stored, so an added record is the newest even when the seeded data were dated in the
        future. A minute ago, because a record a test adds exists before the syncs that follow: the
        connector reads the second a list was read in again, for records made later in that second."""
        if moment is not None:
            stamp = as_timestamp(moment)
        else:
            now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=60)
            after_latest = parse_time(self._latest_time) + timedelta(seconds=1) if self._latest_time else now
            stamp = format_time(max(now, after_latest))
        self._note_time(stamp)
        return stamp

    def _note_time(self, stamp: str) -> None:
        self._latest_time = max(self._latest_time, stamp)
