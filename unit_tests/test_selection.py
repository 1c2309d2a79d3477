"""core/selection.py: which streams a read serves from their list pages alone (issue #20), and what else the catalog decides."""

from source_meetlog.core.selection import DETAIL_FIELDS, selection_of


def test_the_detail_only_columns_are_the_ones_manifest_yaml_declares():
    assert DETAIL_FIELDS == {
        "transcripts": {"text", "summary", "file_size_mb", "report_ids"},
        "reports": {"content"},
        "projects": {"transcripts"},
    }


def list_only_streams(columns):
    return selection_of(columns).list_only


def test_given_only_list_columns_selected_then_the_stream_is_list_only():
    assert list_only_streams({"transcripts": ["id", "title", "status"], "reports": ["id", "template_name"]}) == {
        "transcripts", "reports"}


def test_given_one_detail_only_column_selected_then_details_are_fetched():
    assert list_only_streams({"transcripts": ["id", "summary"], "reports": ["content"]}) == set()


def test_given_no_selection_then_every_column_is_fetched():
    """No properties, or empty ones, in the configured schema: the stream as a whole (source.py passes None)."""
    assert list_only_streams({"transcripts": None, "projects": None}) == set()


def test_given_id_and_created_at_deselected_then_the_stream_is_still_list_only():
    assert list_only_streams({"reports": ["template_name"]}) == {"reports"}


def test_given_project_transcripts_selected_then_projects_need_their_details_anyway():
    selected = {"projects": ["id", "name"], "project_transcripts": None}

    assert list_only_streams(selected) == set()
    assert list_only_streams({"projects": ["id", "name"]}) == {"projects"}


def test_given_transcripts_read_incrementally_with_their_details_beside_reports_then_they_link_reports():
    both = {"transcripts": None, "reports": None}

    assert selection_of(both, incremental={"transcripts"}).links_reports
    assert not selection_of(both).links_reports, "a full refresh fetches every transcript's detail anyway"
    assert not selection_of({**both, "transcripts": ["id"]}, incremental={"transcripts"}).links_reports, "no report_ids sent"
    assert not selection_of({"transcripts": None}, incremental={"transcripts"}).links_reports
