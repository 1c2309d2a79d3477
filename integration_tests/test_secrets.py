"""No trace of an API key in anything the connector writes, and keys travel only where they must.

Every command (spec, check, discover, read, also with --debug) runs through many scenarios,
errors included, with several keys at once: a good one, one revoked, one well-formed but never
issued. Everything it writes (stdout, stderr, the state it leaves) is scanned for any run of 8
characters of a key's secret part (integration_tests/secrets_scan.py). A key must travel only in
the Authorization header of requests to base_url, over https outside loopback, with certificates
verified.

Reproduce: `.venv/bin/pytest integration_tests/test_secrets.py -k <name>`.
"""

import json
import logging
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import pytest
import requests

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalogSerializer,
    Status,
    SyncMode,
)
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from integration_tests.harness import STREAMS, Sync, config_for, run_sync
from integration_tests.meetlog_server import MeetlogServer, build_dataset, faults
from integration_tests.meetlog_server.responses import ApiError, html_response
from integration_tests.secrets_scan import key_fragments
from source_meetlog import SourceMeetlog
from source_meetlog.core.config import ConfigError, parse_config

REPO_ROOT = Path(__file__).resolve().parent.parent
CONSOLE_SCRIPT = Path(sys.executable).parent / "source-meetlog"
SUBPROCESS_TIMEOUT = 120
EXPORT = "/api/v1/export/"
# Well-formed, never issued by the server: a typo'd or foreign key.
GARBAGE_KEY = "tk_live_" + "Qm7xR2vK9pLw4ZtN8sYb3HcJ6fDg1EaU"


def where_leaked(text: str, keys: Sequence[str]) -> str:
    """The first leak with some context, for a failure message, every trace of every key blanked out."""
    for key in keys:
        for fragment in sorted(key_fragments(key)):
            at = text.find(fragment)
            if at >= 0:
                return _redacted(text[max(0, at - 240) : at + 80], keys)
    return ""


def _redacted(text: str, keys: Sequence[str]) -> str:
    for position, key in enumerate(keys, start=1):
        text = text.replace(key, f"<KEY #{position}>")
        for fragment in key_fragments(key):
            text = text.replace(fragment, f"<KEY #{position} FRAGMENT>")
    return text


def assert_no_leak(text: str, keys: Sequence[str]) -> None:
    leaked = where_leaked(text, keys)
    assert not leaked, f"a key fragment leaked, here: …{leaked}…"


def state_text(sync: Sync) -> str:
    return json.dumps([AirbyteStateMessageSerializer.dump(m) for m in sync.state])


class EchoingProxy:
    """Wraps the server's API so that chosen answers quote the request's Authorization header back,
    as a misconfigured proxy or WAF does in its error pages."""

    def __init__(self, server: MeetlogServer, rules: Dict[str, Tuple[int, str]], cut: Optional[int] = None,
                 in_error_code: bool = False, only_for: Optional[str] = None):
        self.rules = rules  # path prefix -> (status, "json" | "html")
        self.cut = cut  # the header quoted only up to this many characters, as a page cut short quotes it
        self.in_error_code = in_error_code  # quoted in error_code rather than error_message
        self.only_for = only_for  # a key whose requests alone are answered so; others reach the server
        self.real_respond = server.api.respond
        server.api.respond = self.respond

    def respond(self, method, path, query, authorization):
        for prefix, (status, kind) in self.rules.items():
            if path.startswith(prefix) and (self.only_for is None or authorization == f"Bearer {self.only_for}"):
                echo = f"Rejected header Authorization: {authorization[:self.cut]}…"
                if kind == "html":
                    return html_response(status, f"<html><body><h1>{status}</h1><pre>{echo}</pre></body></html>")
                if self.in_error_code:
                    return ApiError(status, f"BAD_HEADER {echo}", "rejected").response()
                return ApiError(status, "BAD_REQUEST" if status != 403 else "FORBIDDEN", echo).response()
        return self.real_respond(method, path, query, authorization)


# ------------------------------------------------------------------------------ in-process: many scenarios, several keys


@pytest.fixture
def server_options():
    """conftest's `server` with this module's fault seed."""
    return {"fault_seed": 7}


