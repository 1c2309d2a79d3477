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

Messy data, for tests of change detection (off by default, so the default data stay as they are):
`stuck_every=N` leaves about one transcript in N `processing` for good (text and summary null, no
reports): one in each run of N consecutive transcripts, newest to oldest, at a place drawn from
`seed`, so they are spread over every age; the hand-shaped edge cases (0-6) keep their shape.
`stuck_reports_every=M` does the same to about one generic report in M (content null).

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
EDGE_CASES = frozenset(range(7))  # the hand-shaped transcripts, by index


class OneInEvery:
    """`index in OneInEvery(7, seed, "transcripts")`: one index in each run of 7 (0-6, 7-13, ...), at a
    place drawn from (seed, name), so the picks are spread evenly and are the same on every build.
    Indices in `keep` are never picked; a run made only of them has no pick. `every=None`: none."""

    def __init__(self, every: int | None, seed: int, name: str, keep: frozenset = frozenset()):
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"stuck every {every!r}: a whole number of at least 1, or None")
        self._every, self._keep = every, keep
        self._rng = random.Random(f"{name}:{seed}:{every}")  # not build_dataset's rng: the rest stays as it was
        self._picks: list[int | None] = []

    def __contains__(self, index: int) -> bool:
        if self._every is None:
            return False
        run = index // self._every
        while len(self._picks) <= run:
            start = len(self._picks) * self._every
            candidates = [i for i in range(start, start + self._every) if i not in self._keep]
            self._picks.append(self._rng.choice(candidates) if candidates else None)
        return self._picks[run] == index


def build_dataset(transcripts: int = 7, reports_per_transcript: int = 2, projects: int = 3, seed: int = 0, *,
                  stuck_every: int | None = None, stuck_reports_every: int | None = None) -> Dataset:
    """acme's `transcripts` (edge cases first, see above) and their reports and projects, plus "other"'s.

    stuck_every / stuck_reports_every: about one transcript / generic report in N stays `processing`.
    """
    rng = random.Random(seed)
    stuck_transcripts = OneInEvery(stuck_every, seed, "transcripts", keep=EDGE_CASES)
    stuck_reports = OneInEvery(stuck_reports_every, seed, "reports")
    transcript_records, report_records = [], []
    members: dict[int, list[str]] = {k: [] for k in range(projects)}
    empty_project = projects - 1 if projects >= 2 else None
    created = NEWEST_TRANSCRIPT_AT
    generic_reports = 0
    for index in range(transcripts):
        if index > 0 and index != 6:  # 6 shares 5's created_at
            created -= timedelta(seconds=rng.randint(20 * 60, 3 * 3600))
        transcript = _transcript(index, created, rng, seed)
        if index in stuck_transcripts:
            transcript.status, transcript.text, transcript.summary = "processing", None, None
        transcript_records.append(transcript)
        if transcript.status == "completed":
            reports = _reports(transcript, created, index, reports_per_transcript, seed)
            for report in reports[:reports_per_transcript]:  # the generic ones, not index 0's extra
                generic_reports += 1
                if generic_reports - 1 in stuck_reports:
                    report.status, report.content = "processing", None
            report_records += reports
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
