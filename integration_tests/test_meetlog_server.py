"""Tests of the local Meetlog Export API server itself: if it drifts from the doc, every
connector test built on it would prove the wrong thing."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
import uuid
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from integration_tests.meetlog_server import MeetlogServer, build_dataset, faults

TRANSCRIPTS = "/api/v1/export/transcripts"
REPORTS = "/api/v1/export/reports"
PROJECTS = "/api/v1/export/projects"
ERROR_FIELDS = {"error_code", "error_message", "status_code"}


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def key(server):
    return server.add_key()


def get(server, path, key=None, timeout=5, **params):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(server.base_url + path, headers=headers, params=params, timeout=timeout)


def all_pages(server, path, key, page_size=100):
    items, page = [], 1
    while True:
        body = get(server, path, key, page=page, page_size=page_size).json()
        items += body["items"]
        if page >= body["meta"]["total_pages"]:
            return items
        page += 1


def assert_error(response, status, code, message=None):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_FIELDS
    assert body["error_code"] == code and body["status_code"] == status
    if message is not None:
        assert body["error_message"] == message


# ---- authentication and scopes -------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-meetlog-key", "Bearer tk_live_unknownKeyUnknownKeyUnknownKey1"],
)
def test_missing_malformed_or_unknown_key_is_401_json(server, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.get(server.base_url + TRANSCRIPTS, headers=headers, timeout=5)
    assert_error(response, 401, "UNAUTHORIZED")


def test_revoked_and_expired_keys_are_401_with_different_messages(server):
    revoked, expired = server.add_key(), server.add_key()
    assert get(server, TRANSCRIPTS, revoked).status_code == 200
    server.revoke_key(revoked)
    server.expire_key(expired)
    assert_error(get(server, TRANSCRIPTS, revoked), 401, "UNAUTHORIZED", "API key has been revoked")
    assert_error(get(server, TRANSCRIPTS, expired), 401, "UNAUTHORIZED", "API key has expired")


def test_bearer_scheme_is_case_insensitive(server, key):
    response = requests.get(server.base_url + TRANSCRIPTS, headers={"Authorization": f"bearer {key}"}, timeout=5)
    assert response.status_code == 200


@pytest.mark.parametrize("path, scope", [(REPORTS, "export:reports"), (PROJECTS, "export:projects")])
def test_missing_scope_is_403_with_the_documented_message(server, path, scope):
    transcripts_only = server.add_key(scopes=("export:transcripts",))
    assert get(server, TRANSCRIPTS, transcripts_only).status_code == 200
    assert_error(get(server, path, transcripts_only), 403, "FORBIDDEN", f"Missing scope {scope}")
    some_id = server.dataset.list_items(path.rsplit("/", 1)[1])[0]["id"]
    assert_error(get(server, f"{path}/{some_id}", transcripts_only), 403, "FORBIDDEN", f"Missing scope {scope}")


def test_non_export_endpoint_is_403_and_unknown_paths_are_404(server, key):
    assert_error(get(server, "/api/v1/transcripts", key), 403, "FORBIDDEN")
    assert_error(get(server, "/api/v1/export/meetings", key), 404, "NOT_FOUND")
    assert_error(get(server, "/api/v1/export/transcripts/", key), 404, "NOT_FOUND")
    assert_error(get(server, "/favicon.ico"), 404, "NOT_FOUND")


def test_write_methods_are_405(server, key):
    response = requests.post(server.base_url + TRANSCRIPTS, headers={"Authorization": f"Bearer {key}"}, data=b"{}", timeout=5)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


def test_add_key_makes_tk_live_keys_and_rejects_unknown_scopes(server):
    key = server.add_key()
    assert re.fullmatch(r"tk_live_[A-Za-z0-9_-]{32}", key)
    assert server.add_key(key="tk_live_fixedSampleKey") == "tk_live_fixedSampleKey"
    with pytest.raises(ValueError):
        server.add_key(key="tk_live_fixedSampleKey")
    with pytest.raises(ValueError):
        server.add_key(scopes=("export:everything",))


# ---- ownership -------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["transcripts", "reports", "projects"])
def test_foreign_detail_is_404_exactly_like_a_missing_one(server, key, resource):
    path = f"/api/v1/export/{resource}"
    foreign_id = server.dataset.list_items(resource, account="other")[0]["id"]
    foreign = get(server, f"{path}/{foreign_id}", key)
    missing = get(server, f"{path}/{uuid.uuid4()}", key)
    assert_error(foreign, 404, "NOT_FOUND")
    assert foreign.content == missing.content


@pytest.mark.parametrize("resource", ["transcripts", "reports", "projects"])
def test_lists_show_only_the_key_owner_data(server, key, resource):
    path = f"/api/v1/export/{resource}"
    other_key = server.add_key(account="other")
    assert all_pages(server, path, key) == server.dataset.list_items(resource, "acme")
    assert all_pages(server, path, other_key) == server.dataset.list_items(resource, "other")
    acme_ids = {item["id"] for item in server.dataset.list_items(resource, "acme")}
    assert acme_ids.isdisjoint(item["id"] for item in server.dataset.list_items(resource, "other"))


# ---- paging ----------------------------------------------------------------------------------


def test_transcripts_are_newest_first_with_default_paging(server, key):
    body = get(server, TRANSCRIPTS, key).json()
    assert body["meta"] == {"page": 1, "page_size": 50, "total": 7, "total_pages": 1}
    created = [item["created_at"] for item in body["items"]]
    assert created == sorted(created, reverse=True)
    assert body["items"] == server.dataset.transcripts()


def test_an_exact_multiple_of_the_page_size_has_no_extra_page():
    with MeetlogServer(build_dataset(transcripts=200, reports_per_transcript=0, projects=0)) as server:
        key = server.add_key()
        first = get(server, TRANSCRIPTS, key, page=1, page_size=100).json()
        last = get(server, TRANSCRIPTS, key, page=2, page_size=100).json()
        past = get(server, TRANSCRIPTS, key, page=3, page_size=100).json()
    assert first["meta"] == {"page": 1, "page_size": 100, "total": 200, "total_pages": 2}
    assert len(first["items"]) == len(last["items"]) == 100
    assert past == {"items": [], "meta": {"page": 3, "page_size": 100, "total": 200, "total_pages": 2}}
    assert first["items"] + last["items"] == server.dataset.transcripts()


def test_pages_cut_the_list_in_api_order(server, key):
    pages = [get(server, TRANSCRIPTS, key, page=page, page_size=3).json() for page in (1, 2, 3)]
    assert [p["meta"]["total_pages"] for p in pages] == [3, 3, 3]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [item for p in pages for item in p["items"]] == server.dataset.transcripts()


@pytest.mark.parametrize("path", [TRANSCRIPTS, REPORTS, PROJECTS])
def test_an_account_without_data_gets_empty_pages(path):
    with MeetlogServer(build_dataset(transcripts=0, projects=0)) as server:
        body = get(server, path, server.add_key()).json()
    assert body == {"items": [], "meta": {"page": 1, "page_size": 50, "total": 0, "total_pages": 0}}


def test_page_size_above_100_is_clamped_to_100(server, key):
    assert get(server, TRANSCRIPTS, key, page_size=150).json()["meta"]["page_size"] == 100


@pytest.mark.parametrize(
    "params",
    [{"page": "abc"}, {"page": "0"}, {"page": "-1"}, {"page": "1.5"}, {"page_size": "x"}, {"page_size": "0"}, {"page_size": ""}],
)
def test_bad_paging_parameters_are_400(server, key, params):
    assert_error(get(server, TRANSCRIPTS, key, **params), 400, "BAD_REQUEST")


# ---- list and detail fields ------------------------------------------------------------------

TRANSCRIPT_LIST_FIELDS = {"id", "title", "status", "created_at", "duration_seconds", "source_url"}
REPORT_LIST_FIELDS = {"id", "transcription_id", "template_name", "template_code", "status", "is_auto_generated", "created_at"}
PROJECT_LIST_FIELDS = {"id", "name", "description", "color", "created_at", "updated_at"}


def test_transcript_list_and_detail_fields(server, key):
    items = get(server, TRANSCRIPTS, key).json()["items"]
    assert all(set(item) == TRANSCRIPT_LIST_FIELDS for item in items)
    reports = server.dataset.reports()
    for item in items:
        detail = get(server, f"{TRANSCRIPTS}/{item['id']}", key).json()
        assert set(detail) == TRANSCRIPT_LIST_FIELDS | {"text", "summary", "file_size_mb", "report_ids"}
        assert {k: detail[k] for k in TRANSCRIPT_LIST_FIELDS} == item
        assert sorted(detail["report_ids"]) == sorted(r["id"] for r in reports if r["transcription_id"] == item["id"])
        assert detail == server.dataset.transcript_detail(item["id"])


def test_report_list_and_detail_fields(server, key):
    items = get(server, REPORTS, key).json()["items"]
    assert len(items) == 11
    for item in items:
        assert set(item) == REPORT_LIST_FIELDS
        detail = get(server, f"{REPORTS}/{item['id']}", key).json()
        assert detail == {**item, "content": detail["content"]}
    assert {item["is_auto_generated"] for item in items} == {True, False}


def test_project_list_and_detail_fields(server, key):
    items = get(server, PROJECTS, key).json()["items"]
    assert all(set(item) == PROJECT_LIST_FIELDS for item in items)
    details = [get(server, f"{PROJECTS}/{item['id']}", key).json() for item in items]
    for item, detail in zip(items, details):
        assert detail == {**item, "transcripts": detail["transcripts"]}
        assert all(set(t) == {"id", "title", "status", "created_at"} for t in detail["transcripts"])
    assert sorted(len(d["transcripts"]) for d in details) == [0, 2, 3]
    assert None in {item["description"] for item in items}


def test_default_data_set_holds_the_edge_cases(server, key):
    details = [server.dataset.transcript_detail(t["id"]) for t in server.dataset.transcripts()]
    by_status = {d["status"]: d for d in reversed(details)}
    assert by_status["processing"]["text"] is None and by_status["processing"]["summary"] is None
    assert by_status["processing"]["report_ids"] == [] and by_status["failed"]["report_ids"] == []
    assert {d["source_url"] is None for d in details} == {True, False}
    assert max(len(d["text"].encode()) for d in details if d["text"]) >= 200_000
    assert any(re.search("[А-Яа-я]", d["title"]) and re.search("[\U0001F300-\U0001FAFF]", d["title"]) for d in details)
    reports = [server.dataset.report_detail(r["id"]) for r in server.dataset.reports()]
    assert [r["content"] for r in reports if r["status"] == "processing"] == [None]
    assert any("Задачи ✅" in r["content"] for r in reports if r["content"])


def test_unicode_and_a_large_text_survive_the_wire(server, key):
    large = max(server.dataset.transcripts(), key=lambda t: len(server.dataset.transcript_detail(t["id"])["text"] or ""))
    response = get(server, f"{TRANSCRIPTS}/{large['id']}", key)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "полная стенограмма 📚" in response.content.decode("utf-8")  # raw UTF-8, not \u escapes
    assert response.json()["text"] == server.dataset.transcript_detail(large["id"])["text"]


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    def snapshot(dataset):
        return [dataset.details(resource) for resource in ("transcripts", "reports", "projects")]

    assert snapshot(build_dataset(seed=3)) == snapshot(build_dataset(seed=3))
    assert build_dataset(seed=3).transcripts() != build_dataset(seed=4).transcripts()


def test_a_big_data_set_builds_quickly_and_pages_to_its_end():
    started = time.monotonic()
    dataset = build_dataset(transcripts=20_000)
    assert time.monotonic() - started < 8
    with MeetlogServer(dataset, requests_per_window=None) as server:
        body = get(server, TRANSCRIPTS, server.add_key(), page=200, page_size=100).json()
    assert body["meta"] == {"page": 200, "page_size": 100, "total": 20_000, "total_pages": 200}
    assert body["items"] == dataset.transcripts()[-100:]


@pytest.mark.parametrize("order", ["newest", "oldest", "shuffled"])
def test_reports_order_is_configurable_and_stable(order):
    with MeetlogServer(reports_order=order) as server:
        key = server.add_key()
        first, again = all_pages(server, REPORTS, key, page_size=4), all_pages(server, REPORTS, key, page_size=4)
    newest = sorted(first, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    assert first == again == server.dataset.reports()
    if order == "newest":
        assert first == newest
    elif order == "oldest":
        assert first == newest[::-1]
    else:
        assert sorted(first, key=lambda r: r["id"]) == sorted(newest, key=lambda r: r["id"])
        assert first not in (newest, newest[::-1])


# ---- messy data: records that stay processing ---------------------------------------------------

MESSY = dict(transcripts=230, reports_per_transcript=1, projects=12)


def _processing_places(items):
    return [place for place, item in enumerate(items) if item["status"] == "processing"]


def _digest(dataset):
    """Every detail of both accounts, hashed: equal digests, equal data."""
    blob = json.dumps([dataset.details(resource, account) for account in ("acme", "other")
                       for resource in ("transcripts", "reports", "projects")], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@pytest.mark.parametrize("sizes, digest", [
    ({}, "f45da61863299617"),
    (MESSY, "3c16cc599f2e8ce4"),
    ({"transcripts": 60, "seed": 5}, "e71a310349fbb4f5"),
])
def test_given_no_stuck_option_when_built_then_the_data_are_exactly_those_built_before_the_option_existed(sizes, digest):
    """The digests were taken from build_dataset before stuck_every existed: many tests pin those data."""
    assert _digest(build_dataset(**sizes)) == digest
    assert _digest(build_dataset(**sizes, stuck_every=None, stuck_reports_every=None)) == digest


def test_given_stuck_every_7_when_230_transcripts_are_built_then_one_in_each_run_of_7_is_processing_with_nothing_filled():
    """230 transcripts are 33 runs of 7 (the last one of 6): the first run is the hand-shaped edge cases,
    whose own processing transcript (index 1) is its pick, and every other run has one: 33 in all."""
    dataset = build_dataset(**MESSY, stuck_every=7)

    items = dataset.transcripts()
    places = _processing_places(items)
    assert len(places) == 33 and places[0] == 1
    assert [place // 7 for place in places] == list(range(33)), "one in each run of 7, newest to oldest"
    for place in places:
        detail = dataset.transcript_detail(items[place]["id"])
        assert (detail["text"], detail["summary"], detail["report_ids"]) == (None, None, [])


def test_given_stuck_every_7_then_processing_transcripts_reach_from_the_first_list_page_to_the_last():
    """Pages of 100: about 14 on page 1, 14 on page 2, 5 on page 3; the oldest is among the last 7."""
    places = _processing_places(build_dataset(**MESSY, stuck_every=7).transcripts())

    per_page = [sum(1 for place in places if place // 100 == page) for page in range(3)]
    assert all(13 <= count <= 15 for count in per_page[:2]) and per_page[2] >= 4, per_page
    assert places[-1] >= 230 - 7 and max(b - a for a, b in zip(places, places[1:])) <= 2 * 7 - 1


def test_given_stuck_reports_every_10_then_one_generic_report_in_each_run_of_10_is_processing_with_null_content():
    """197 completed transcripts, one report each: 20 runs of 10, one pick each, plus index 0's own
    processing report; the other reports stay completed."""
    dataset = build_dataset(**MESSY, stuck_every=7, stuck_reports_every=10)

    reports = [dataset.report_detail(r["id"]) for r in dataset.reports()]
    processing = [r for r in reports if r["status"] == "processing"]
    assert len(reports) == 197 and len(processing) == 20 + 1
    assert all(r["content"] is None for r in processing)
    assert all(r["content"] for r in reports if r["status"] == "completed")
    places = _processing_places(reports)
    assert places[-1] >= 197 - 10 * 2 and max(b - a for a, b in zip(places, places[1:])) <= 2 * 10 - 1


def test_given_stuck_options_then_the_same_seed_stucks_the_same_records_and_changes_nothing_else():
    plain = build_dataset(**MESSY)
    messy = build_dataset(**MESSY, stuck_every=7, stuck_reports_every=10)

    assert _digest(messy) == _digest(build_dataset(**MESSY, stuck_every=7, stuck_reports_every=10))
    assert _processing_places(messy.transcripts()) != _processing_places(
        build_dataset(**MESSY, seed=1, stuck_every=7).transcripts())
    stuck = {t["id"] for t in messy.transcripts() if t["status"] == "processing"}
    for before, after in zip(plain.transcripts(), messy.transcripts()):
        assert after == (before if after["id"] not in stuck else {**before, "status": "processing"})
    kept_reports = {r["id"]: r for r in plain.reports() if r["transcription_id"] not in stuck}
    assert {r["id"] for r in messy.reports()} == set(kept_reports)
    assert all(r == {**kept_reports[r["id"]], "status": r["status"]} for r in messy.reports())
    assert messy.projects() == plain.projects() and messy.details("projects", "other") == plain.details("projects", "other")


@pytest.mark.parametrize("every", [0, -1, 2.5, "7", True])
def test_given_a_stuck_every_that_is_not_a_whole_number_of_at_least_1_then_build_dataset_refuses_it(every):
    with pytest.raises(ValueError, match="stuck every"):
        build_dataset(stuck_every=every)


# ---- rate limit ------------------------------------------------------------------------------


def test_the_limit_answers_429_with_retry_after_seconds_per_key():
    clock = FakeClock()
    with MeetlogServer(requests_per_window=3, window_seconds=60.0, clock=clock) as server:
        key, other_key = server.add_key(), server.add_key()
        assert [get(server, TRANSCRIPTS, key).status_code for _ in range(3)] == [200] * 3
        clock.advance(15)
        limited = get(server, TRANSCRIPTS, key)
        assert_error(limited, 429, "TOO_MANY_REQUESTS")
        assert limited.headers["Retry-After"] == "45"
        assert get(server, TRANSCRIPTS, other_key).status_code == 200  # quotas are per key
        clock.advance(45)
        assert get(server, TRANSCRIPTS, key).status_code == 200


def test_retry_after_can_be_an_http_date():
    clock, wall = FakeClock(), 1_780_000_000.0
    with MeetlogServer(requests_per_window=1, window_seconds=60.0, clock=clock, wall_clock=lambda: wall,
                       retry_after_format="http-date") as server:
        key = server.add_key()
        get(server, TRANSCRIPTS, key)
        clock.advance(20)
        retry_after = get(server, TRANSCRIPTS, key).headers["Retry-After"]
    assert retry_after == formatdate(wall + 40, usegmt=True)
    assert parsedate_to_datetime(retry_after).timestamp() == wall + 40


def test_the_window_slides_on_the_real_clock():
    with MeetlogServer(requests_per_window=3, window_seconds=0.5) as server:
        key = server.add_key()
        answers = [get(server, TRANSCRIPTS, key) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[-1].headers["Retry-After"] == "1"  # whole seconds, rounded up
        time.sleep(0.55)
        assert get(server, TRANSCRIPTS, key).status_code == 200


def test_rejected_keys_do_not_use_the_quota_but_any_answer_to_a_valid_key_does():
    clock = FakeClock()
    with MeetlogServer(requests_per_window=3, clock=clock) as server:
        key = server.add_key(scopes=("export:transcripts",))
        for _ in range(5):
            assert get(server, TRANSCRIPTS, "tk_live_unknownKey").status_code == 401
        assert get(server, REPORTS, key).status_code == 403  # counted
        assert get(server, f"{TRANSCRIPTS}/{uuid.uuid4()}", key).status_code == 404  # counted
        assert get(server, TRANSCRIPTS, key).status_code == 200
        assert get(server, TRANSCRIPTS, key).status_code == 429


# ---- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, status",
    [(faults.http_500_html(), 500), (faults.http_502(), 502), (faults.http_503(), 503), (faults.non_json(), 200)],
)
def test_answering_faults_send_html_once(server, key, fault, status):
    server.inject(fault)
    response = get(server, TRANSCRIPTS, key)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    assert get(server, TRANSCRIPTS, key).status_code == 200


def test_reset_drops_the_connection_without_an_answer(server, key):
    server.inject("reset")
    with pytest.raises(requests.ConnectionError):
        get(server, TRANSCRIPTS, key)
    assert get(server, TRANSCRIPTS, key).status_code == 200
    assert [(r.status, r.fault) for r in server.requests] == [(None, "reset"), (200, None)]


def test_slow_delays_the_answer_past_a_client_timeout(server, key):
    server.inject(faults.slow(0.2))
    started = time.monotonic()
    assert get(server, TRANSCRIPTS, key).status_code == 200
    assert time.monotonic() - started >= 0.2
    server.inject(faults.slow(5))  # stopping the server cuts this sleep short
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(server, TRANSCRIPTS, key, timeout=0.1)


def test_truncated_json_with_a_matching_length_is_invalid_json(server, key):
    server.inject(faults.truncated_json())
    response = get(server, TRANSCRIPTS, key)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_truncated_json_with_the_full_length_breaks_the_read(server, key):
    server.inject(faults.truncated_json(content_length="full"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        get(server, TRANSCRIPTS, key)
    assert get(server, TRANSCRIPTS, key).status_code == 200


def test_rate_limited_bursts_with_either_retry_after(server, key):
    server.inject(faults.rate_limited(retry_after=7), times=2)
    server.inject(faults.rate_limited(retry_after=7, retry_after_format="http-date"))
    server.inject(faults.rate_limited(retry_after=None))
    server.inject(faults.rate_limited(retry_after="soon"))
    answers = [get(server, TRANSCRIPTS, key) for _ in range(6)]
    assert [r.status_code for r in answers] == [429, 429, 429, 429, 429, 200]
    assert [r.headers.get("Retry-After") for r in answers[:2]] == ["7", "7"]
    assert parsedate_to_datetime(answers[2].headers["Retry-After"]).timestamp() >= time.time() + 5
    assert "Retry-After" not in answers[3].headers
    assert answers[4].headers["Retry-After"] == "soon"
    assert_error(answers[0], 429, "TOO_MANY_REQUESTS")


def test_faults_match_a_path_prefix_after_some_requests(server, key):
    planned = server.inject(faults.http_503(), path_prefix=REPORTS, times=2, after=1)
    statuses = [get(server, REPORTS, key).status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert get(server, TRANSCRIPTS, key).status_code == 200
    assert planned.fired == 2 and server.faults.pending == []
    assert server.count(path_prefix=REPORTS, status=503) == 2


def test_random_faults_repeat_with_the_same_seed():
    def statuses(fault_seed):
        with MeetlogServer(fault_seed=fault_seed) as server:
            key = server.add_key()
            server.inject("http_502", times=None, probability=0.5)
            return [get(server, TRANSCRIPTS, key).status_code for _ in range(12)]

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 502}


def test_an_unknown_fault_name_is_refused(server):
    with pytest.raises(ValueError):
        server.inject("explode")


# ---- on_request hook ---------------------------------------------------------------------------


def test_a_hook_can_revoke_the_key_mid_sync(server, key):
    def revoke_on_page_2(request):
        if request.query.get("page") == "2":
            server.revoke_key(key)

    server.on_request = revoke_on_page_2
    assert get(server, TRANSCRIPTS, key, page=1, page_size=3).status_code == 200
    assert_error(get(server, TRANSCRIPTS, key, page=2, page_size=3), 401, "UNAUTHORIZED", "API key has been revoked")


def test_a_hook_can_insert_while_paging_and_the_pages_drift(server, key):
    def insert_before_page_2(request):
        if request.query.get("page") == "2":
            server.add_transcript()

    server.on_request = insert_before_page_2
    page_1 = get(server, TRANSCRIPTS, key, page=1, page_size=3).json()["items"]
    page_2 = get(server, TRANSCRIPTS, key, page=2, page_size=3).json()["items"]
    assert page_2[0] == page_1[-1]  # the new newest transcript pushed everything one place down


def test_a_failing_hook_answers_500_json(server, key):
    server.on_request = lambda request: 1 / 0
    assert_error(get(server, TRANSCRIPTS, key), 500, "INTERNAL_SERVER_ERROR")


# ---- mutations ---------------------------------------------------------------------------------


def test_an_added_transcript_is_the_newest(server, key):
    added = server.add_transcript(title="Новая встреча 🎉")
    items = get(server, TRANSCRIPTS, key).json()["items"]
    assert items[0]["id"] == added["id"] and items[0]["created_at"] > items[1]["created_at"]
    assert get(server, f"{TRANSCRIPTS}/{added['id']}", key).json() == added
    assert added["text"] and added["report_ids"] == []


def test_a_processing_transcript_completes(server, key):
    processing = next(t for t in server.dataset.transcripts() if t["status"] == "processing")
    server.update_transcript(processing["id"], status="completed", text="Готово ✅", summary="Done")
    detail = get(server, f"{TRANSCRIPTS}/{processing['id']}", key).json()
    assert (detail["status"], detail["text"], detail["summary"]) == ("completed", "Готово ✅", "Done")
    with pytest.raises(TypeError):
        server.update_transcript(processing["id"], colour="red")


def test_deleting_a_transcript_removes_its_reports_and_memberships(server, key):
    project = next(p for p in server.dataset.projects() if server.dataset.project_detail(p["id"])["transcripts"])
    victim = server.dataset.project_detail(project["id"])["transcripts"][0]["id"]
    report_ids = server.dataset.transcript_detail(victim)["report_ids"]
    server.delete_transcript(victim)
    assert get(server, f"{TRANSCRIPTS}/{victim}", key).status_code == 404
    assert all(get(server, f"{REPORTS}/{report_id}", key).status_code == 404 for report_id in report_ids)
    remaining = get(server, f"{PROJECTS}/{project['id']}", key).json()["transcripts"]
    assert victim not in {t["id"] for t in remaining}


def test_reports_can_be_added_updated_and_deleted(server, key):
    transcript_id = server.dataset.transcripts()[0]["id"]
    added = server.add_report(transcript_id, status="processing", is_auto_generated=False)
    assert added["content"] is None
    assert get(server, REPORTS, key).json()["items"][0]["id"] == added["id"]
    assert added["id"] in get(server, f"{TRANSCRIPTS}/{transcript_id}", key).json()["report_ids"]
    server.update_report(added["id"], status="completed", content="## Готово")
    assert get(server, f"{REPORTS}/{added['id']}", key).json()["content"] == "## Готово"
    server.delete_report(added["id"])
    assert get(server, f"{REPORTS}/{added['id']}", key).status_code == 404
    assert added["id"] not in get(server, f"{TRANSCRIPTS}/{transcript_id}", key).json()["report_ids"]


def test_given_a_generic_transcript_and_report_when_renamed_then_only_the_title_or_template_name_changes(server, key):
    """update_transcript(id, title=...) would change a generic text too: it is made from the title."""
    transcript = server.dataset.transcripts()[-1]["id"]
    report = server.dataset.transcript_detail(transcript)["report_ids"][0]
    before = {"t": server.dataset.transcript_detail(transcript), "r": server.dataset.report_detail(report)}

    server.rename_transcript(transcript, "Переименовано ✏️")
    server.retitle_report(report, "Протокол v2")

    assert get(server, f"{TRANSCRIPTS}/{transcript}", key).json() == {**before["t"], "title": "Переименовано ✏️"}
    assert get(server, f"{REPORTS}/{report}", key).json() == {**before["r"], "template_name": "Протокол v2"}
    assert get(server, TRANSCRIPTS, key).json()["items"][-1]["title"] == "Переименовано ✏️"
    assert next(r for r in all_pages(server, REPORTS, key) if r["id"] == report)["template_name"] == "Протокол v2"


def test_project_edits_bump_updated_at(server, key):
    project = server.add_project(name="Новый проект", created_at="2026-06-01T00:00:00Z")
    assert project["updated_at"] == project["created_at"] == "2026-06-01T00:00:00Z"
    renamed = server.update_project(project["id"], name="Renamed")
    assert renamed["updated_at"] > project["updated_at"]
    transcript_ids = [t["id"] for t in server.dataset.transcripts()[:2]]
    regrouped = server.set_project_transcripts(project["id"], transcript_ids)
    assert regrouped["updated_at"] > renamed["updated_at"]
    assert get(server, f"{PROJECTS}/{project['id']}", key).json() == regrouped
    assert [t["id"] for t in regrouped["transcripts"]] == transcript_ids
    server.delete_project(project["id"])
    assert get(server, f"{PROJECTS}/{project['id']}", key).status_code == 404


# ---- request records and life cycle ------------------------------------------------------------


def test_requests_are_recorded_with_key_labels_not_keys(server):
    key = server.add_key(label="sync")
    get(server, TRANSCRIPTS, key, page=2, page_size=3)
    get(server, TRANSCRIPTS, "tk_live_unknownKey")
    first, second = server.requests
    assert (first.method, first.path, first.query, first.key, first.status) == (
        "GET", TRANSCRIPTS, {"page": "2", "page_size": "3"}, "sync", 200)
    assert (second.key, second.status) == (None, 401)
    assert key not in repr(list(server.requests))
    assert server.count() == 2 and server.count(status=401) == 1 and server.count(path_prefix=REPORTS) == 0
    server.requests.clear()
    assert len(server.requests) == 0


def test_given_a_server_when_started_then_it_has_a_loopback_base_url_and_when_stopped_twice_then_nothing_answers():
    server = MeetlogServer()
    with pytest.raises(RuntimeError):
        server.base_url
    server.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
    server.stop()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}{TRANSCRIPTS}", timeout=1)


def test_the_command_line_serves_a_fixed_key():
    fixed = "tk_live_sampleConfigKey0123456789abcdef"
    command = [sys.executable, "-m", "integration_tests.meetlog_server", "--port", "0", "--key", fixed]
    with subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], stderr=subprocess.PIPE, text=True) as process:
        try:
            base_url = re.search(r"http://\S+", process.stderr.readline()).group(0)
            assert fixed in process.stderr.readline()
            response = requests.get(base_url + TRANSCRIPTS, headers={"Authorization": f"Bearer {fixed}"}, timeout=5)
            assert response.json()["meta"]["total"] == 7
        finally:
            process.terminate()
    assert process.returncode == 0  # SIGTERM stops it as cleanly as Ctrl-C
