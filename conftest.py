"""Setup shared by unit_tests/ and integration_tests/ (each keeps its own conftest beside it).

How pytest-xdist shares out the tests (`make test`: `-n auto --dist load`): each test goes to
whichever worker is free, except the modules of WHOLE_MODULES, which go whole to one worker, so that
their module-scoped fixtures (a Docker image, the wheel's environment, a server and the reads made
against it, a server on the fixed port of the CDK's standard suite) are made once, as in one process.
Whole modules are handed out first, most tests first, the single tests after them. (xdist's own
`--dist loadgroup` with `xdist_group` marks would say this per module, but with pytest 9.2 and
xdist 3.8 the marks are ignored: xdist sets `item._nodeid`, which pytest 9.2 no longer reads.)

`manifest_work_done_once`: every SourceMeetlog() the tests build (about one per in-process read,
about 500 in the fast tier, thousands in the model test) has the CDK parse its declarative component
schema (a 2,000-line YAML file, ~0.13 s of pure-Python YAML), resolve and propagate the manifest's
references (~0.06 s) and validate the result against the schema (~0.02 s). Each is a pure function
of files that never change during a run, so each is done once per process for a given input, and
each source gets its own copy of the result (unpickled, ~1 ms), as fresh as a new one: a manifest
that differs (a test's edited copy) is processed and validated anew. Every command started as a
process (console script, wheel, Docker image) does all of it itself.
"""

from __future__ import annotations

import pickle
from typing import Any, Dict, Iterator, Set

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
def manifest_work_done_once() -> Iterator[None]:
    module = concurrent_declarative_source
    source_class = module.ConcurrentDeclarativeSource
    schema = pickle.dumps(module.get_declarative_component_schema())
    processed: Dict[bytes, bytes] = {}
    valid: Set[bytes] = set()
    pre_process, validate = source_class._pre_process_manifest, module.validate_manifest

    def pre_process_once(source: Any, manifest: Dict[str, Any]) -> Dict[str, Any]:
        key = pickle.dumps(manifest)
        if key not in processed:
            processed[key] = pickle.dumps(pre_process(source, manifest))
        return pickle.loads(processed[key])

    def validate_once(manifest: Any, component_schema: Any) -> None:
        key = pickle.dumps((manifest, component_schema))
        if key not in valid:
            validate(manifest, component_schema)  # raises on an invalid one, which is never remembered
            valid.add(key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "get_declarative_component_schema", lambda: pickle.loads(schema))
        patch.setattr(source_class, "_pre_process_manifest", pre_process_once)
        patch.setattr(module, "validate_manifest", validate_once)
        yield
