"""Hostile configs: whatever a user (or a broken UI) puts in the config, the connector answers with
a clear config error or a success, never a traceback, never a hang, never a key in its answer.

Property-based (hypothesis): wrong types, empty and huge values, unicode, keys with the wrong
prefix, base URLs with credentials, paths, queries or odd schemes, negative and huge numbers,
and things that are not a config object at all, fed to

- the spec's JSON schema, as the CDK's entrypoint validates a config before check, discover, read;
- parse_config, the connector's own checks;
- SourceMeetlog(config).check(), against the local Meetlog API, a closed port, or (for any other
  host) a network that refuses every connection: nothing leaves the machine;
- the whole entrypoint's check (schema validation, then the connector's check).

The console script (`source-meetlog discover`) runs on a handful of configs only, as subprocesses
are slow; a read runs after a few configs that check accepts, with edge values.

Reproduce: `.venv/bin/pytest integration_tests/test_config_fuzz.py -k <name>` (hypothesis prints the
failing example; add `--hypothesis-seed=<n>` to replay a run).
"""

import json
import logging
import re
import string
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, List, Optional
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import FailureType, Status, SyncMode, Type
from airbyte_cdk.sources.utils.schema_helpers import check_config_against_spec_or_exit
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from integration_tests.harness import run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.secrets_scan import key_fragments
from source_meetlog import SourceMeetlog
from source_meetlog.core.config import ConfigError, MeetlogConfig, parse_config

CONSOLE_SCRIPT = Path(sys.executable).parent / "source-meetlog"
SUBPROCESS_TIMEOUT = 120
CHECK_TIME_LIMIT_SECONDS = 30.0
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The entrypoint's check repeats the spec validation and the connector's check tested 150 times
# above; 50 examples cover their combination at a third of the cost (each builds the source).
FUZZ_ENTRYPOINT = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Placeholders the strategies draw; each test swaps them for the live server's values.
LIVE_KEY, REVOKED_KEY, SERVER_URL, CLOSED_URL = "<<live-key>>", "<<revoked-key>>", "<<server>>", "<<closed>>"
KEY_BODY = string.ascii_letters + string.digits + "_-"


# ------------------------------------------------------------------------------ strategies

key_bodies = st.text(alphabet=KEY_BODY, min_size=1, max_size=48)
well_formed_keys = key_bodies.map(lambda body: "tk_live_" + body)
wrong_prefix_keys = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["tk_test_", "TK_LIVE_", "sk_live_", "tk-live-", "Bearer tk_live_", "tk_live", "", "tk_liv_"]),
    key_bodies,
)
single_keys = st.one_of(
    st.sampled_from([LIVE_KEY, REVOKED_KEY]),
    well_formed_keys,
    wrong_prefix_keys,
    st.text(max_size=64),  # any unicode, control characters, emoji, spaces
    st.builds(lambda n: "tk_live_" + "A" * n, st.integers(min_value=1_000, max_value=5_000)),  # huge
)
api_keys = st.one_of(
    single_keys,
    st.lists(single_keys, min_size=1, max_size=4).map(",".join),
    st.lists(single_keys, min_size=1, max_size=4).map(" , ".join),
    st.sampled_from(["", " ", ",", " , ", "tk_live_", "tk_live_a,,tk_live_b", "tk_live_a,tk_live_a", "\u200b"]),
    st.none(), st.booleans(), st.integers(), st.floats(),
    st.lists(well_formed_keys, max_size=3),
    st.dictionaries(st.text(max_size=5), well_formed_keys, max_size=2),
)
hosts = st.sampled_from([
    "meetlog.ru", "127.0.0.1", "localhost", "[::1]", "10.0.0.1", "0.0.0.0", "меетлог.рф", "xn--e1afmkfd.xn--p1ai",
    "exa mple.com", "", "127.0.0.1.nip.io", "localhost.evil.example", "[::ffff:127.0.0.1]", "[fe80::1%25eth0]",
])
ports = st.sampled_from(["", ":0", ":1", ":443", ":65535", ":65536", ":99999", ":-1", ":abc", ":"])
paths = st.sampled_from(["", "/", "/api", "/../../etc/passwd", "/путь", "/%00", "/a?b=c", "/#x", "//double", "/ "])
built_urls = st.builds(
    lambda scheme, userinfo, host, port, path: f"{scheme}{userinfo}{host}{port}{path}",
    st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "file://", "ws://", "//", "", "https:/", "javascript:"]),
    st.sampled_from(["", "user@", "user:pass@", f"user:{LIVE_KEY}@", ":@"]),
    hosts, ports, paths,
)
base_urls = st.one_of(
    st.sampled_from([SERVER_URL, CLOSED_URL, SERVER_URL + "/", SERVER_URL + "/not-the-api", " " + SERVER_URL + " "]),
    built_urls,
    st.sampled_from(["data:text/plain,hi", "javascript:alert(1)", "file:///etc/passwd", "https://meetlog.ru\n.evil",
                     "https://meetlog.ru\x00", "https://[::1", "http://[::1]:99999", "mailto:a@b.c", "https://?", "https://#"]),
    st.text(max_size=80),
    st.none(), st.just(""), st.integers(), st.floats(), st.booleans(), st.lists(st.text(max_size=5), max_size=2),
)
start_dates = st.one_of(
    st.none(), st.just(""),
    st.datetimes().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-01-01", "0001-01-01", "9999-12-31T23:59:59Z", "2026-13-01", "2026-02-30", "yesterday",
                     "P1D", "12:00", "2026-05-08T12:00:00+14:00", "２０２６-01-01", "2026-01-01T00:00:00Z\n", "-1"]),
    st.text(max_size=40), st.integers(), st.floats(), st.booleans(),
)
numbers = st.one_of(
    st.none(), st.integers(), st.sampled_from([0, 1, -1, 60, 10**30, -(10**30), 2**63, 2**64 + 1]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=8), st.just("60"),
    st.lists(st.integers(), max_size=2),
)
config_objects = st.fixed_dictionaries(
    {},
    optional={
        "api_key": api_keys,
        "base_url": base_urls,
        "start_date": start_dates,
        "requests_per_minute": numbers,
        "lookback_window_days": numbers,
        "reconcile_deletions": st.one_of(st.booleans(), st.none(), st.text(max_size=5), st.integers()),
        "unexpected_field": st.one_of(st.text(max_size=20), st.integers(), st.none()),
    },
)
configs = st.one_of(
    config_objects,
    config_objects,  # twice the weight of the odd shapes below
    st.none(), st.text(max_size=20), st.integers(), st.lists(st.text(max_size=5), max_size=3),
)


