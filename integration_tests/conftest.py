"""Shared pytest setup for integration_tests/: the local Meetlog API, a config for it, quick retries.

- `server`: the local Meetlog API on 127.0.0.1, fresh for each test: build_dataset()'s data and no
  rate limit. A module that needs other MeetlogServer options (a fault seed, a dataset, a limit)
  overrides `server_options`, not `server` (test_faults.py). `start_server` starts more of them.
- `config`: a config for `server` with a fresh key of every scope.
- `quick_retries` (every test here): the CDK's sleep before each retry capped at 50 ms, as a fault's
  outcome is under test, not the timing of its retries (unit_tests/test_backoff.py pins that). The
  key pool's waits for Retry-After and its window are not the CDK's sleep: they stay real.
- `connector_wheel`: the connector's wheel, built once per run for test_wheel.py and test_pyairbyte.py,
  whichever pytest-xdist worker asks first.

Module-scoped servers (test_console_script.py, test_docker_image.py, test_config_fuzz.py's `live`)
stay in their modules: their other module-scoped fixtures need one, and these are function-scoped.

The standard suite (test_standard_suite.py) reads its configs by path from
acceptance-test-config.yml, so the local Meetlog API it talks to must listen where those files
say: `meetlog_acceptance_server` starts it there, with the key they name.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import types
from pathlib import Path
from typing import Any, Callable, Dict, Iterator
from urllib.parse import urlsplit

import pytest

import airbyte_cdk.sources.streams.http.rate_limiting as cdk_rate_limiting

from integration_tests.harness import config_for
from integration_tests.meetlog_server import ALL_SCOPES, MeetlogServer, build_dataset
from integration_tests.wheel_build import build_wheel

SAMPLE_CONFIG_PATH = Path(__file__).parent / "sample_config.json"
# Another run of the suite (a second pytest on the same machine) may hold the fixed port; its
# module finishes in seconds, so waiting a little serialises the two instead of failing one.
PORT_BUSY_WAIT_SECONDS = 30.0


def pytest_configure(config: pytest.Config) -> None:
    # pytest.ini has --strict-markers, and the CDK's suite marks its Docker tests `image_tests`
    # (and credentialed scenarios `requires_creds`) without registering either marker.
    config.addinivalue_line("markers", "image_tests: the CDK standard suite's tests of the connector's Docker image")
    config.addinivalue_line("markers", "requires_creds: a CDK standard suite scenario whose config lives in secrets/")


def _start_on_fixed_port(api_key: str, port: int) -> MeetlogServer:
    deadline = time.monotonic() + PORT_BUSY_WAIT_SECONDS
    while True:
        # No rate limit: pacing has tests of its own, and the suite must not wait out a window.
        server = MeetlogServer(dataset=build_dataset(), port=port, requests_per_window=None)
        try:
            server.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                pytest.fail(
                    f"Could not start the local Meetlog API on 127.0.0.1:{port}, the address "
                    f"{SAMPLE_CONFIG_PATH.name} gives ({error}). Another run of the standard suite may hold it.",
                    pytrace=False,
                )
            time.sleep(0.5)
            continue
        server.add_key(key=api_key, scopes=ALL_SCOPES, label="standard_suite")
        return server


@pytest.fixture(scope="module")
def meetlog_acceptance_server() -> Iterator[MeetlogServer]:
    """The local Meetlog API at the address and with the key of integration_tests/sample_config.json.

    Module-scoped, not session-scoped: the fixed port is then held only while the module that
    asks for it runs, not through the rest of the session (the Docker tests take minutes).
    """
    config = json.loads(SAMPLE_CONFIG_PATH.read_text())
    port = urlsplit(config["base_url"]).port
    server = _start_on_fixed_port(config["api_key"], port)
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------ the connector's wheel, once per run


@pytest.fixture(scope="session")
def connector_wheel(tmp_path_factory) -> Path:
    """The wheel wheel_build.build_wheel makes of the work tree, built once per run.

    Under pytest-xdist each worker has a session of its own, and their temporary directories share a
    parent: the first worker to ask builds the wheel there, under a lock, and the others take it.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    work_dir, built = root / "connector-wheel", root / "connector-wheel.built"
    with open(root / "connector-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            shutil.rmtree(work_dir, ignore_errors=True)  # what a failed build of another worker left
            built.write_text(str(build_wheel(work_dir)))
        return Path(built.read_text())


# ------------------------------------------------------------------------------ the local Meetlog API, per test


@pytest.fixture
def server_options() -> Dict[str, Any]:
    """MeetlogServer keyword arguments for `server`: none by default. A module overrides this fixture
    to say how its server differs (e.g. `{"fault_seed": FAULT_SEED}`)."""
    return {}


@pytest.fixture
def start_server() -> Iterator[Callable[..., MeetlogServer]]:
    """start_server(dataset=None, **options) -> a running local Meetlog API, stopped after the test.

    `options` are MeetlogServer's; unless given, the dataset is build_dataset()'s and there is no
    rate limit (pacing has tests of its own: test_rate_limit.py).
    """
    running = []

    def start(dataset=None, **options) -> MeetlogServer:
        options.setdefault("requests_per_window", None)
        server = MeetlogServer(dataset=dataset if dataset is not None else build_dataset(), **options)
        server.start()
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def server(start_server, server_options) -> MeetlogServer:
    """The local Meetlog API, fresh for each test: build_dataset()'s data, no rate limit, and the
    module's `server_options`."""
    return start_server(**server_options)


@pytest.fixture
def config(server: MeetlogServer) -> dict:
    """A config for `server` with one fresh key of every scope (harness.config_for)."""
    return config_for(server, server.add_key())


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch) -> None:
    """Caps each retry's sleep at 50 ms, so six attempts at a fault that never heals take no time.
    For tests of a fault's outcome; the timing of retries is pinned by unit_tests/test_backoff.py."""
    real_sleep = time.sleep
    monkeypatch.setattr(
        cdk_rate_limiting,
        "time",
        types.SimpleNamespace(sleep=lambda seconds: real_sleep(min(seconds, 0.05)), time=time.time,
                              monotonic=time.monotonic),
    )
