"""build_dataset: a deterministic data set for account "acme", plus a foreign account "other".

The newest acme transcripts are hand-shaped edge cases (index 0 = newest):
  0  Russian title with emoji, a source_url, and an extra report still "processing" (content null)
  1  status "processing": text and summary null, no reports
  2  the doc's "Sales sync — Q2 kickoff", source_url null
  3  a ~200 KB text
  4  status "failed": text, summary and duration_seconds null, no reports
  5, 6  the same created_at (ties are ordered by id, descending)
Every other transcript is generic. Each completed transcript gets `reports_per_transcript` reports,
the first auto-generated and the rest not. Projects take transcripts round-robin, except the last
project (when there are two or more), which stays empty; project 1 has a null description.

Records are slotted dataclasses whose generic text is made only when a detail is asked for
(records.GENERATED), so 20,000 transcripts and 40,000 reports build in about a second and ~25 MB.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from .content import (
    PROJECT_COLORS,
    PROJECT_NAMES,
    REPORT_TEMPLATES,
    large_transcript_text,
    make_id,
    topic,
    transcript_summary,
    transcript_text,
)
from .dataset import Dataset
from .records import GENERATED, Project, Report, Transcript, format_time, parse_time

ACCOUNT = "acme"
OTHER_ACCOUNT = "other"
NEWEST_TRANSCRIPT_AT = datetime(2026, 5, 8, 9, 14, 22, tzinfo=timezone.utc)  # the doc's example
FIRST_PROJECT_AT = datetime(2026, 4, 1, 10, 0, 0, tzinfo=timezone.utc)
TEMPLATE_CODES = tuple(REPORT_TEMPLATES)


def build_dataset(transcripts: int = 7, reports_per_transcript: int = 2, projects: int = 3, seed: int = 0) -> Dataset:
    """acme's `transcripts` (edge cases first, see above) and their reports and projects, plus "other"'s."""
    rng = random.Random(seed)
    transcript_records, report_records = [], []
    members: dict[int, list[str]] = {k: [] for k in range(projects)}
    empty_project = projects - 1 if projects >= 2 else None
    created = NEWEST_TRANSCRIPT_AT
    for index in range(transcripts):
        if index > 0 and index != 6:  # 6 shares 5's created_at
            created -= timedelta(seconds=rng.randint(20 * 60, 3 * 3600))
        transcript = _transcript(index, created, rng, seed)
        transcript_records.append(transcript)
        if transcript.status == "completed":
            report_records += _reports(transcript, created, index, reports_per_transcript, seed)
        if projects and index % projects != empty_project:
            members[index % projects].append(transcript.id)
    dataset = Dataset(seed=seed)
    dataset.load(transcript_records, report_records, [_project(k, members[k], seed) for k in range(projects)])
    _seed_other_account(dataset, seed)
    return dataset


def _transcript(index: int, created: datetime, rng: random.Random, seed: int) -> Transcript:
    title = f"{topic(index)} #{index + 1}"
    duration = rng.randint(300, 5400)
    record = Transcript(
        id=make_id(seed, ACCOUNT, "transcript", index),
        account=ACCOUNT,
        title=title,
        status="completed",
        created_at=format_time(created),
        duration_seconds=duration,
        source_url=None if index % 3 == 2 else f"https://meet.example.com/rec/{index + 1}",
        text=GENERATED,
        summary=GENERATED,
        file_size_mb=round(duration / 100, 1),
    )
    if index == 0:
        record.title = "Планёрка отдела продаж 🚀 — итоги недели"
        record.text = transcript_text(record.title, index) + "\nСпикер 4: Всем спасибо! 👋"
        record.summary = transcript_summary(record.title)
    elif index == 1:
        record.status, record.text, record.summary = "processing", None, None
    elif index == 2:
        record.title = "Sales sync — Q2 kickoff"
        record.text = "Welcome everybody, today we'll cover the Q2 pipeline."
        record.summary = "Q2 sales priorities and account assignments."
    elif index == 3:
        record.title = "All-hands: полная стенограмма 📚"
        record.text = large_transcript_text()
    elif index == 4:
        record.status, record.text, record.summary, record.duration_seconds = "failed", None, None, None
    return record


def _reports(transcript: Transcript, created: datetime, index: int, count: int, seed: int) -> list[Report]:
    reports = []
    for number in range(count):
        code = TEMPLATE_CODES[(index + number) % len(TEMPLATE_CODES)]
        reports.append(Report(
            id=make_id(seed, transcript.account, "report", index, number),
            account=transcript.account,
            transcription_id=transcript.id,
            template_name=REPORT_TEMPLATES[code],
            template_code=code,
            status="completed",
            is_auto_generated=number == 0,
            created_at=format_time(created + timedelta(minutes=4 * (number + 1))),
            content=GENERATED,
        ))
    if index == 0 and count:
        reports.append(Report(
            id=make_id(seed, transcript.account, "report", index, "processing"),
            account=transcript.account,
            transcription_id=transcript.id,
            template_name=REPORT_TEMPLATES["sales_review"],
            template_code="sales_review",
            status="processing",
            is_auto_generated=False,
            created_at=format_time(created + timedelta(minutes=30)),
            content=None,
        ))
    return reports


def _project(number: int, transcript_ids: list[str], seed: int) -> Project:
    created = FIRST_PROJECT_AT + timedelta(days=number)
    name = PROJECT_NAMES[number % len(PROJECT_NAMES)]
    return Project(
        id=make_id(seed, ACCOUNT, "project", number),
        account=ACCOUNT,
        name=name if number < len(PROJECT_NAMES) else f"{name} {number + 1}",
        description=None if number == 1 else "Weekly product syncs — еженедельные встречи",
        color=PROJECT_COLORS[number % len(PROJECT_COLORS)],
        created_at=format_time(created),
        updated_at=format_time(created + timedelta(days=36, hours=6, minutes=42)),
        transcript_ids=transcript_ids,
    )


def _seed_other_account(dataset: Dataset, seed: int) -> None:
    """Interleaved in time with acme's data, so only an ownership filter keeps them apart."""
    titles = ("Чужая встреча 🔒", "Other account standup")
    ids = []
    for index, title in enumerate(titles):
        transcript = Transcript(
            id=make_id(seed, OTHER_ACCOUNT, "transcript", index),
            account=OTHER_ACCOUNT,
            title=title,
            status="completed",
            created_at=format_time(NEWEST_TRANSCRIPT_AT - timedelta(minutes=30 + 1440 * index)),
            duration_seconds=900,
            source_url=None,
            text=transcript_text(title, index),
            summary=transcript_summary(title),
            file_size_mb=9.0,
        )
        dataset.insert_transcript(transcript)
        ids.append(transcript.id)
        if index == 0:
            for report in _reports(transcript, parse_time(transcript.created_at), index=1, count=1, seed=seed):
                dataset.insert_report(report)
    dataset.insert_project(Project(
        id=make_id(seed, OTHER_ACCOUNT, "project", 0),
        account=OTHER_ACCOUNT,
        name="Other team",
        description="Not acme's",
        color="#000000",
        created_at=format_time(FIRST_PROJECT_AT),
        updated_at=format_time(FIRST_PROJECT_AT),
        transcript_ids=ids,
    ))