@dataclass
class Keys:
    good: str
    revoked: str
    garbage: str = GARBAGE_KEY
    others: List[str] = field(default_factory=list)

    @property
    def all(self) -> List[str]:
        return [self.good, self.revoked, self.garbage, *self.others]

    @property
    def config_value(self) -> str:
        return f"{self.good}, {self.revoked}, {self.garbage}"


@pytest.fixture
def keys(server) -> Keys:
    good, revoked = server.add_key(label="good"), server.add_key(label="revoked")
    server.revoke_key(revoked)
    return Keys(good, revoked)


def _faults(server):
    server.inject(faults.http_500_html(), path_prefix=EXPORT + "reports/", times=1)
    server.inject(faults.reset(), path_prefix=EXPORT + "projects/", times=1)
    server.inject(faults.truncated_json("full"), path_prefix=EXPORT + "transcripts", times=1)
    server.inject(faults.rate_limited(retry_after=1, retry_after_format="http-date"), path_prefix=EXPORT + "transcripts/",
                  times=1, after=2)


def _revoke_good_mid_sync(server, keys):
    seen = [0]

    def revoke(request):
        seen[0] += 1
        if seen[0] == 6:
            server.revoke_key(keys.good)

    server.on_request = revoke


def _delete_a_transcript_after_listing(server, keys):
    doomed = server.dataset.list_items("transcripts")[3]["id"]
    done = threading.Event()

    def delete(request):
        if request.path == EXPORT + f"transcripts/{doomed}" and not done.is_set():
            done.set()
            server.delete_transcript(doomed)

    server.on_request = delete


def _no_scope_key(server, keys):
    keys.others.append(server.add_key(scopes=("export:projects",), label="projects_only"))
    return keys.others[-1]


IN_PROCESS_SCENARIOS = {
    "healthy": lambda server, keys: None,
    "faults_500_html_reset_truncated_429": lambda server, keys: _faults(server),
    "good_key_revoked_mid_sync": _revoke_good_mid_sync,
    "record_deleted_between_list_and_detail": _delete_a_transcript_after_listing,
}


@pytest.mark.parametrize("mode", [SyncMode.full_refresh, SyncMode.incremental], ids=["full_refresh", "incremental"])
@pytest.mark.parametrize("scenario", sorted(IN_PROCESS_SCENARIOS))
def test_given_three_keys_and_a_scenario_when_read_then_no_key_fragment_in_any_message_or_state(
    server, keys, scenario, mode
):
    IN_PROCESS_SCENARIOS[scenario](server, keys)

    sync = run_sync(server, config_for(server, keys.config_value), mode=mode)

    assert_no_leak(sync.all_text() + state_text(sync), keys.all)


def test_given_projects_and_project_transcripts_sharing_answers_when_read_then_no_key_fragment_in_any_message_or_state(
    server, keys
):
    """One stream hands the other its answers (kept without their Authorization header), a truncated one
    retried first; nothing either stream then writes carries a key."""
    server.inject(faults.truncated_json(), path_prefix=EXPORT + "projects/", times=1)

    sync = run_sync(server, config_for(server, keys.config_value), streams=("projects", "project_transcripts"))

    assert sync.records("project_transcripts") and sync.records("projects")
    assert_no_leak(sync.all_text() + state_text(sync), keys.all)


def test_given_keys_lacking_scopes_or_all_rejected_when_read_then_errors_name_keys_by_position_only(server, keys):
    projects_only = _no_scope_key(server, keys)
    lacking = run_sync(server, config_for(server, projects_only))
    server.revoke_key(keys.good)
    rejected = run_sync(server, config_for(server, keys.config_value))

    assert any("export:reports" in e for e in lacking.errors)
    assert any("rejected all 3 API keys" in e for e in rejected.errors)
    assert_no_leak(lacking.all_text() + rejected.all_text() + state_text(lacking) + state_text(rejected), keys.all)


def test_given_three_keys_when_checked_in_process_then_the_status_names_keys_by_position_only(server, keys):
    config = config_for(server, keys.config_value)

    status = SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert status.status == Status.FAILED
    assert "API key #2 was rejected" in status.message
    assert_no_leak(status.message, keys.all)


def test_given_a_config_error_about_keys_then_the_message_names_no_key():
    bad = ["tk_live_" + "Yh4Lq8Vn2Bc6Xs0Pm3Tr", "tk_live_" + "Yh4Lq8Vn2Bc6Xs0Pm3Tr", "tk_live_" + "with space in it x"]
    for value in (f"{bad[0]},{bad[1]}", f"{bad[0]}, {bad[2]}", f"{bad[0]},,"):
        with pytest.raises(ConfigError) as raised:
            parse_config({"api_key": value})
        assert_no_leak(raised.value.message, bad)


