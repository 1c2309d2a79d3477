"""Setup shared by unit_tests/ and integration_tests/ (each keeps its own conftest beside it).

`component_schema_parsed_once`: every SourceMeetlog() the tests build (about one per in-process read,
hundreds in a run) has the CDK parse its declarative component schema, a 2,000-line YAML file, to
validate the manifest against: ~0.13 s of pure-Python YAML each time, about a fifth of the fast
tier's CPU. The file never changes during a run, so it is parsed once per process and each source
gets its own copy of the result (unpickled, ~1 ms), as fresh as a new parse. The manifest itself is
still read and validated by each source, and every command started as a process parses both anew.
"""

from __future__ import annotations

import pickle
from typing import Iterator

import pytest

from airbyte_cdk.sources.declarative import concurrent_declarative_source


@pytest.fixture(scope="session", autouse=True)
def component_schema_parsed_once() -> Iterator[None]:
    parse = concurrent_declarative_source.get_declarative_component_schema
    parsed = pickle.dumps(parse())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(concurrent_declarative_source, "get_declarative_component_schema", lambda: pickle.loads(parsed))
        yield
