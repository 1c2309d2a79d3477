"""README.md and docs/meetlog.md stay true: what they show is run, and what they list is what the
connector has.

- `make read` (integration_tests/demo_read.py) reads every record of all three streams, exit 0.
- Every command in the README's code blocks exists: Makefile targets, the console script and its
  subcommands, modules, files, extras, the Docker image tag the image test builds.
- The config references name exactly the spec's properties, with its required flags and defaults;
  the streams tables name exactly the discovered streams, with their keys, cursors and fields.
- Relative links resolve; docs/meetlog.md's troubleshooting quotes every message the connector
  can emit; its changelog's latest version is setup.py's; metadata.yaml's icon is a square SVG.
"""

import ast
import importlib.util
import json
import logging
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Set

import pytest
import yaml

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessageSerializer, Type

from integration_tests.meetlog_server import build_dataset
from source_meetlog import SourceMeetlog

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "meetlog.md"
STREAMS = ("transcripts", "reports", "projects")
CONNECTOR_COMMANDS = {"spec", "check", "discover", "read"}
# Any config the connector accepts: discover builds the streams without a request.
OFFLINE_CONFIG = {"api_key": "tk_live_readmeTestKey0001"}


# ---------------------------------------------------------------------------- markdown helpers


def _section(path: Path, heading: str) -> str:
    """The text under `## heading` (or ###), up to the next heading of the same or a higher level."""
    text = path.read_text()
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, flags=re.MULTILINE)
    assert match, f"{path.name} has no heading '{heading}'"
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


def _table(section: str) -> List[Dict[str, str]]:
    """The first markdown table in `section`, as one dict per row keyed by header."""
    lines = [line.strip() for line in section.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    header, body = rows[0], rows[2:]
    return [dict(zip(header, row)) for row in body]


def _first_code(cell: str) -> str:
    return re.findall(r"`([^`]+)`", cell)[0]


def _top_level_codes(cell: str) -> Set[str]:
    """`a`, `b` (`x`, `y` each) -> {"a", "b"}: names inside parentheses describe a nested field."""
    return set(re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cell)))


def _code_block_lines(path: Path) -> Iterator[str]:
    for block in re.findall(r"^```bash\n(.*?)^```", path.read_text(), flags=re.MULTILINE | re.DOTALL):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                yield line


# ---------------------------------------------------------------------------- spec and catalog


@pytest.fixture(scope="module")
def spec_schema() -> dict:
    return SourceMeetlog().spec(logging.getLogger("airbyte")).connectionSpecification


@pytest.fixture(scope="module")
def catalog() -> dict:
    discovered = SourceMeetlog(config=OFFLINE_CONFIG).discover(logging.getLogger("airbyte"), OFFLINE_CONFIG)
    return {stream.name: stream for stream in discovered.streams}


def _makefile_targets() -> Set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def _setup_call_keyword(name: str):
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            for keyword in node.keywords:
                if keyword.arg == name:
                    return keyword.value
    raise AssertionError(f"setup.py passes no {name}= to setup()")


def _setup_version() -> str:
    match = re.search(r'^VERSION = "([^"]+)"', (ROOT / "setup.py").read_text(), flags=re.MULTILINE)
    assert match, "setup.py has no VERSION constant"
    return match.group(1)


# ---------------------------------------------------------------------------- make read