@pytest.mark.parametrize("base_url", ["http://user:{key}@127.0.0.1:8000", "https://{key}@meetlog.ru",
                                      "https://meetlog.ru/?key={key}", "https://meetlog.ru/#{key}", "https://meetlog.ru/{key}",
                                      "http://127.0.0.1:8000/{key}/"])
def test_given_a_key_pasted_into_base_url_then_refused_without_echoing_it_and_without_a_request(base_url, wire):
    key = "tk_live_" + "P4st3dInUrlK3yMm7"
    config = {"api_key": key, "base_url": base_url.format(key=key)}

    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    status = SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert status.status == Status.FAILED
    assert_no_leak(raised.value.message + status.message, [key])
    assert wire == []


# ------------------------------------------------------------------------------ on the wire: the Authorization header only


@pytest.fixture
def wire(monkeypatch) -> List[Tuple[requests.PreparedRequest, dict, requests.Session]]:
    """Every request this process sends, as prepared, with the keyword arguments of its send."""
    sent = []
    lock = threading.Lock()
    real_send = requests.Session.send

    def send(session, request, **kwargs):
        with lock:
            sent.append((request, dict(kwargs), session))
        return real_send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    return sent


def assert_key_only_in_the_authorization_header(sent, keys: Sequence[str], base_url: str) -> None:
    assert sent
    base = urlsplit(base_url)
    for request, _, _ in sent:
        assert urlsplit(request.url).netloc == base.netloc, f"a request left base_url: {request.url}"
        others = {name: value for name, value in request.headers.items() if name.lower() != "authorization"}
        assert_no_leak(request.url + json.dumps(others) + str(request.body or ""), keys)
        authorization = request.headers.get("Authorization", "")
        assert re.fullmatch(r"Bearer tk_live_[A-Za-z0-9_\-]+", authorization), "one bearer key, nothing else"
        assert authorization[len("Bearer "):] in keys


def test_given_several_keys_when_read_then_keys_travel_only_in_the_authorization_header_to_base_url(
    server, keys, wire
):
    _faults(server)

    run_sync(server, config_for(server, keys.config_value))

    assert_key_only_in_the_authorization_header(wire, keys.all, server.base_url)
    assert_no_leak(json.dumps([(r.path, r.query) for r in server.requests]), keys.all)


def test_given_several_keys_when_checked_then_keys_travel_only_in_the_authorization_header_to_base_url(server, keys, wire):
    config = config_for(server, f"{keys.good},{keys.garbage}")

    SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert_key_only_in_the_authorization_header(wire, keys.all, server.base_url)


class _Recorder(BaseHTTPRequestHandler):
    """Answers 302 to `target` (if set), or 401; remembers every request line and header it got."""

    target: Optional[str] = None
    seen: List[str] = []

    def do_GET(self):
        type(self).seen.append(f"{self.requestline}\n{self.headers}")
        if type(self).target:
            self.send_response(302)
            self.send_header("Location", type(self).target + self.path)
        else:
            self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _start(handler) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    return httpd


@pytest.mark.parametrize("command", ["read", "check"])
def test_given_base_url_redirects_to_another_origin_then_the_key_is_not_sent_there(command):
    class Elsewhere(_Recorder):
        seen = []

    class Redirector(_Recorder):
        seen = []

    elsewhere = _start(Elsewhere)
    Redirector.target = f"http://localhost:{elsewhere.server_address[1]}"
    redirector = _start(Redirector)
    key = "tk_live_" + "Rd1rEct8Me4nWh3reVr0"
    config = {"api_key": key, "base_url": f"http://127.0.0.1:{redirector.server_address[1]}",
              "requests_per_minute": 100_000}
    try:
        if command == "read":
            catalog = CatalogBuilder().with_stream("projects", SyncMode.full_refresh).build()
            read(SourceMeetlog(catalog=catalog, config=config), config, catalog)
        else:
            SourceMeetlog(config=config).check(logging.getLogger("test"), config)
    finally:
        redirector.shutdown()
        elsewhere.shutdown()

    assert Redirector.seen, "the connector asked base_url"
    assert Elsewhere.seen, "and followed its redirect"
    assert not any("authorization" in seen.lower() for seen in Elsewhere.seen)
    assert_no_leak("\n".join(Elsewhere.seen), [key])


