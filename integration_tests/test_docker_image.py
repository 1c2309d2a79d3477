"""The connector's Docker image, built from the Dockerfile and run the way the Airbyte platform
runs it: `spec`, `check`, `discover` and `read` inside the container, against a local Meetlog API.

Needs a Docker engine. Without one, `../shared/docker/local-docker.sh start` (beside the repo)
starts one and provides the base image; failing that the tests skip, or fail when
MEETLOG_REQUIRE_DOCKER=1 (CI). The image is built once per module, with the classic builder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import List, NoReturn, Optional

import pytest
import yaml

from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, AirbyteStreamStatus, Status, Type

from integration_tests.meetlog_server import ALL_SCOPES, MeetlogServer
from integration_tests.secrets_scan import assert_no_key_fragment
from integration_tests.served_records import (
    configured_catalog,
    dataset_with_every_kind_of_null,
    describe,
    differences,
    records_by_stream,
    served_records,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DOCKER = REPO_ROOT.parent / "shared" / "docker" / "local-docker.sh"
# Worktrees that build at the same time each give their own tag.
IMAGE = os.environ.get("MEETLOG_IMAGE_TAG", "airbyte/source-meetlog:dev")
# Used when neither $BASE_IMAGE nor local-docker.sh names one; the Dockerfile's own default is
# pinned by digest, which a locally built stand-in cannot match.
DEFAULT_BASE_IMAGE = "airbyte/python-connector-base:4.0.0"
STREAMS = ("transcripts", "reports", "projects")
READ_STREAMS = (*STREAMS, "project_transcripts")
ACCOUNT = "acme"

ENGINE_START_TIMEOUT = 600  # local-docker.sh: installs docker.io and debootstraps a base the first time
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 120
PROBE_TIMEOUT = 30


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("MEETLOG_REQUIRE_DOCKER") == "1":
        pytest.fail(f"MEETLOG_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _docker_ok(*args: str) -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", *args], capture_output=True, timeout=PROBE_TIMEOUT).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _start_local_docker() -> str:
    """Runs local-docker.sh start; returns the base image tag it prints last (`BASE_IMAGE=<tag>`)."""
    try:
        started = subprocess.run(
            [str(LOCAL_DOCKER), "start"], capture_output=True, text=True, timeout=ENGINE_START_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"{LOCAL_DOCKER} start did not finish within {ENGINE_START_TIMEOUT} s")
    lines = started.stdout.strip().splitlines()
    if started.returncode != 0 or not lines or not lines[-1].startswith("BASE_IMAGE="):
        _unavailable(f"{LOCAL_DOCKER} start failed (exit {started.returncode}):\n{_tail(started.stderr)}")
    return lines[-1].split("=", 1)[1]


@pytest.fixture(scope="module")
def base_image() -> str:
    """Makes sure an engine answers, and returns the base image to build on."""
    from_env = os.environ.get("BASE_IMAGE")
    from_script: Optional[str] = None
    engine_up = _docker_ok("info")
    # The script also provides the default base image when no registry can: run it when the
    # engine is down, or up but without that image.
    if LOCAL_DOCKER.is_file() and (
        not engine_up or (not from_env and not _docker_ok("image", "inspect", DEFAULT_BASE_IMAGE))
    ):
        from_script = _start_local_docker()
        engine_up = _docker_ok("info")
    if not engine_up:
        _unavailable(f"no Docker engine answers `docker info`, and {LOCAL_DOCKER} could not start one")
    return from_env or from_script or DEFAULT_BASE_IMAGE


@pytest.fixture(scope="module")
def image(base_image: str) -> str:
    command = ["docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base_image}", "-t", IMAGE, "."]
    try:
        built = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(command)}` took longer than {BUILD_TIMEOUT} s", pytrace=False)
    assert built.returncode == 0, f"docker build failed:\n{_tail(built.stdout + built.stderr, 60)}"
    return IMAGE


@pytest.fixture(scope="module")
def server():
    """Module-scoped, unlike conftest's (the image runs each command once per module), and with the
    server's default rate limit (60 requests a minute per key)."""
    with MeetlogServer(dataset=dataset_with_every_kind_of_null()) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(server: MeetlogServer) -> str:
    return server.add_key(account=ACCOUNT, scopes=ALL_SCOPES)


@pytest.fixture(scope="module")
def revoked_key(server: MeetlogServer) -> str:
    key = server.add_key(account=ACCOUNT, scopes=ALL_SCOPES)
    server.revoke_key(key)
    return key


def _configured_catalog(mode: str) -> dict:
    """Every stream (project_transcripts offers full refresh only), as the platform configures it."""
    return configured_catalog(mode, READ_STREAMS)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, server: MeetlogServer, api_key: str, revoked_key: str) -> Path:
    """Mounted read-only at /data; readable by the image's `airbyte` user (uid 1000), not only root."""
    directory = tmp_path_factory.mktemp("docker-data")
    files = {
        "config.json": {"api_key": api_key, "base_url": server.base_url},
        "revoked_config.json": {"api_key": revoked_key, "base_url": server.base_url},
        "configured_catalog.json": _configured_catalog("full_refresh"),
        "incremental_catalog.json": _configured_catalog("incremental"),
    }
    for name, content in files.items():
        path = directory / name
        path.write_text(json.dumps(content))
        path.chmod(0o644)
    directory.chmod(0o755)
    return directory


@dataclass
class ContainerRun:
    exit_code: int
    stdout: str
    stderr: str
    messages: List[AirbyteMessage]
    lines: List[dict]  # the same stdout lines, parsed as plain JSON: an absent key stays absent

    def of_type(self, message_type: Type) -> List[AirbyteMessage]:
        return [message for message in self.messages if message.type == message_type]