# ------------------------------------------------------------------------------ the live server and the sealed network


class Live:
    def __init__(self, server: MeetlogServer, closed_port: int):
        self.server = server
        self.key = server.add_key(label="live")
        self.revoked = server.add_key(label="revoked")
        server.revoke_key(self.revoked)
        self.closed_url = f"http://127.0.0.1:{closed_port}"

    def materialise(self, value: Any) -> Any:
        """The drawn config with placeholders swapped for this server's values."""
        if isinstance(value, str):
            return (value.replace(LIVE_KEY, self.key).replace(REVOKED_KEY, self.revoked)
                    .replace(SERVER_URL, self.server.base_url).replace(CLOSED_URL, self.closed_url))
        if isinstance(value, dict):
            return {k: self.materialise(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.materialise(v) for v in value]
        return value


@pytest.fixture(scope="module", autouse=True)
def yaml_parsed_once():
    """Each SourceMeetlog() parses the CDK's 2,000-line component schema and the manifest again
    (~0.3 s); the fuzz builds hundreds. Parse them once: same input, same source. The schema is only
    read (validation), so it is shared; the manifest is edited while the source is built, so each
    source gets its own copy."""
    import copy
    import functools

    from airbyte_cdk.sources.declarative import concurrent_declarative_source
    from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

    schema = functools.lru_cache(maxsize=1)(concurrent_declarative_source.get_declarative_component_schema)
    read_manifest = YamlDeclarativeSource._read_and_parse_yaml_file
    manifests = {}

    def manifest(self, path):
        if path not in manifests:
            manifests[path] = read_manifest(self, path)
        return copy.deepcopy(manifests[path])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(concurrent_declarative_source, "get_declarative_component_schema", schema)
        patch.setattr(YamlDeclarativeSource, "_read_and_parse_yaml_file", manifest)
        yield


@pytest.fixture(scope="module", autouse=True)
def forget_fuzzed_secrets():
    """Every drawn api_key is registered as a secret (even "e"); later modules must not mask their prose."""
    yield
    update_secrets([])


@pytest.fixture(scope="module")
def live():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        yield Live(server, closed_port)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_real_adapter_send = requests.adapters.HTTPAdapter.send


def _sealed_send(adapter, request, *args, **kwargs):
    """Loopback only: anything else fails as an unreachable network would, without leaving the machine."""
    if (urlsplit(request.url).hostname or "") not in LOOPBACK:
        raise requests.ConnectionError("network sealed by the test: only loopback is reachable")
    return _real_adapter_send(adapter, request, *args, **kwargs)


def sealed_network():
    return mock.patch.object(requests.adapters.HTTPAdapter, "send", _sealed_send)


def keys_in(config: Any) -> List[str]:
    """Every string in the config that could be a key: the parts of api_key and any userinfo in base_url."""
    found: List[str] = []
    if isinstance(config, dict):
        value = config.get("api_key")
        values = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        for item in values:
            if isinstance(item, str):
                found += [part.strip() for part in item.split(",")]
        base_url = config.get("base_url")
        if isinstance(base_url, str) and "tk_live_" in base_url:
            found.append("tk_live_" + base_url.split("tk_live_", 1)[1].split("@", 1)[0])
    # The tk_live_ prefix is public (messages name it), and only a secret part of 8+ characters can
    # leak as a fragment: shorter ones cannot be told from prose.
    secrets = ["tk_live_" + key.rsplit("tk_live_", 1)[1] if "tk_live_" in key else key for key in found]
    return [key for key in secrets if key_fragments(key)]


def assert_names_no_key(text: str, config: Any) -> None:
    for key in keys_in(config):
        leaked = [fragment for fragment in key_fragments(key) if fragment in text]
        assert not leaked, f"a fragment of a configured key shows in: {text[:300]!r}"


def assert_clear(message: Optional[str]) -> None:
    assert message and message.strip(), "an empty message"
    assert "Traceback" not in message and "Something went wrong in the connector" not in message, message


def in_thread_with_limit(function, seconds: float = CHECK_TIME_LIMIT_SECONDS):
    """Runs `function`, failing the test if it has not returned within `seconds` (a hang)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"no answer within {seconds:.0f} s: a hang"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


SPEC = SourceMeetlog().spec(logging.getLogger("test"))


# ------------------------------------------------------------------------------ properties


@FUZZ
@given(raw=configs)
def test_any_config_against_the_spec_is_accepted_or_refused_with_a_config_error(raw):
    try:
        check_config_against_spec_or_exit(raw, SPEC)
    except AirbyteTracedException as error:
        assert error.failure_type == FailureType.config_error
        assert_clear(error.message)


@FUZZ
@given(raw=configs)
def test_any_config_parses_to_a_config_or_a_config_error_that_names_the_field_and_no_key(raw):
    try:
        parsed = parse_config(raw)
    except ConfigError as error:
        assert error.failure_type == FailureType.config_error
        assert error.message.startswith("Config error in '") and error.field in error.message
        assert_names_no_key(error.message, raw)
        return
    assert isinstance(parsed, MeetlogConfig)
    assert parsed.api_keys and all(key.startswith("tk_live_") for key in parsed.api_keys)
    assert urlsplit(parsed.base_url).scheme in ("https", "http")
    assert parsed.requests_per_minute >= 1 and parsed.lookback_window_days >= 0


@pytest.mark.slow  # ~5-9 s: a check against the local API for each drawn config
@FUZZ
@given(drawn=configs)
def test_any_config_checked_gives_a_status_with_a_clear_message_never_a_traceback_a_hang_or_a_key(live, drawn):
    raw = live.materialise(drawn)

    def check():
        with sealed_network():
            return SourceMeetlog(config=raw).check(logging.getLogger("test"), raw)

    try:
        status = in_thread_with_limit(check)
    except AirbyteTracedException as error:  # allowed only as a config error
        assert error.failure_type == FailureType.config_error
        assert_clear(error.message)
        assert_names_no_key(error.message, raw)
        return
    assert status.status in (Status.SUCCEEDED, Status.FAILED)
    if status.status == Status.FAILED:
        assert_clear(status.message)
    assert_names_no_key(status.message or "", raw)


@FUZZ_ENTRYPOINT
@given(drawn=config_objects)
def test_any_config_checked_through_the_entrypoint_gives_one_connection_status_and_no_key(live, drawn):
    """What the platform runs: the CDK validates against the spec, then calls the connector's check."""
    raw = live.materialise(drawn)

    def check():
        with sealed_network():
            source = SourceMeetlog(config=raw)
            return list(AirbyteEntrypoint(source).check(SPEC, raw))

    try:
        messages = in_thread_with_limit(check)
    except AirbyteTracedException as error:
        assert error.failure_type == FailureType.config_error, error.message
        assert_clear(error.message)
        return
    statuses = [m.connectionStatus for m in messages if m.type == Type.CONNECTION_STATUS]
    assert len(statuses) == 1
    if statuses[0].status == Status.FAILED:
        assert_clear(statuses[0].message)
    assert_names_no_key(json.dumps([m.connectionStatus.message for m in messages if m.connectionStatus]), raw)


# ------------------------------------------------------------------------------ configs check accepts, then read with edge values


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"requests_per_minute": 10**30}, id="requests_per_minute_1e30"),
        pytest.param({"start_date": "9999-12-31T23:59:59Z"}, id="start_date_9999"),
        pytest.param({"start_date": "2026-05-08T12:00:00+14:00"}, id="start_date_offset_+14"),
        pytest.param({"lookback_window_days": 3650}, id="lookback_10_years"),
        pytest.param({"lookback_window_days": 10**6}, id="lookback_1e6_days"),
        pytest.param({"lookback_window_days": 10**30}, id="lookback_1e30_days"),
        pytest.param({"start_date": "0001-01-01"}, id="start_date_year_1"),
    ],
)
def test_given_a_config_check_accepts_when_read_then_records_or_a_config_error_never_a_system_error(live, extra):
    """Incrementally, where start_date, lookback and cursor all take part (a full refresh fails alike)."""
    config = {"api_key": live.key, "base_url": live.server.base_url, **extra}
    status = SourceMeetlog(config=config).check(logging.getLogger("test"), config)
    if status.status == Status.FAILED:  # refusing the value up front is a fine outcome too
        assert status.message.startswith("Config error in ")
        return

    sync = run_sync(live.server, config, streams=("transcripts",), mode=SyncMode.incremental)

    errors = [m.trace.error for m in sync.output.errors]
    assert all(e.failure_type == FailureType.config_error for e in errors), [e.message for e in errors]
    for error in errors:
        assert_clear(error.message)