# ------------------------------------------------------------------------------ servers that echo the key back in errors



@pytest.mark.parametrize("status", [400, 500])
def test_given_an_api_that_echoes_the_authorization_header_in_errors_when_checked_then_no_key_leaks(server, keys, status):
    EchoingProxy(server, {EXPORT + "reports": (status, "json")})
    config = config_for(server, keys.good)

    status_message = SourceMeetlog(config=config).check(logging.getLogger("test"), config).message or ""

    assert_no_leak(status_message, [keys.good])


def test_given_an_api_that_echoes_the_authorization_header_in_5xx_pages_when_read_then_no_key_leaks(
    server, keys
):
    EchoingProxy(server, {EXPORT + "projects/": (502, "html"), EXPORT + "reports/": (500, "json")})

    sync = run_sync(server, config_for(server, keys.good), streams=("projects",))

    assert sync.errors, "the detail never stops failing"
    assert_no_leak(sync.all_text() + state_text(sync), [keys.good])


def test_given_an_api_that_echoes_the_authorization_header_in_a_400_when_read_then_no_key_leaks(server, keys):
    EchoingProxy(server, {EXPORT + "reports": (400, "json")})

    sync = run_sync(server, config_for(server, keys.good), streams=("reports",))

    assert sync.errors
    assert_no_leak(sync.all_text(), [keys.good])


# A key cut short: "Bearer tk_live_" and 9, 20 or all but 3 of its characters, the page or its body cut there.
CUTS = [len("Bearer tk_live_") + 9, len("Bearer tk_live_") + 20, -3]


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("status", [400, 403, 404])
def test_given_an_api_that_echoes_a_key_cut_short_when_read_then_no_part_of_it_leaks(server, keys, status, cut):
    """Not only whole keys: 'Bearer tk_live_3fQ9…' in a 403's error_message, a 400 or an HTML 404 page
    (the CDK puts the body in its internal message) leaves no 8 characters of the key in any line."""
    EchoingProxy(server, {EXPORT + "reports": (status, "html" if status == 404 else "json")}, cut=cut)

    sync = run_sync(server, config_for(server, keys.good), streams=("reports",))

    assert sync.errors
    assert_no_leak(sync.all_text(), [keys.good])


@pytest.mark.parametrize("cut", [None, CUTS[1]])
def test_given_an_api_that_echoes_the_key_in_its_error_code_when_checked_then_the_status_holds_no_part_of_it(
    server, keys, cut
):
    """check names an unexpected answer by its error_code, and the entrypoint prints a connection status
    without filtering it."""
    EchoingProxy(server, {EXPORT + "transcripts": (400, "json")}, cut=cut, in_error_code=True)
    config = config_for(server, keys.good)

    status = SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert status.status == Status.FAILED and "BAD_HEADER" in (status.message or "")
    assert_no_leak(status.message or "", [keys.good])


def test_given_a_key_listed_beside_a_truncated_copy_of_it_when_read_then_no_part_of_it_leaks(server, keys):
    """'tk_live_<12 of its characters>, tk_live_<the whole key>': the shorter one masked first, inside the
    whole key, would leave the rest of it showing."""
    truncated = keys.good[: len("tk_live_") + 12]  # never issued: the server rejects it, and the pool goes on with the key
    EchoingProxy(server, {EXPORT + "reports": (403, "json")}, only_for=keys.good)

    sync = run_sync(server, config_for(server, f"{truncated}, {keys.good}"), streams=("reports",))

    assert sync.errors
    assert_no_leak(sync.all_text(), [keys.good])


def test_given_several_keys_when_the_entrypoint_checks_then_each_key_alone_stays_masked(server, keys):
    config = config_for(server, f"{keys.good},{keys.garbage}")
    source = SourceMeetlog(config=config)
    entrypoint = AirbyteEntrypoint(source)

    list(entrypoint.check(source.spec(logging.getLogger("test")), config))

    assert_no_leak(filter_secrets(f"one key alone: {keys.good} / {keys.garbage}"), [keys.good, keys.garbage])


# ------------------------------------------------------------------------------ the console script, every command


