"""The agent connector (source_meetlog/agent/connector.yaml) run by airbyte-agent-sdk's own
LocalExecutor against the local Meetlog API, and checked by the SDK's own readiness validation.

Needs the `agent` extra, which PyAirbyte's environment cannot hold (`make test-agent` runs this
module in .cache/agent-venv); elsewhere the module is skipped. Telemetry is off in every test.

- list, across all pages, equals the list endpoint; get equals the detail endpoint, field by field.
- a missing id (404), a missing scope (403) and a revoked key (401) fail at once, with the API's
  message and no retry.
- a server allowing 3 requests a second answers a burst with 429 + Retry-After: the calls are only
  slowed. The retry schedule the spec declares outlasts a full 60 s window (on a fake clock), and
  a strict xfail pins that SDK 0.1.380 does not read Retry-After (so it is noticed when it does).
- no key, nor any 8 characters of one, in results, exceptions, SDK logs, log files or output.
- `validate readiness`, offline: everything passes but the registry look-up; with the registry's
  two answers given from this repository (metadata.yaml, the source's spec and schemas): all pass.
- examples/agent_connector.py runs.
"""

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests
import yaml

pytest.importorskip("airbyte_agent_sdk", reason="needs the agent extra: make test-agent")

from airbyte_agent_sdk.executor import LocalExecutor  # noqa: E402
from airbyte_agent_sdk.http.exceptions import AuthenticationError, HTTPStatusError, RateLimitError  # noqa: E402
from airbyte_agent_sdk.http.response import HTTPResponse  # noqa: E402
from airbyte_agent_sdk.validation import readiness as sdk_readiness  # noqa: E402
from airbyte_agent_sdk.validation import cache as sdk_cache, replication as sdk_replication  # noqa: E402

from integration_tests.meetlog_server import build_dataset  # noqa: E402
from integration_tests.secrets_scan import assert_no_key_fragment  # noqa: E402
from source_meetlog import SourceMeetlog  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# As a user of the installed package finds it.
CONNECTOR_YAML = Path(str(resources.files("source_meetlog") / "agent" / "connector.yaml"))
VALIDATION_DIR = Path(__file__).parent / "agent_connector"  # connector.yaml (a link to the above) + tests/cassettes
ENTITIES = ("transcripts", "reports", "projects")
CALL_TIMEOUT = 30.0  # seconds for any one test's SDK calls: a hang fails, it does not stall the suite
REGISTRY_ERROR = "No replication connector found in Airbyte registry"


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch):
    """The SDK sends usage telemetry unless AIRBYTE_TELEMETRY_MODE=disabled (read per executor)."""
    monkeypatch.setenv("AIRBYTE_TELEMETRY_MODE", "disabled")


def executor(server, key: str, **options) -> LocalExecutor:
    return LocalExecutor(config_path=str(CONNECTOR_YAML), auth_config={"api_key": key},
                         config_values={"base_url": server.base_url}, **options)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, CALL_TIMEOUT))


async def list_all(agent: LocalExecutor, entity: str, page_size: int) -> List[dict]:
    """What an agent does to read everything: pages 1 to meta.total_pages."""
    records, page = [], 1
    while True:
        result = await agent.execute(entity, "list", params={"page": page, "page_size": page_size})
        assert result.success, result.error
        records += result.data
        if page >= result.meta["total_pages"]:
            return records
        page += 1


