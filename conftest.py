"""Setup shared by unit_tests/ and integration_tests/ (each keeps its own conftest beside it).

How pytest-xdist shares out the tests (`make test`: `-n auto --dist load`): each test goes to
whichever worker is free, except the modules of WHOLE_MODULES, which go whole to one worker, so that
their module-scoped fixtures (a Docker image, the wheel's environment, a server and the reads made
against it, a server on the fixed port of the CDK's standard suite) are made once, as in one process.
Whole modules are handed out first, most tests first, the single tests after them. (xdist's own
`--dist loadgroup` with `xdist_group` marks would say this per module, but with pytest 9.2 and
xdist 3.8 the marks are ignored: xdist sets `item._nodeid`, which pytest 9.2 no longer reads.)

`component_schema_parsed_once`: every SourceMeetlog() the tests build (about one per in-process read,
hundreds in a run) has the CDK parse its declarative component schema, a 2,000-line YAML file, to
validate the manifest against: ~0.13 s of pure-Python YAML each time, about a fifth of the fast
tier's CPU. The file never changes during a run, so it is parsed once per process and each source
gets its own copy of the result (unpickled, ~1 ms), as fresh as a new parse. The manifest itself is
still read and validated by each source, and every command started as a process parses both anew.
"""

from __future__ import annotations

import pickle
from typing import Any, Iterator

import pytest

from airbyte_cdk.sources.declarative import concurrent_declarative_source

WHOLE_MODULES = frozenset(
    f"integration_tests/{name}.py"
    for name in (
        "test_change_detection",
        "test_column_selection",
        "test_config_fuzz",
        "test_console_script",
        "test_docker_image",
        "test_killed_sync",
        "test_pyairbyte",
        "test_pyairbyte_changes",
        "test_pyairbyte_nulls",
        "test_records_as_served",
        "test_secrets",
        "test_standard_suite",
        "test_sync_guarantee",  # one test of ~150 s: started first, not left to be the run's tail
        "test_wheel",
    )
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "load":
        return None  # another --dist asked for: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class WholeModulesScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

    return WholeModulesScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def component_schema_parsed_once() -> Iterator[None]:
    parse = concurrent_declarative_source.get_declarative_component_schema
    parsed = pickle.dumps(parse())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(concurrent_declarative_source, "get_declarative_component_schema", lambda: pickle.loads(parsed))
        yield