@dataclass
class Run:
    name: str
    args: List[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    state: str = ""

    @property
    def text(self) -> str:
        return self.stdout + "\n" + self.stderr + "\n" + self.state


def _console(name: str, args: List[str], workdir: Path) -> Run:
    started = time.monotonic()
    completed = subprocess.run([str(CONSOLE_SCRIPT), *args], capture_output=True, text=True,
                               timeout=SUBPROCESS_TIMEOUT, cwd=workdir)
    run = Run(name, args, completed.returncode, completed.stdout, completed.stderr, seconds=time.monotonic() - started)
    states = [line for line in completed.stdout.splitlines() if line.startswith('{"type":"STATE"')]
    if states:
        (workdir / f"{name}.state.json").write_text(json.dumps([json.loads(line)["state"] for line in states]))
        run.state = (workdir / f"{name}.state.json").read_text()
    return run


@pytest.fixture(scope="module")
def console_runs(tmp_path_factory):
    """Every command of the console script through its scenarios, run in parallel once per module.

    Three servers: a healthy one, one with faults for the read that must see them (so that no other
    command uses them up), and one whose errors quote the Authorization header back.
    """
    workdir = tmp_path_factory.mktemp("console")
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server, \
            MeetlogServer(dataset=build_dataset(), requests_per_window=None, fault_seed=11) as faulty, \
            MeetlogServer(dataset=build_dataset(), requests_per_window=None) as echoing:
        good, revoked = server.add_key(label="good"), server.add_key(label="revoked")
        server.revoke_key(revoked)
        faulty.add_key(key=good, label="good")
        faulty.revoke_key(faulty.add_key(key=revoked, label="revoked"))
        _faults(faulty)
        echo_key = echoing.add_key(label="echo")
        EchoingProxy(echoing, {EXPORT + "reports": (400, "json")})
        keys = [good, revoked, GARBAGE_KEY, echo_key]
        three = f"{good},{revoked},{GARBAGE_KEY}"

        def config(name: str, **values) -> str:
            path = workdir / f"{name}.config.json"
            path.write_text(json.dumps({"requests_per_minute": 100_000, **values}))
            return str(path)

        catalog = workdir / "catalog.json"
        builder = CatalogBuilder()
        for stream in STREAMS:
            builder = builder.with_stream(stream, SyncMode.incremental)
        catalog.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(builder.build())))
        healthy = config("three_keys", api_key=three, base_url=server.base_url)
        with_faults = config("three_keys_faults", api_key=three, base_url=faulty.base_url)
        wrong_path = config("wrong_path", api_key=three, base_url=server.base_url + "/not-the-api")
        commands = {
            "spec": ["spec"],
            "check_three_keys": ["check", "--config", healthy],
            "discover_three_keys": ["discover", "--config", healthy],
            "read_three_keys_faults_debug": ["read", "--config", with_faults, "--catalog", str(catalog), "--debug"],
            "read_wrong_base_url_path_debug": ["read", "--config", wrong_path, "--catalog", str(catalog), "--debug"],
            "read_all_keys_rejected": ["read", "--config", config("rejected", api_key=f"{revoked},{GARBAGE_KEY}",
                                                                   base_url=server.base_url),
                                       "--catalog", str(catalog)],
            "check_echoing_api": ["check", "--config", config("echo", api_key=echo_key, base_url=echoing.base_url)],
            "read_echoing_api_debug": ["read", "--config", config("echo2", api_key=echo_key, base_url=echoing.base_url),
                                       "--catalog", str(catalog), "--debug"],
        }
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {name: pool.submit(_console, name, args, workdir) for name, args in commands.items()}
            runs = {name: future.result() for name, future in futures.items()}
        assert runs["read_three_keys_faults_debug"].state, "the read left a state to scan"
        yield {"runs": runs, "keys": keys}


CONSOLE_SCENARIOS = [
    "spec",
    "check_three_keys",
    "discover_three_keys",
    "read_three_keys_faults_debug",
    "read_wrong_base_url_path_debug",
    "read_all_keys_rejected",
    "read_echoing_api_debug",
    "check_echoing_api",
]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", CONSOLE_SCENARIOS)
def test_given_a_console_command_and_scenario_then_no_key_fragment_in_stdout_stderr_or_state(console_runs, scenario):
    run = console_runs["runs"][scenario]

    assert run.stdout, f"{scenario} wrote nothing (exit {run.returncode}): {run.stderr[-500:]}"
    assert_no_leak(run.text, console_runs["keys"])


