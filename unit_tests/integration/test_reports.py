"""reports: List reports (GET /api/v1/export/reports) names the ids, Get report
(GET /api/v1/export/reports/{id}) is the record, Markdown content included. The shared cases are in suite.py."""

from unittest import TestCase

from .suite import MeetlogStreamSuite


class TestReportsFullRefresh(MeetlogStreamSuite, TestCase):
    STREAM = "reports"
    SCOPE = "export:reports"
    RECORD_KIND = "report"
    OTHER_STREAM = "transcripts"
    DETAIL_FIELDS = frozenset(
        {
            "id",
            "transcription_id",
            "template_name",
            "template_code",
            "status",
            "is_auto_generated",
            "created_at",
            "content",
        }
    )