@pytest.mark.slow
def test_given_the_local_api_when_make_read_runs_then_it_prints_every_record_of_the_three_streams_and_exits_0():
    """Runs what `make read` runs (the Makefile's recipe is checked below), with this test's Python."""
    finished = subprocess.run(
        [sys.executable, "-m", "integration_tests.demo_read"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )

    assert finished.returncode == 0, f"exit {finished.returncode}\n{finished.stderr[-3000:]}"
    messages = [AirbyteMessageSerializer.load(json.loads(line)) for line in finished.stdout.splitlines()]
    records = Counter(message.record.stream for message in messages if message.type == Type.RECORD)
    dataset = build_dataset()
    assert records == {stream: len(dataset.list_items(stream)) for stream in STREAMS}
    assert not [m for m in messages if m.type == Type.TRACE and m.trace.error is not None]


def test_make_read_runs_the_demo_module():
    venv = Path(sys.prefix)
    dry_run = subprocess.run(
        # --no-print-directory: under another make (as in CI) make would add "Leaving directory" lines.
        ["make", "--no-print-directory", "-n", "read", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
        timeout=30,
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert dry_run.stdout.strip().splitlines()[-1] == f"{venv}/bin/python -m integration_tests.demo_read"


# ---------------------------------------------------------------------------- README commands


def _setup_name() -> str:
    return ast.literal_eval(_setup_call_keyword("name"))


def _wheel_name() -> str:
    """The file `pip wheel` builds from setup.py (a pure-Python wheel, as its name says)."""
    return f"{_setup_name().replace('-', '_')}-{_setup_version()}-py3-none-any.whl"


def _check_command(line: str) -> None:
    words = shlex.split(line)
    program, args = words[0], words[1:]
    for wheel in [word for word in words if word.endswith(".whl")]:
        assert Path(wheel).name == _wheel_name(), f"`{line}`: setup.py builds {_wheel_name()}"
    if program == "make":
        assert set(args) <= _makefile_targets(), f"`{line}`: no such Makefile target"
    elif program == ".":
        assert args == [".venv/bin/activate"] and re.search(r"^VENV \?= \.venv$", (ROOT / "Makefile").read_text(), re.M)
    elif Path(program).name == "source-meetlog":  # on PATH, or in another virtual environment
        scripts = ast.literal_eval(_setup_call_keyword("entry_points"))["console_scripts"]
        assert "source-meetlog=source_meetlog.run:run" in scripts
        assert args[0] in CONNECTOR_COMMANDS, f"`{line}`: no such connector command"
        AirbyteEntrypoint.parse_args(args)  # exits on arguments the command does not take
        _check_paths(args)
    elif re.search(r"python3?$", program) and args[:1] == ["-m"]:
        assert importlib.util.find_spec(args[1]) is not None, f"`{line}`: no module {args[1]}"
    elif program.endswith("python"):
        assert (ROOT / args[0]).is_file(), f"`{line}`: no file {args[0]}"
        _check_paths(args[1:])
    elif program.endswith("pip") and args[:2] == ["install", "-e"]:
        extras = re.fullmatch(r"\.\[([\w,]+)\]", args[2]).group(1).split(",")
        declared = {key.value for key in _setup_call_keyword("extras_require").keys}
        assert set(extras) <= declared, f"`{line}`: setup.py declares the extras {declared}"
    elif program.endswith("pip") and args[:1] == ["wheel"]:
        assert "--no-deps" in args and args[-1] == ".", f"`{line}`: the connector's own wheel, from the repository"
    elif program.endswith("pip") and args[:1] == ["install"]:
        # The wheel (its name checked above), or the distribution by setup.py's name.
        assert all(arg.endswith(".whl") or arg == _setup_name() for arg in args[1:]), f"`{line}`"
    elif program == "docker":
        from integration_tests.test_docker_image import IMAGE

        assert IMAGE in args, f"`{line}`: the image test builds and runs {IMAGE}"
        if args[0] == "build":
            dockerfile = (ROOT / "Dockerfile").read_text()
            assert re.search(r"^ARG BASE_IMAGE=", dockerfile, flags=re.MULTILINE)
            assert args[-1] == "."
        else:
            command = args[args.index(IMAGE) + 1 :]
            assert args[0] == "run" and command[0] in CONNECTOR_COMMANDS
            AirbyteEntrypoint.parse_args(command)
    else:
        raise AssertionError(f"README shows `{line}`, which this test does not know how to check: teach it")


def _check_paths(args: List[str]) -> None:
    """Files the repository provides must exist; secrets/ and state.json are the user's own."""
    for flag, value in zip(args, args[1:]):
        if flag in ("--config", "--catalog", "--state") and not value.startswith(("secrets/", "/secrets/", "state.json")):
            assert (ROOT / value).is_file(), f"{flag} {value}: no such file in the repository"


@pytest.mark.parametrize("line", list(_code_block_lines(README)))
def test_every_command_the_readme_shows_exists(line):
    _check_command(line)


def test_the_readme_shows_the_two_fresh_machine_commands():
    lines = list(_code_block_lines(README))
    assert "make test" in lines and "make read" in lines
    recipe = re.search(r"^test: setup\n\t(.+)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert recipe and "pytest" in recipe.group(1)


@pytest.mark.slow
def test_the_installed_console_script_runs():
    script = Path(sys.executable).parent / "source-meetlog"
    spec = subprocess.run([str(script), "spec"], capture_output=True, text=True, timeout=60)
    assert spec.returncode == 0 and json.loads(spec.stdout.splitlines()[-1])["type"] == "SPEC"


# ---------------------------------------------------------------------------- config and streams


@pytest.mark.parametrize("path, heading", [(README, "Configuration"), (DOCS, "Configuration reference")])
def test_the_config_reference_names_exactly_the_spec_properties_with_their_defaults(path, heading, spec_schema):
    rows = {_first_code(row[next(iter(row))]): row for row in _table(_section(path, heading))}
    properties = spec_schema["properties"]

    assert set(rows) == set(properties)
    for name, row in rows.items():
        assert row["Required"].lower().startswith("yes") == (name in spec_schema.get("required", [])), name
        if "default" in properties[name]:
            default = json.dumps(properties[name]["default"]).strip('"')  # false, not Python's False
            assert default in row["Default"], f"{name}: default {default}"


@pytest.mark.parametrize("path, heading", [(README, "Streams"), (DOCS, "Supported streams")])
def test_the_streams_table_names_exactly_the_discovered_streams_keys_cursors_and_fields(path, heading, catalog):
    rows = {_first_code(row["Stream"]): row for row in _table(_section(path, heading))}

    assert set(rows) == set(catalog)
    for name, stream in catalog.items():
        row = rows[name]
        assert [[key] for key in re.findall(r"`([^`]+)`", row["Primary key"])] == stream.source_defined_primary_key, name
        assert re.findall(r"`([^`]+)`", row["Cursor"]) == (stream.default_cursor_field or []), name
        assert _top_level_codes(row["Fields"]) == set(stream.json_schema["properties"]), name
        resource = "projects" if name == "project_transcripts" else name  # built from the projects' details
        assert f"/api/v1/export/{resource}" in row["Endpoints"] and f"/api/v1/export/{resource}/{{id}}" in row["Endpoints"]
        modes = row["Sync modes"].lower()
        assert all(mode.value.replace("_", " ") in modes for mode in stream.supported_sync_modes), name


# ---------------------------------------------------------------------------- links, messages, changelog


@pytest.mark.parametrize("path", [README, DOCS])
def test_relative_links_resolve(path):
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.is_file(), f"{path.name} links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.MULTILINE)
            slugs = {re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings}
            assert anchor in slugs, f"{path.name} links to #{anchor}, not a heading of {linked.name}"


def _literal_parts(node: ast.AST) -> List[str]:
    """The literal text of a message expression: f"{x} is empty: remove…" -> [" is empty: remove…"]."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [part.value for part in node.values if isinstance(part, ast.Constant)]
    if isinstance(node, (ast.BinOp, ast.IfExp)):
        return [p for child in (getattr(node, "left", None), getattr(node, "right", None), getattr(node, "body", None),
                                getattr(node, "orelse", None)) if child is not None for p in _literal_parts(child)]
    return []


def _connector_messages() -> Iterator[List[str]]:
    """Each warning or error message source_meetlog/ can emit, as its literal parts."""
    for path in sorted((ROOT / "source_meetlog").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                # _report_once(…, message): the warnings about data that differs from the documentation
                position = {"ConfigError": 1, "CheckFailed": 0, "warning": 0, "_report_once": -1}.get(name)
                if position is not None and len(node.args) > position:
                    yield _literal_parts(node.args[position])
            elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
                for statement in ast.walk(node):
                    if isinstance(statement, ast.Assign) and any(getattr(t, "id", None) == "message" for t in statement.targets):
                        yield _literal_parts(statement.value)

    def error_messages(node) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "error_message" and isinstance(value, str):
                    yield value
                else:
                    yield from error_messages(value)
        elif isinstance(node, list):
            for item in node:
                yield from error_messages(item)

    manifest = yaml.safe_load((ROOT / "source_meetlog" / "manifest.yaml").read_text())
    for message in error_messages(manifest):
        yield re.split(r"\{\{.*?\}\}", " ".join(message.split()))


def _signature(part: str) -> str:
    """The start of a literal part, without leading punctuation: what a quote in the docs begins with."""
    return " ".join(re.sub(r"^[^\w]+", "", part).split())[:24]


def test_the_troubleshooting_section_quotes_every_message_the_connector_can_emit():
    """Each literal stretch of a message (between its placeholders) must start a quote in the docs,
    so a reworded message fails here until its row is updated too."""
    docs = " ".join(_section(DOCS, "Troubleshooting").split())
    missing = []
    for parts in _connector_messages():
        signatures = [_signature(part) for part in parts if len(_signature(part)) >= 15]
        missing += [f"{max(parts, key=len).strip()!r} (at '{s}')" for s in signatures if s not in docs][:1]
    assert not missing, f"docs/meetlog.md's Troubleshooting does not quote these messages: {missing}"


def test_the_changelog_starts_with_the_version_setup_py_builds():
    rows = _table(_section(DOCS, "Changelog"))
    assert rows[0]["Version"] == _setup_version()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["Date"])


def test_the_icon_metadata_names_is_a_square_svg():
    icon = ROOT / yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]["icon"]
    root = ElementTree.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _, _, width, height = (float(n) for n in root.get("viewBox").split())
    assert width == height
