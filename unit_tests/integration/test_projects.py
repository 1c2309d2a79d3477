"""projects: List projects (GET /api/v1/export/projects) names the ids, Get project
(GET /api/v1/export/projects/{id}) is the record, with the project's transcripts. The shared cases are in suite.py."""

from unittest import TestCase

from .suite import MeetlogStreamSuite


class TestProjectsFullRefresh(MeetlogStreamSuite, TestCase):
    STREAM = "projects"
    SCOPE = "export:projects"
    RECORD_KIND = "project"
    OTHER_STREAM = "transcripts"
    DETAIL_FIELDS = frozenset({"id", "name", "description", "color", "created_at", "updated_at", "transcripts"})