@pytest.fixture(scope="module")
def run_connector(image: str, data_dir: Path, api_key: str, revoked_key: str):
    """Runs one connector command in a fresh container; every stdout line must be an Airbyte message."""

    def run(*args: str) -> ContainerRun:
        name = f"source-meetlog-test-{uuid.uuid4().hex[:12]}"
        command = ["docker", "run", "--rm", "--name", name, "--network", "host", "-v", f"{data_dir}:/data:ro", image, *args]
        try:
            finished = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=PROBE_TIMEOUT)
            pytest.fail(f"`{' '.join(args)}` in the container took longer than {RUN_TIMEOUT} s", pytrace=False)
        # Checked before anything else can print the output into the test report.
        try:
            assert_no_key_fragment(finished.stdout + finished.stderr, api_key, revoked_key)
        except AssertionError as leak:
            pytest.fail(f"`{' '.join(args)}` in the container: {leak}", pytrace=False)
        messages, lines = [], []
        for number, line in enumerate(finished.stdout.splitlines(), start=1):
            try:
                lines.append(json.loads(line))
                messages.append(AirbyteMessageSerializer.load(lines[-1]))
            except Exception as error:
                pytest.fail(f"stdout line {number} of `{' '.join(args)}` is not an Airbyte message ({error}): {line[:300]}")
        return ContainerRun(finished.returncode, finished.stdout, finished.stderr, messages, lines)

    return run


def _explain(run: ContainerRun) -> str:
    traces = [AirbyteMessageSerializer.dump(m) for m in run.of_type(Type.TRACE) if m.trace.error]
    return f"exit {run.exit_code}; error traces: {traces}\nstderr:\n{_tail(run.stderr)}"


# ---------------------------------------------------------------------------- the image itself


def test_image_runs_as_a_non_root_user(image: str) -> None:
    uid = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "id", image, "-u"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert uid.returncode == 0, uid.stderr
    assert uid.stdout.strip() != "0"


def test_image_labels_and_entrypoint_match_the_metadata(image: str) -> None:
    inspected = subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    assert inspected.returncode == 0, inspected.stderr
    config = json.loads(inspected.stdout)[0]["Config"]
    metadata = yaml.safe_load((REPO_ROOT / "metadata.yaml").read_text())["data"]
    assert config["Labels"]["io.airbyte.version"] == metadata["dockerImageTag"]
    assert config["Labels"]["io.airbyte.name"] == metadata["dockerRepository"]
    assert config["Entrypoint"] == ["python", "/airbyte/integration_code/main.py"]
    assert "AIRBYTE_ENTRYPOINT=python /airbyte/integration_code/main.py" in config["Env"]
    assert config["User"] == "airbyte"


# ---------------------------------------------------------------------------- protocol commands


def test_given_the_image_when_spec_runs_then_one_spec_marks_the_api_key_secret(run_connector) -> None:
    run = run_connector("spec")
    assert run.exit_code == 0, _explain(run)
    (spec,) = run.of_type(Type.SPEC)
    properties = spec.spec.connectionSpecification["properties"]
    assert properties["api_key"]["airbyte_secret"] is True


def test_check_succeeds_with_a_valid_key(run_connector) -> None:
    run = run_connector("check", "--config", "/data/config.json")
    assert run.exit_code == 0, _explain(run)
    (status,) = run.of_type(Type.CONNECTION_STATUS)
    assert status.connectionStatus.status == Status.SUCCEEDED, status.connectionStatus.message


def test_check_fails_with_a_revoked_key_without_echoing_it(run_connector) -> None:
    # The key leak check in run_connector covers this failure path too.
    run = run_connector("check", "--config", "/data/revoked_config.json")
    (status,) = run.of_type(Type.CONNECTION_STATUS)
    assert status.connectionStatus.status == Status.FAILED
    assert status.connectionStatus.message


def test_discover_lists_the_three_streams_and_project_transcripts(run_connector) -> None:
    run = run_connector("discover", "--config", "/data/config.json")
    assert run.exit_code == 0, _explain(run)
    (catalog,) = run.of_type(Type.CATALOG)
    assert sorted(stream.name for stream in catalog.catalog.streams) == sorted([*STREAMS, "project_transcripts"])


@pytest.mark.parametrize("catalog", ["configured_catalog.json", "incremental_catalog.json"])
def test_read_emits_exactly_the_servers_records(run_connector, server: MeetlogServer, catalog: str) -> None:
    server.reset_rate_limits()  # a read and its check fit the real 60 a minute; two reads in a row do not
    run = run_connector("read", "--config", "/data/config.json", "--catalog", f"/data/{catalog}")
    assert run.exit_code == 0, _explain(run)
    assert not [m for m in run.of_type(Type.TRACE) if m.trace.error], _explain(run)

    final_statuses = {
        m.trace.stream_status.stream_descriptor.name: m.trace.stream_status.status
        for m in run.of_type(Type.TRACE)
        if m.trace.stream_status
    }
    assert final_statuses == {name: AirbyteStreamStatus.COMPLETE for name in READ_STREAMS}

    # Each RECORD line, parsed, has the keys and values of its detail answer: null where the API
    # said null, no key where it sent none (issue #10), every record once.
    emitted, expected = records_by_stream(run.lines), served_records(server, ACCOUNT)
    assert all(expected[name] for name in READ_STREAMS), f"the seeded data set lacks a stream: {expected.keys()}"
    assert differences(emitted, expected) == [], describe(emitted, expected)
    print(f"docker, {catalog}: {describe(emitted, expected)}")  # the evidence, with -s
