"""The installed `source-meetlog` command and `python main.py`, run as the platform runs them.

Every stdout line must be an Airbyte protocol message: anything else (a print, a traceback)
would break the platform's reading of the stream.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.secrets_scan import assert_no_key_fragment

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
COMMAND_TIMEOUT_SECONDS = 120
PROTOCOL_TYPES = {"LOG", "SPEC", "CONNECTION_STATUS", "CATALOG", "RECORD", "STATE", "TRACE", "CONTROL"}


def _launchers():
    script = shutil.which("source-meetlog", path=str(Path(sys.executable).parent))
    assert script, "the console script source-meetlog is not installed in this environment"
    return {"console script": [script], "python main.py": [sys.executable, str(REPO / "main.py")]}


LAUNCHERS = _launchers()


@pytest.fixture(scope="module")
def server():
    """Module-scoped, unlike conftest's: `files` writes the configs for it once per module."""
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as server:
        yield server


@pytest.fixture(scope="module")
def files(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("connector-files")
    key = server.add_key()
    paths = {
        "key": key,
        "config": folder / "config.json",
        "revoked": folder / "revoked.json",
        "bad_url": folder / "bad_url.json",
        "catalog": folder / "catalog.json",
    }
    paths["config"].write_text(json.dumps({"api_key": key, "base_url": server.base_url}))
    revoked = server.add_key()
    server.revoke_key(revoked)
    paths["revoked_key"] = revoked
    paths["revoked"].write_text(json.dumps({"api_key": revoked, "base_url": server.base_url}))
    paths["bad_url"].write_text(json.dumps({"api_key": key, "base_url": "http://example.com"}))
    paths["catalog"].write_text(json.dumps({
        "streams": [
            {"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
             "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for name in ("transcripts", "reports", "projects")
        ]
    }))
    return paths


def run(launcher, *args):
    result = subprocess.run(
        [*LAUNCHERS[launcher], *map(str, args)], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, cwd=REPO
    )
    messages = []
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        message = json.loads(line)  # a line that is not JSON fails here, naming itself
        assert message.get("type") in PROTOCOL_TYPES, line[:200]
        messages.append(message)
    return result, messages


def of_type(messages, kind):
    return [m for m in messages if m["type"] == kind]


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_spec_prints_one_spec_message_with_the_api_key_as_a_secret(launcher):
    result, messages = run(launcher, "spec")

    assert result.returncode == 0
    [spec] = of_type(messages, "SPEC")
    assert spec["spec"]["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_check_discover_and_read_against_the_local_api(launcher, server, files):
    _, checked = run(launcher, "check", "--config", files["config"])
    _, discovered = run(launcher, "discover", "--config", files["config"])
    result, read = run(launcher, "read", "--config", files["config"], "--catalog", files["catalog"])

    assert of_type(checked, "CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
    streams = {s["name"]: s for s in of_type(discovered, "CATALOG")[0]["catalog"]["streams"]}
    assert set(streams) == {"transcripts", "reports", "projects", "project_transcripts"}
    for name in ("transcripts", "reports", "projects"):
        assert streams[name]["source_defined_primary_key"] == [["id"]]
        assert "incremental" in streams[name]["supported_sync_modes"]
    assert streams["project_transcripts"]["source_defined_primary_key"] == [["project_id"], ["transcript_id"]]
    assert result.returncode == 0
    for stream in ("transcripts", "reports", "projects"):
        emitted = sorted(m["record"]["data"]["id"] for m in of_type(read, "RECORD") if m["record"]["stream"] == stream)
        assert emitted == sorted(item["id"] for item in server.dataset.list_items(stream))
    assert_no_key_fragment(result.stdout + result.stderr, files["key"])


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_check_with_a_revoked_key_fails_with_a_message_and_no_traceback(launcher, files):
    result, messages = run(launcher, "check", "--config", files["revoked"])

    [status] = of_type(messages, "CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "FAILED"
    assert "invalid, revoked or expired" in status["connectionStatus"]["message"]
    assert "Traceback" not in result.stdout + result.stderr
    assert_no_key_fragment(result.stdout + result.stderr, files["revoked_key"])


def test_read_with_a_bad_config_prints_one_config_error_and_exits_non_zero(files):
    result, messages = run("console script", "read", "--config", files["bad_url"], "--catalog", files["catalog"])

    assert result.returncode != 0
    [trace] = of_type(messages, "TRACE")
    assert trace["trace"]["error"]["failure_type"] == "config_error"
    assert "base_url" in trace["trace"]["error"]["message"] and "https" in trace["trace"]["error"]["message"]
    assert "Traceback" not in result.stdout + result.stderr
    assert of_type(messages, "RECORD") == []
