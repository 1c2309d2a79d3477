"""The three exported resources as light records, and how each one looks in a list and in a detail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .content import report_content, transcript_summary, transcript_text

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # the API's "2026-05-08T09:14:22Z"


def format_time(moment: datetime) -> str:
    # isoformat() is several times faster than strftime(), which counts when seeding big data sets.
    if moment.utcoffset():
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)


def as_timestamp(value: str | datetime) -> str:
    """Accepts either form from tests and stores the API's string form (it also sorts correctly)."""
    if isinstance(value, datetime):
        return format_time(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return format_time(parse_time(value))


class _Generated:
    def __repr__(self) -> str:
        return "GENERATED"


# Stands for text made from the record itself when a detail is asked for, so 20,000 seeded
# transcripts do not each hold their text in memory. Any real string replaces it.
GENERATED = _Generated()


def _variant(id: str) -> int:
    return int(id[:8], 16)


@dataclass(slots=True)
class Transcript:
    id: str
    account: str
    title: str
    status: str  # "completed" | "processing" | "failed"
    created_at: str
    duration_seconds: int | None
    source_url: str | None
    text: str | None  # or GENERATED
    summary: str | None  # or GENERATED
    file_size_mb: float | None

    def list_item(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "created_at": self.created_at,
            "duration_seconds": self.duration_seconds,
            "source_url": self.source_url,
        }

    def detail(self, report_ids: list[str]) -> dict:
        return {
            **self.list_item(),
            "text": transcript_text(self.title, _variant(self.id)) if self.text is GENERATED else self.text,
            "summary": transcript_summary(self.title) if self.summary is GENERATED else self.summary,
            "file_size_mb": self.file_size_mb,
            "report_ids": report_ids,
        }

    def project_entry(self) -> dict:
        return {"id": self.id, "title": self.title, "status": self.status, "created_at": self.created_at}


@dataclass(slots=True)
class Report:
    id: str
    account: str
    transcription_id: str
    template_name: str
    template_code: str
    status: str  # "completed" | "processing"
    is_auto_generated: bool
    created_at: str
    content: str | None  # Markdown, or GENERATED; None while the report is still processing

    def list_item(self) -> dict:
        return {
            "id": self.id,
            "transcription_id": self.transcription_id,
            "template_name": self.template_name,
            "template_code": self.template_code,
            "status": self.status,
            "is_auto_generated": self.is_auto_generated,
            "created_at": self.created_at,
        }

    def detail(self) -> dict:
        content = report_content(self.template_code, self.template_name) if self.content is GENERATED else self.content
        return {**self.list_item(), "content": content}


@dataclass(slots=True)
class Project:
    id: str
    account: str
    name: str
    description: str | None
    color: str
    created_at: str
    updated_at: str
    transcript_ids: list[str] = field(default_factory=list)

    def list_item(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "color": self.color,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def detail(self, transcripts: list[Transcript]) -> dict:
        return {**self.list_item(), "transcripts": [t.project_entry() for t in transcripts]}
