"""The small components on their own: the list extractor, the checkpoint rule and the state migration,
with plain inputs. (Where the newest-first list stops paging is the plan's call: test_fetch_plan.py.)"""

import json
from types import SimpleNamespace

import requests

from source_meetlog import cdk_internals
from source_meetlog.components.list_pages import (
    LAST_ON_PAGE_FIELD,
    LIST_PAGE_FIELD,
    LIST_PAGES_FIELD,
    LIST_TOTAL_FIELD,
    PAGE_PAST_THE_END,
    PAGE_WITHOUT_ITEMS,
    ListPageExtractor,
    without_list_fields,
)
from source_meetlog.components.state_migration import RestartOnUnreadableState


def response(body) -> requests.Response:
    answer = requests.Response()
    answer.status_code = 200
    answer._content = json.dumps(body).encode()
    return answer


def page(number: int, of: int, *created_at: str) -> requests.Response:
    items = [{"id": str(i), "created_at": value} for i, value in enumerate(created_at)]
    return response({"items": items, "meta": {"page": number, "page_size": 100, "total": 100 * of, "total_pages": of}})


# ------------------------------------------------------------------ ListPageExtractor


def test_given_a_page_then_each_item_carries_the_total_and_its_page():
    extractor = ListPageExtractor(config={}, parameters={})
    [item] = list(extractor.extract_records(page(2, 3, "2026-05-08T10:05:00Z")))
    assert (item[LIST_TOTAL_FIELD], item[LIST_PAGE_FIELD], item[LIST_PAGES_FIELD]) == (300, 2, 3)


def test_given_a_page_then_only_its_last_item_says_so_and_the_marks_come_off_again():
    """The router may stop reading at the end of a page, before the next one is requested."""
    extractor = ListPageExtractor(config={}, parameters={})
    items = list(extractor.extract_records(page(1, 3, "2026-05-08T10:05:00Z", "2026-05-08T10:01:00Z")))
    assert [item[LAST_ON_PAGE_FIELD] for item in items] == [False, True]
    assert without_list_fields(items[1]) == {"id": "1", "created_at": "2026-05-08T10:01:00Z"}


def test_given_a_page_without_items_although_records_are_promised_then_one_marker_says_so():
    extractor = ListPageExtractor(config={}, parameters={})
    body = {"items": None, "meta": {"page": 2, "total": 137, "total_pages": 2}}
    assert list(extractor.extract_records(response(body))) == [{PAGE_WITHOUT_ITEMS: 2, LIST_TOTAL_FIELD: 137}]


def test_given_a_page_past_the_end_of_a_list_that_shrank_while_paged_then_a_marker_carries_its_total():
    """Deletions made page 4 past the end: its total (6, the pages before said 7) is how the router
    learns that a record may have moved onto a page it read already."""
    extractor = ListPageExtractor(config={}, parameters={})
    body = {"items": [], "meta": {"page": 4, "total": 6, "total_pages": 3}}
    assert list(extractor.extract_records(response(body))) == [{PAGE_PAST_THE_END: 4, LIST_TOTAL_FIELD: 6}]


def test_given_an_empty_list_then_nothing_is_extracted():
    extractor = ListPageExtractor(config={}, parameters={})
    assert list(extractor.extract_records(response({"items": [], "meta": {"page": 1, "total": 0, "total_pages": 0}}))) == []


# ------------------------------------------------------------------ the checkpoint rule (cdk_internals)


def fake_cursor(due=True):
    router = SimpleNamespace(checkpoint_is_due=lambda: due, checkpoints=[])
    router.checkpointed = lambda: router.checkpoints.append(1)
    cursor = SimpleNamespace(_parent_state=None, _throttle_state_message=lambda: None, _partition_router=router)
    cdk_internals._emit_when_the_parent_state_moves(cursor)
    return cursor


def test_given_a_new_committed_list_state_then_a_state_message_is_due_and_the_plan_is_told():
    cursor = fake_cursor()
    cursor._parent_state = {"transcripts_list": {"created_at": "…"}}
    assert cursor._throttle_state_message() is not None
    assert cursor._partition_router.checkpoints == [1], "the plan counts what the checkpoint costs"


