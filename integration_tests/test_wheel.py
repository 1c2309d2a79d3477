"""The connector as a user installs it: the wheel built from this repository, in a virtual
environment that holds that wheel and its PyPI dependencies only, run from another directory.

Every other test runs on the editable install, which reads manifest.yaml and the schemas from the
work tree; a wheel that forgot its package data, or that needs a file outside the package, would
pass them all. Here the installed `source-meetlog` runs spec, check, discover and a full read
against the local Meetlog API, and an audit hook (loaded through a sitecustomize in a temporary
directory) lists every file the connector opens: none may be in the work tree.

The environment's dependencies are cached by setup.py's hash (integration_tests/wheel_venv.py);
the first run installs them from the package index, later runs only reinstall the wheel.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from typing import Dict, List, Set

import pytest
import yaml
from packaging.requirements import Requirement

from integration_tests.harness import expected_project_transcripts
from integration_tests.meetlog_server import MeetlogServer, build_dataset
from integration_tests.secrets_scan import assert_no_key_fragment
from integration_tests.served_records import differences, served_records
from integration_tests.wheel_build import DISTRIBUTION, REPO, repository_files
from integration_tests.wheel_venv import WheelVenv, isolated_environment, wheel_venv

pytestmark = pytest.mark.slow

STREAMS = ("transcripts", "reports", "projects")
ALL_STREAMS = (*STREAMS, "project_transcripts")
PROTOCOL_TYPES = {"LOG", "SPEC", "CONNECTION_STATUS", "CATALOG", "RECORD", "STATE", "TRACE", "CONTROL"}
COMMAND_TIMEOUT_SECONDS = 180
OPENED_FILES_LOG = "MEETLOG_OPENED_FILES_LOG"

# Loaded by the environment's Python at start-up from PYTHONPATH (a temporary directory): records
# the path of every file the process opens (imports, manifest, schemas, config). os.write on a
# descriptor opened before the hook, since an open() inside the hook would call the hook again.
SITECUSTOMIZE = """
import os, sys
_log = os.environ.get("MEETLOG_OPENED_FILES_LOG")
if _log:
    _fd = os.open(_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    def _record_open(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            try:
                os.write(_fd, (os.path.abspath(os.fsdecode(args[0])) + "\\n").encode("utf-8", "surrogateescape"))
            except Exception:
                pass
    sys.addaudithook(_record_open)
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    messages: List[dict]
    opened: Set[Path]

    def of_type(self, kind: str) -> List[dict]:
        return [m for m in self.messages if m["type"] == kind]


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def wheel(connector_wheel: Path) -> Path:
    return connector_wheel  # conftest: built once per run


@pytest.fixture(scope="module")
def venv(wheel: Path):
    with wheel_venv(wheel) as environment:
        yield environment


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory) -> Path:
    """The working directory of every command: outside the work tree, with the audit hook."""
    folder = tmp_path_factory.mktemp("wheel-user")
    (folder / "hook").mkdir()
    (folder / "hook" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder


@pytest.fixture(scope="module")
def server():
    with MeetlogServer(dataset=build_dataset(), requests_per_window=None) as running:
        yield running


@pytest.fixture(scope="module")
def key(server: MeetlogServer) -> str:
    return server.add_key(label="wheel")


@pytest.fixture(scope="module")
def files(elsewhere: Path, server: MeetlogServer, key: str) -> Dict[str, Path]:
    paths = {"config": elsewhere / "config.json", "catalog": elsewhere / "catalog.json"}
    paths["config"].write_text(json.dumps({"api_key": key, "base_url": server.base_url}))
    paths["catalog"].write_text(json.dumps({"streams": [
        {"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
        for name in ALL_STREAMS
    ]}))
    return paths


def _execute(elsewhere: Path, name: str, *command: str) -> subprocess.CompletedProcess:
    """Runs command in `elsewhere` with the audit hook, which lists what it opens in <name>.opened.txt."""
    env = isolated_environment(PYTHONPATH=str(elsewhere / "hook"), **{OPENED_FILES_LOG: str(elsewhere / f"{name}.opened.txt")})
    return subprocess.run([*command], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, cwd=elsewhere, env=env)


def _run(elsewhere: Path, name: str, *command: str) -> Run:
    """A connector command: every stdout line must be an Airbyte protocol message."""
    finished = _execute(elsewhere, name, *command)
    messages = []
    for line in finished.stdout.splitlines():
        if line.strip():
            message = json.loads(line)  # a line that is not JSON fails here, naming itself
            assert message.get("type") in PROTOCOL_TYPES, line[:200]
            messages.append(message)
    log = elsewhere / f"{name}.opened.txt"
    opened = {Path(os.path.realpath(p)) for p in log.read_text().splitlines()} if log.exists() else set()
    return Run(finished.returncode, finished.stdout, finished.stderr, messages, opened)


@pytest.fixture(scope="module")
def runs(venv: WheelVenv, elsewhere: Path, files: Dict[str, Path], key: str) -> Dict[str, Run]:
    script = str(venv.console_script)
    config, catalog = str(files["config"]), str(files["catalog"])
    done = {
        "spec": _run(elsewhere, "spec", script, "spec"),
        "check": _run(elsewhere, "check", script, "check", "--config", config),
        "discover": _run(elsewhere, "discover", script, "discover", "--config", config),
        "read": _run(elsewhere, "read", script, "read", "--config", config, "--catalog", catalog),
    }
    for name, run in done.items():
        assert_no_key_fragment(run.stdout + run.stderr, key)
        assert run.returncode == 0, f"{name}: exit {run.returncode}\n{run.stderr[-3000:]}"
    return done


# ---------------------------------------------------------------------------- the wheel itself


def _wheel_metadata(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(f".dist-info/{name}")]
        return archive.read(path).decode()


def _setup_install_requires() -> List[str]:
    tree = ast.parse((REPO / "setup.py").read_text())
    constants = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "setup")
    value = next(k.value for k in call.keywords if k.arg == "install_requires")
    return ast.literal_eval(constants[value.id] if isinstance(value, ast.Name) else value)


def test_given_the_repository_when_the_wheel_is_built_then_it_holds_the_package_and_its_data_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
    metadata = yaml.safe_load((REPO / "metadata.yaml").read_text())["data"]
    dist_info = f"{DISTRIBUTION.replace('-', '_')}-{metadata['dockerImageTag']}.dist-info"

    assert {name.split("/")[0] for name in names} == {"source_meetlog", dist_info}
    # Every file of the package that git knows, .py or not: a schema left out of package_data fails here.
    packaged = {name for name in names if name.startswith("source_meetlog/")}
    tracked = {path.as_posix() for path in repository_files() if path.parts[0] == "source_meetlog"}
    assert packaged == tracked, f"missing: {sorted(tracked - packaged)}, unexpected: {sorted(packaged - tracked)}"


def test_given_the_wheel_then_its_metadata_names_the_package_version_dependencies_and_console_script(wheel):
    fields = Parser().parsestr(_wheel_metadata(wheel, "METADATA"))
    metadata = yaml.safe_load((REPO / "metadata.yaml").read_text())["data"]
    requires = [Requirement(r) for r in fields.get_all("Requires-Dist")]
    entry_points = _wheel_metadata(wheel, "entry_points.txt")

    assert fields["Name"] == DISTRIBUTION == metadata["remoteRegistries"]["pypi"]["packageName"]
    assert fields["Version"] == metadata["dockerImageTag"]
    main = {(r.name, r.specifier) for r in requires if r.marker is None}
    assert main == {(r.name, r.specifier) for r in map(Requirement, _setup_install_requires())}
    assert "[console_scripts]\nsource-meetlog = source_meetlog.run:run" in entry_points


# ---------------------------------------------------------------------------- the environment


def test_given_the_wheels_environment_then_the_package_is_the_wheels_and_nothing_of_the_repository_is_importable(
    venv: WheelVenv, wheel: Path, elsewhere: Path
):
    probe = _execute(elsewhere, "probe", str(venv.python), "-c", (
        "import json, sys, importlib.util, importlib.metadata as m, source_meetlog\n"
        "d = m.distribution('airbyte-source-meetlog')\n"
        "print(json.dumps({'path': sys.path, 'package': source_meetlog.__file__,"
        " 'direct_url': json.loads(d.read_text('direct_url.json') or 'null'),"
        " 'others': [n for n in ('integration_tests', 'unit_tests', 'bench') if importlib.util.find_spec(n)]}))"
    ))
    assert probe.returncode == 0, probe.stderr[-3000:]
    answer = json.loads(probe.stdout)
    purelib = venv.purelib()

    assert Path(answer["package"]).resolve().is_relative_to(purelib / "source_meetlog")
    # pip records where an installed distribution came from: this build's wheel file, not a directory.
    assert answer["direct_url"]["url"].endswith("/" + wheel.name) and "dir_info" not in answer["direct_url"]
    assert answer["others"] == []
    in_work_tree = [p for p in answer["path"] if p and _in_work_tree(Path(p).resolve(), venv)]
    assert in_work_tree == [], in_work_tree
    pip_check = _execute(elsewhere, "pip-check", str(venv.python), "-m", "pip", "check")
    assert pip_check.returncode == 0, pip_check.stdout + pip_check.stderr


def _in_work_tree(path: Path, venv: WheelVenv) -> bool:
    """Under the repository, and not the cached environment (which lives in its git-ignored .cache/)."""
    return path.is_relative_to(REPO) and not path.is_relative_to(venv.path.resolve())


# ---------------------------------------------------------------------------- the four commands


def test_given_the_wheel_when_spec_runs_then_it_prints_the_spec_with_the_api_key_secret(runs):
    [spec] = runs["spec"].of_type("SPEC")
    assert spec["spec"]["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True


def test_given_the_wheel_when_check_runs_against_the_local_api_then_it_succeeds(runs):
    [status] = runs["check"].of_type("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "SUCCEEDED", status["connectionStatus"].get("message")


def test_given_the_wheel_when_discover_runs_then_it_lists_the_four_streams_with_their_keys(runs):
    [catalog] = runs["discover"].of_type("CATALOG")
    streams = {s["name"]: s for s in catalog["catalog"]["streams"]}

    assert set(streams) == set(ALL_STREAMS)
    for name in STREAMS:
        assert streams[name]["source_defined_primary_key"] == [["id"]]
        assert streams[name]["json_schema"]["properties"], f"{name}: the schema file was not read"
    assert streams["project_transcripts"]["source_defined_primary_key"] == [["project_id"], ["transcript_id"]]


def _records(run: Run, stream: str) -> List[dict]:
    return [m["record"]["data"] for m in run.of_type("RECORD") if m["record"]["stream"] == stream]


def test_given_the_wheel_when_read_runs_then_every_stream_completes_with_each_record_once(runs, server):
    read = runs["read"]
    statuses = {t["trace"]["stream_status"]["stream_descriptor"]["name"]: t["trace"]["stream_status"]["status"]
                for t in read.of_type("TRACE") if t["trace"].get("stream_status")}
    errors = [t["trace"]["error"]["message"] for t in read.of_type("TRACE") if t["trace"].get("error")]

    assert errors == []
    assert statuses == {name: "COMPLETE" for name in ALL_STREAMS}
    for stream in STREAMS:
        expected = Counter(item["id"] for item in server.dataset.list_items(stream))
        assert expected, f"the seeded data set has no {stream}"
        assert Counter(record["id"] for record in _records(read, stream)) == expected, stream
    rows = {(r["project_id"], r["transcript_id"]): r for r in _records(read, "project_transcripts")}
    assert len(rows) == len(_records(read, "project_transcripts"))
    assert rows == {pair: {"project_id": pair[0], "transcript_id": pair[1], **fields}
                    for pair, fields in expected_project_transcripts(server).items()}


def test_given_the_wheel_when_read_runs_then_each_record_is_the_servers_detail_key_by_key(runs, server):
    """Compared as JSON (served_records.differences): a null is not an absent key, 1 is not 1.0."""
    served = served_records(server)
    found = differences({stream: _records(runs["read"], stream) for stream in STREAMS},
                        {stream: served[stream] for stream in STREAMS})
    assert not found, "records that differ from the server's detail:\n  " + "\n  ".join(found)


# ---------------------------------------------------------------------------- where the files came from


def test_given_the_wheel_when_the_commands_run_then_manifest_schemas_and_code_come_from_site_packages(runs, venv):
    opened = set().union(*(run.opened for run in runs.values()))
    package = venv.purelib() / "source_meetlog"

    assert package / "manifest.yaml" in opened
    for stream in ALL_STREAMS:
        assert package / "schemas" / f"{stream}.json" in opened, stream
    # The console script's module, as source or as the bytecode pip compiled at install.
    assert any(p.is_relative_to(package) and p.name.split(".")[0] == "run" for p in opened)
    assert sorted(str(p) for p in opened if _in_work_tree(p, venv)) == []