def api_get(server, key: str, path: str, **params) -> Any:
    answer = requests.get(server.base_url + path, params=params, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def served_list(server, key: str, entity: str, page_size: int) -> List[dict]:
    items, page = [], 1
    while True:
        body = api_get(server, key, f"/api/v1/export/{entity}", page=page, page_size=page_size)
        items += body["items"]
        if page >= body["meta"]["total_pages"]:
            return items
        page += 1


# ---------------------------------------------------------------------------- list and get


@pytest.mark.parametrize("page_size", [2, 100])
def test_given_each_entity_when_listed_across_all_pages_then_it_equals_the_list_endpoint(server, page_size):
    """page_size 2: 7 transcripts on 4 pages, 11 reports on 6, 3 projects on 2; 100: one page each."""
    key = server.add_key()

    async def read_all():
        agent = executor(server, key)
        try:
            return {entity: await list_all(agent, entity, page_size) for entity in ENTITIES}
        finally:
            await agent.close()

    listed = run(read_all())

    for entity in ENTITIES:
        served = served_list(server, key, entity, page_size)
        assert listed[entity] == served, entity
        assert len(served) == len(build_dataset().list_items(entity))
        pages = [r.query for r in server.requests if r.path == f"/api/v1/export/{entity}" and r.key == server.key_label(key)]
        expected_pages = -(-len(served) // page_size)
        assert pages[:expected_pages] == [{"page": str(p), "page_size": str(page_size)} for p in range(1, expected_pages + 1)]


def test_given_each_record_when_got_then_it_equals_the_detail_endpoint_field_by_field(server):
    key = server.add_key()
    ids = {entity: [item["id"] for item in build_dataset().list_items(entity)] for entity in ENTITIES}

    async def get_all():
        agent = executor(server, key)
        try:
            return {(entity, id): (await agent.execute(entity, "get", params={"id": id})).data
                    for entity in ENTITIES for id in ids[entity]}
        finally:
            await agent.close()

    got = run(get_all())

    nulls = 0
    for (entity, id), record in got.items():
        served = api_get(server, key, f"/api/v1/export/{entity}/{id}")
        assert list(record) == list(served), (entity, id)
        for field, value in served.items():
            assert record[field] == value and type(record[field]) is type(value), (entity, id, field)
            nulls += value is None
    assert nulls > 0  # the data set serves nulls, and they come through as None


def test_given_no_base_url_then_the_spec_points_at_meetlog_ru():
    agent = LocalExecutor(config_path=str(CONNECTOR_YAML), auth_config={"api_key": "tk_live_notUsedNoRequest"})
    assert agent.http_client.base_url == "https://meetlog.ru"


# ---------------------------------------------------------------------------- errors


def _failure(server, key: str, entity: str, action: str, params: Dict[str, Any]) -> Exception:
    async def call():
        agent = executor(server, key)
        try:
            await agent.execute(entity, action, params=params)
        finally:
            await agent.close()

    with pytest.raises(HTTPStatusError) as raised:
        run(call())
    return raised.value


def test_given_a_missing_id_when_got_then_it_fails_at_once_with_not_found(server):
    key = server.add_key()
    error = _failure(server, key, "transcripts", "get", {"id": "00000000-0000-0000-0000-000000000000"})

    assert error.status_code == 404 and "Transcript not found" in str(error)
    assert server.count("/api/v1/export/transcripts/", status=404) == 1  # not retried


def test_given_a_key_without_the_scope_when_listed_then_it_fails_at_once_with_forbidden(server):
    key = server.add_key(scopes=("export:transcripts",))
    error = _failure(server, key, "reports", "list", {})

    assert isinstance(error, AuthenticationError) and error.status_code == 403
    assert "Missing scope export:reports" in str(error)
    assert server.count("/api/v1/export/reports", status=403) == 1


def test_given_a_revoked_key_when_listed_then_it_fails_at_once_with_unauthorized(server):
    key = server.add_key()
    server.revoke_key(key)
    error = _failure(server, key, "projects", "list", {})

    assert isinstance(error, AuthenticationError) and error.status_code == 401
    assert "API key has been revoked" in str(error)
    assert server.count("/api/v1/export/projects", status=401) == 1


# ---------------------------------------------------------------------------- rate limit


def test_given_a_server_allowing_3_requests_a_second_when_a_burst_comes_then_429s_only_slow_it(start_server):
    """6 gets at once, then every list page: the first 3 pass, the rest get 429 + Retry-After: 1 and
    are retried 1 s later (then 2 s, 4 s… if refused again), until all succeed."""
    server = start_server(requests_per_window=3, window_seconds=1.0)
    key = server.add_key()
    ids = [item["id"] for item in build_dataset().list_items("reports")][:6]

    async def burst():
        agent = executor(server, key)
        try:
            got = await asyncio.gather(*(agent.execute("reports", "get", params={"id": id}) for id in ids))
            listed = await list_all(agent, "transcripts", 4)
            return got, listed, agent.http_client.metrics.retry_count
        finally:
            await agent.close()

    started = time.monotonic()
    got, listed, retries = run(burst())
    elapsed = time.monotonic() - started

    assert [result.data["id"] for result in got] == ids and all(result.success for result in got)
    assert [t["id"] for t in listed] == [t["id"] for t in build_dataset().list_items("transcripts")]
    assert server.count(status=429) > 0 and retries == server.count(status=429)
    assert elapsed < 15


class _FakeApi:
    """An HTTPClientProtocol answering 429 with Retry-After `n` times, then a page: the SDK's retry
    loop exercised without a network or a clock."""

    def __init__(self, refusals: int, retry_after: str):
        self.refusals, self.retry_after, self.calls = refusals, retry_after, 0

    async def request(self, method, url, **kwargs):
        self.calls += 1
        if self.calls <= self.refusals:
            response = HTTPResponse(status_code=429, headers={"Retry-After": self.retry_after}, content=b"{}")
            raise RateLimitError("Rate limit exceeded", retry_after=int(self.retry_after), response=response)
        body = json.dumps({"items": [], "meta": {"page": 1, "page_size": 50, "total": 0, "total_pages": 0}}).encode()
        return HTTPResponse(status_code=200, headers={"content-type": "application/json"}, content=body)

    async def aclose(self):
        pass


def _sleeps(monkeypatch, refusals: int, retry_after: str = "60"):
    slept: List[float] = []

    async def fake_sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr("airbyte_agent_sdk.http_client.asyncio.sleep", fake_sleep)
    agent = LocalExecutor(config_path=str(CONNECTOR_YAML), auth_config={"api_key": "tk_live_fakeClientNoNetwork"},
                          client=_FakeApi(refusals, retry_after))
    try:
        return slept, run(agent.execute("transcripts", "list", params={}))
    except RateLimitError as error:
        return slept, error


def test_given_the_specs_retry_schedule_then_seven_retries_outlast_a_full_60_second_window(monkeypatch):
    slept, result = _sleeps(monkeypatch, refusals=7)

    assert result.success
    assert slept == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0] and sum(slept) >= 60


def test_given_eight_refusals_then_the_call_fails_with_rate_limit_instead_of_waiting_forever(monkeypatch):
    slept, error = _sleeps(monkeypatch, refusals=8)

    assert isinstance(error, RateLimitError) and len(slept) == 7


@pytest.mark.xfail(strict=True, reason="airbyte-agent-sdk 0.1.380 looks for a 429's headers on the exception "
                                       "(http_client.py: getattr(e, 'headers')), which RateLimitError lacks, so "
                                       "Retry-After is not read and the spec's backoff applies. When this passes, "
                                       "drop the xfail and the workaround note in connector.yaml and docs/meetlog.md.")
def test_given_a_429_with_retry_after_5_then_the_sdk_waits_5_seconds(monkeypatch):
    slept, _ = _sleeps(monkeypatch, refusals=1, retry_after="5")
    assert slept == [5.0]


# ---------------------------------------------------------------------------- keys


def test_given_calls_that_succeed_and_fail_then_no_key_fragment_appears_in_anything_the_sdk_returns_or_logs(
        start_server, tmp_path, caplog, capfd):
    server = start_server(requests_per_window=2, window_seconds=1.0)
    good, narrow, revoked = server.add_key(), server.add_key(scopes=("export:transcripts",)), server.add_key()
    server.revoke_key(revoked)
    seen: List[str] = []

    async def calls():
        for number, (key, entity, action, params) in enumerate([
            (good, "transcripts", "list", {"page_size": 2}),
            (good, "transcripts", "get", {"id": build_dataset().list_items("transcripts")[0]["id"]}),
            (good, "reports", "list", {}),  # the window's 3rd request: 429, then retried
            (good, "reports", "get", {"id": "missing"}),
            (narrow, "projects", "list", {}),
            (revoked, "projects", "get", {"id": "any"}),
        ]):
            agent = executor(server, key, enable_logging=True, log_file=str(tmp_path / f"sdk_requests_{number}.json"))
            try:
                result = await agent.execute(entity, action, params=params)
                seen.append(repr(result))
            except Exception as error:  # every failure, as a caller or an agent framework would show it
                seen.extend([repr(error), str(error), repr(getattr(error, "response", None))])
            finally:
                seen.append(agent.logger.session.model_dump_json())  # the request log the SDK keeps
                await agent.close()

    with caplog.at_level(logging.DEBUG):
        run(calls())
    output = capfd.readouterr()

    assert server.count(status=429) > 0 and server.count(status=401) == 1 and server.count(status=403) == 1
    log_files = sorted(tmp_path.glob("sdk_requests_*.json"))
    assert len(log_files) == 6
    text = "\n".join(seen + [caplog.text, output.out, output.err] + [f.read_text() for f in log_files])
    assert "transcripts" in text  # the scan reads real output
    assert_no_key_fragment(text, good, narrow, revoked)


def test_the_recorded_cassettes_name_the_key_by_reference_only():
    for cassette in (VALIDATION_DIR / "tests" / "cassettes").glob("*.yaml"):
        recorded = yaml.safe_load(cassette.read_text())
        assert recorded["auth_config"] == {"api_key": "${MEETLOG_API_KEY}"}, cassette.name
        assert "tk_live_" not in cassette.read_text(), cassette.name


# ---------------------------------------------------------------------------- the SDK's validation


def _offline_env() -> Dict[str, str]:
    """Requests to anywhere but 127.0.0.1 go to a closed port on 127.0.0.1 (httpx honours the proxy
    variables): offline, and nothing leaves the machine."""
    closed = "http://127.0.0.1:9"
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy", "http_proxy", "https_proxy")}
    return {**env, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "NO_PROXY": "127.0.0.1,localhost",
            "AIRBYTE_TELEMETRY_MODE": "disabled"}


def test_given_no_network_when_the_sdks_readiness_validation_runs_then_only_the_registry_lookup_fails():
    finished = subprocess.run(
        [sys.executable, "-m", "airbyte_agent_sdk.cli", "validate", "readiness", str(VALIDATION_DIR), "--json-output"],
        capture_output=True, text=True, timeout=120, env=_offline_env(), cwd=ROOT,
    )
    report = json.loads(finished.stdout[finished.stdout.index("{"):])

    assert report["summary"] == {
        "total_operations": 6, "operations_with_cassettes": 6, "operations_missing_cassettes": 0,
        "total_cassettes": 6, "cassettes_valid": 6, "cassettes_invalid": 0,
        "total_warnings": report["summary"]["total_warnings"], "total_errors": 1,
    }
    assert all(not v["errors"] and not v["warnings"] for op in report["validation_results"] for v in op["schema_validation"])
    replication = report["replication_validation"]
    assert replication["registry_found"] is False and [c["status"] for c in replication["checks"]] == ["skip"]
    assert [e for e in replication["errors"]] == [REGISTRY_ERROR + ". All agent connectors must have a corresponding replication connector."]
    assert "skipping cache validation" in report["cache_validation"]["warnings"][0]
    assert report["readiness_errors"] == [] and report["success"] is False


def _registry_entry() -> Dict[str, Any]:
    """What Airbyte's registry would hold for this source once published: metadata.yaml's id and
    version, and the spec the source itself reports."""
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
    spec = SourceMeetlog().spec(logging.getLogger("airbyte")).connectionSpecification
    return {"sourceDefinitionId": metadata["definitionId"], "dockerImageTag": metadata["dockerImageTag"],
            "spec": {"connectionSpecification": spec}}


def _resolved_manifest() -> Dict[str, Any]:
    """manifest.yaml as the SDK would download it, with each stream's schema inline (the SDK reads
    inline schemas only; ours are files, here as the source discovers them)."""
    manifest = yaml.safe_load((ROOT / "source_meetlog" / "manifest.yaml").read_text())
    config = {"api_key": "tk_live_discoverOnlyNoRequest"}
    catalog = SourceMeetlog(config=config).discover(logging.getLogger("airbyte"), config)
    streams = [{"name": s.name, "schema_loader": {"type": "InlineSchemaLoader", "schema": s.json_schema}}
               for s in catalog.streams]
    return {"definitions": manifest["definitions"], "streams": streams}


def test_given_the_registrys_answers_from_this_repository_when_readiness_runs_then_every_check_passes(monkeypatch):
    """The narrow stand-in for the two downloads offline validation cannot make; every other check is
    the SDK's own, unchanged."""
    monkeypatch.setattr(sdk_replication, "fetch_airbyte_registry_metadata", lambda name: _registry_entry() if name == "meetlog" else None)
    monkeypatch.setattr(sdk_replication, "fetch_airbyte_manifest", lambda name: _resolved_manifest())
    monkeypatch.setattr(sdk_cache, "fetch_manifest_resolved", lambda name: _resolved_manifest())

    report = sdk_readiness.validate_connector_readiness(VALIDATION_DIR)

    checks = {c["name"]: c["status"] for c in report["replication_validation"]["checks"]}
    assert report["success"] is True and report["summary"]["total_errors"] == 0
    # The one check that cannot conclude: the SDK finds a manifest's authenticator under
    # definitions.base_requester or .retriever; ours is a CustomAuthenticator (the key pool) under
    # definitions.requester, so it reports "could not determine" (a warning), as it would online.
    assert checks.pop("auth_methods") == "warn"
    assert "Could not determine Airbyte auth types" in report["replication_validation"]["warnings"][0]
    assert set(checks.values()) == {"pass"}, checks
    assert {"connector_definition_id", "auth_key_mapping", "config_key_mapping", "environment_mapping",
            "suggested_streams_coverage", "required_config_fields", "auth_properties_mapped"} <= set(checks)
    assert report["cache_validation"]["entities_checked"] == 3 and not report["cache_validation"]["errors"]


def test_the_spec_maps_onto_this_source():
    spec = yaml.safe_load(CONNECTOR_YAML.read_text())
    registry = _registry_entry()
    source_spec = registry["spec"]["connectionSpecification"]["properties"]
    auth = spec["components"]["securitySchemes"]["bearerAuth"]["x-airbyte-auth-config"]

    assert spec["info"]["x-airbyte-connector-definition-id"] == registry["sourceDefinitionId"]
    assert spec["info"]["x-airbyte-replication-version"] == registry["dockerImageTag"]
    assert set(auth["replication_auth_key_mapping"].values()) <= set(source_spec)
    assert set(spec["info"]["x-airbyte-replication-config"]["replication_config_key_mapping"].values()) <= set(source_spec)
    server = spec["servers"][0]
    assert server["variables"]["base_url"]["default"] == source_spec["base_url"]["default"]
    assert set(server["x-airbyte-replication-environment-mapping"].values()) <= set(source_spec)
    stream_names = {s["name"] for s in _resolved_manifest()["streams"]}
    assert {spec["components"]["schemas"][n]["x-airbyte-stream-name"] for n in ("Transcript", "Report", "Project")} <= stream_names


# ---------------------------------------------------------------------------- the example


def test_the_example_lists_recent_transcripts_and_gets_one_from_a_local_api():
    finished = subprocess.run([sys.executable, "examples/agent_connector.py", "--local"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, env=_offline_env())

    assert finished.returncode == 0, finished.stderr[-3000:]
    newest = build_dataset().list_items("transcripts")[0]
    assert newest["title"] in finished.stdout and "Got transcript" in finished.stdout
