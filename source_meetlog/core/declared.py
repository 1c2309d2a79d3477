"""What manifest.yaml and the schema files declare once and the Python side reads too: the cursor formats,
the spec, each stream's columns."""

import json
from functools import lru_cache
from importlib import resources
from typing import Any, FrozenSet, Mapping

import yaml


@lru_cache(maxsize=None)
def manifest() -> Mapping[str, Any]:
    # libyaml's loader where PyYAML has it: a tenth of the pure-Python one's 20 ms, once per process.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = resources.files("source_meetlog").joinpath("manifest.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=loader)


def connection_specification() -> Mapping[str, Any]:
    return manifest()["spec"]["connection_specification"]


def schema(stream: str) -> Mapping[str, Any]:
    """A stream's schema file (a few kB, read as each read builds its streams, as the CDK's loader does)."""
    return json.loads(resources.files("source_meetlog").joinpath(f"schemas/{stream}.json").read_text())


def schema_columns(stream: str) -> FrozenSet[str]:
    """The top-level columns a stream's schema file declares."""
    return frozenset(schema(stream)["properties"])