@pytest.mark.slow
def test_the_console_scenarios_end_as_they_should(console_runs):
    """The scans above prove something only if the commands really ran into their scenarios."""
    runs = console_runs["runs"]
    assert '"type":"SPEC"' in runs["spec"].stdout
    assert "API key #2 was rejected" in runs["check_three_keys"].stdout
    assert '"type":"CATALOG"' in runs["discover_three_keys"].stdout
    read = runs["read_three_keys_faults_debug"]
    assert read.stdout.count('"type":"RECORD"') >= 21 and "API key #2 of 3 was rejected" in read.stdout
    assert "Making outbound API request" in read.stdout and "'Authorization': 'Bearer ****'" in read.stdout
    assert '"type":"TRACE"' in runs["read_wrong_base_url_path_debug"].stdout and "404" in runs["read_wrong_base_url_path_debug"].stdout
    assert "rejected all 2 API keys" in runs["read_all_keys_rejected"].stdout
    assert "BAD_REQUEST" in runs["check_echoing_api"].stdout
    assert "400" in runs["read_echoing_api_debug"].stdout


# ------------------------------------------------------------------------------ transport: https, certificates, timeouts, user

PLAIN_HTTP_OUTSIDE_LOOPBACK = [
    "http://meetlog.ru",
    "http://10.0.0.1:8080",
    "http://0.0.0.0:8000",
    "http://127.0.0.1.nip.io",
    "http://localhost.evil.example",
    "http://[::ffff:10.0.0.1]",
    "HTTP://MEETLOG.RU",
]


@pytest.mark.parametrize("base_url", PLAIN_HTTP_OUTSIDE_LOOPBACK)
def test_given_plain_http_outside_loopback_then_config_error_and_no_request_is_sent(base_url, wire):
    config = {"api_key": "tk_live_" + "Nn0Tls4Y0u8xQw2Ee6Rr", "base_url": base_url}

    with pytest.raises(ConfigError, match="must use https"):
        parse_config(config)
    status = SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert status.status == Status.FAILED and "must use https" in status.message
    assert wire == []


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                                      "http://127.0.0.2:8000", "https://meetlog.ru", "https://10.0.0.1"])
def test_given_https_or_loopback_then_base_url_is_accepted(base_url):
    assert parse_config({"api_key": "tk_live_" + "Ok4yHttps9Lo0pback", "base_url": base_url}).base_url == base_url


CERTIFICATE_OFF = re.compile(
    r"verify\s*[=:]\s*(False|false|0)|CERT_NONE|disable_warnings|InsecureRequestWarning|check_hostname\s*=\s*False"
    r"|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|PYTHONHTTPSVERIFY|_create_unverified_context"
)


def test_nothing_in_the_connector_or_its_image_turns_certificate_verification_off():
    files = [*sorted((REPO_ROOT / "source_meetlog").rglob("*.py")), *sorted((REPO_ROOT / "source_meetlog").rglob("*.yaml")),
             REPO_ROOT / "main.py", REPO_ROOT / "setup.py", REPO_ROOT / "Dockerfile"]
    offenders = [f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
                 for path in files if path.exists()
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if CERTIFICATE_OFF.search(line)]
    assert offenders == []


def test_every_request_of_a_sync_and_a_check_verifies_certificates_and_has_a_timeout(server, keys, wire):
    config = config_for(server, keys.good)

    run_sync(server, config)
    SourceMeetlog(config=config).check(logging.getLogger("test"), config)

    assert wire
    for request, kwargs, session in wire:
        assert kwargs.get("verify", session.verify) is not False, request.url
        assert session.verify is not False
        assert kwargs.get("timeout") is not None, f"no timeout on {request.method} {urlsplit(request.url).path}"


def test_the_docker_image_runs_as_a_non_root_user():
    """Static: the Dockerfile's last USER. integration_tests/test_docker_image.py checks the running user."""
    users = [line.split(None, 1)[1].strip() for line in (REPO_ROOT / "Dockerfile").read_text().splitlines()
             if line.strip().upper().startswith("USER ")]
    assert users, "the Dockerfile sets no USER, so the image runs as root"
    assert users[-1] not in ("root", "0", "0:0") and not users[-1].startswith("0:")
    assert users[-1] == "airbyte"