def test_given_the_same_committed_list_state_then_the_cdk_throttle_decides():
    cursor = fake_cursor()
    cursor._parent_state = {"transcripts_list": {}}
    cursor._throttle_state_message()
    assert cursor._throttle_state_message() is None


def test_given_a_state_the_budget_has_no_room_for_yet_then_no_state_message():
    cursor = fake_cursor(due=False)
    cursor._parent_state = {"transcripts_list": {}}
    assert cursor._throttle_state_message() is None


# ------------------------------------------------------------------ RestartOnUnreadableState


def migration() -> RestartOnUnreadableState:
    return RestartOnUnreadableState(config={}, parameters={}, name="transcripts", cursor_field="created_at")


def test_given_states_this_connector_writes_then_they_are_kept():
    current = {"state": {"created_at": "2026-05-08T09:14:22Z"},
               "parent_state": {"transcripts_list": {"created_at": "2026-05-08T09:14:22Z", "pending": {"a": "f00d"}}}}
    # An empty list leaves no cursor, yet its state may remember (reconcile_deletions: an empty table of ids).
    empty_list = {"use_global_cursor": True, "parent_state": {"transcripts_list": {"sent": "u4:"}}}
    for state in ({"created_at": "2026-05-08T09:14:22Z"}, current, empty_list):
        assert migration().should_migrate(state) is False


def test_given_states_it_never_writes_then_the_stream_restarts():
    unreadable_list_cursor = {"parent_state": {"transcripts_list": {"created_at": "yesterday"}}}
    for state in ({"created_at": "yesterday"}, {"state": 12}, {"cursor": "2026-05-08T09:14:22Z"}, unreadable_list_cursor):
        assert migration().should_migrate(state) is True
    assert migration().migrate({"created_at": "yesterday"}) == {}


def test_each_streams_router_takes_its_settings_from_the_manifest_as_declared_fields():
    """The router reads no $parameters strings: the CDK copies each stream's $parameters onto its fields."""
    from source_meetlog import SourceMeetlog
    from source_meetlog.core.declared import manifest

    config = {"api_key": "tk_live_fieldstestkey", "base_url": "http://127.0.0.1:9"}
    streams = {stream.name: stream for stream in SourceMeetlog(config=config).streams(config)}
    for name in ("transcripts", "reports", "projects"):
        declared = manifest()["definitions"]["streams"][name]["$parameters"]
        router = streams[name].cursor._partition_router
        assert (router.name, router.cursor_field, router.status_field) == (name, declared["cursor_field"], declared.get("status_field"))
        assert router.detail_fields == declared["detail_fields"]
        assert router.documented_newest_first == bool(declared.get("documented_newest_first"))
        assert router.remembered_detail == declared.get("remembered_detail")


def test_every_stream_component_takes_its_stream_from_the_manifest_as_declared_fields(monkeypatch):
    """The state migration and the mismatch report read no $parameters strings either: each stream's name
    and cursor_field arrive as fields. (Not the authenticator: the CDK fills a field `name` with its own
    stream's, a hidden list's, where the waits it announces belong to the public stream, $parameters.name.)"""
    from source_meetlog import SourceMeetlog
    from source_meetlog.components.mismatches import ReportMismatches
    from source_meetlog.core.declared import manifest

    built = []
    for component in (RestartOnUnreadableState, ReportMismatches):
        def recorded(self, parameters, _original=component.__post_init__):
            built.append(self)
            _original(self, parameters)
        monkeypatch.setattr(component, "__post_init__", recorded)
    config = {"api_key": "tk_live_fieldstestkey", "base_url": "http://127.0.0.1:9"}
    SourceMeetlog(config=config).streams(config)

    declared = {name: stream["$parameters"] for name, stream in manifest()["definitions"]["streams"].items()}
    migrations = {(c.name, c.cursor_field) for c in built if isinstance(c, RestartOnUnreadableState)}
    assert migrations == {(name, declared[name]["cursor_field"]) for name in ("transcripts", "reports", "projects")}
    assert {c.name for c in built if isinstance(c, ReportMismatches)} == {"transcripts", "reports", "projects"}