# ------------------------------------------------------------------------------ the console script on a handful of configs

CONSOLE_CONFIGS = {
    "key_as_a_list": json.dumps({"api_key": ["tk_live_" + "L1stTyp3dK3yV4lu3Xx9"]}),
    "ftp_base_url_negative_rate": json.dumps({"api_key": "tk_live_" + "Ft9SchemeK3yQq", "base_url": "ftp://meetlog.ru",
                                              "requests_per_minute": -5}),
    "huge_lookback": json.dumps({"api_key": "tk_live_" + "L00kb4ckK3yJj", "lookback_window_days": 10**30}),
    "blank_key": json.dumps({"api_key": " "}),
    "not_json": '{"api_key": "tk_live_' + "Br0kenJs0nK3yZz" + '",',
}
KEYS_IN_CONSOLE_CONFIGS = ["tk_live_L1stTyp3dK3yV4lu3Xx9", "tk_live_Ft9SchemeK3yQq", "tk_live_Br0kenJs0nK3yZz",
                           "tk_live_L00kb4ckK3yJj"]


@pytest.fixture(scope="module")
def console_discover(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz_console")

    def discover(name: str, text: str):
        path = workdir / f"{name}.json"
        path.write_text(text)
        return subprocess.run([str(CONSOLE_SCRIPT), "discover", "--config", str(path)], capture_output=True,
                              text=True, timeout=SUBPROCESS_TIMEOUT, cwd=workdir)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(discover, name, text) for name, text in CONSOLE_CONFIGS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONSOLE_CONFIGS))
def test_given_a_hostile_config_when_discover_runs_then_a_catalog_or_one_readable_config_error_and_no_traceback(
    console_discover, name
):
    completed = console_discover[name]
    output = completed.stdout + completed.stderr
    traces = [json.loads(line)["trace"]["error"] for line in completed.stdout.splitlines()
              if line.startswith('{"type":"TRACE"')]

    assert "Traceback" not in output, (completed.stderr or completed.stdout)[-600:]
    if '"type":"CATALOG"' in completed.stdout:
        assert completed.returncode == 0 and traces == []
    else:
        assert completed.returncode == 1
        assert len(traces) == 1 and traces[0]["failure_type"] == "config_error", completed.stdout[-600:]
        message = traces[0]["message"]
        assert "Config error in '" in message or "Config validation error" in message, message
        assert not re.search(r"\w\*\*\*\*|\*\*\*\*\w", message), f"prose masked as a secret: {message}"
    assert not [f for key in KEYS_IN_CONSOLE_CONFIGS for f in key_fragments(key) if f in output]
