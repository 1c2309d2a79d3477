"""The agent connector's schemas (source_meetlog/agent/connector.yaml) say what the Export API serves,
and agree with the ELT source's (source_meetlog/schemas/*.json): one truth, two files, this test.

- Each entity's detail schema has exactly the source stream's fields, less `_ab_cdc_deleted_at`
  (a marker the source adds, never served), with the same types, `null` included, and formats.
- Each list item schema is the detail schema less the fields only Get serves, field for field.
- Every list item and detail of the local Meetlog API's data set (nulls among them) validates
  against the strict schemas: no field missing, none undeclared, no type off.
- The context-store fields are fields of their entity, with the same types.

No SDK needed: the YAML is read as YAML, so this runs in the main environment (make test's first
pytest); integration_tests/test_agent_connector.py runs the spec through the SDK.
"""

from pathlib import Path
from typing import Any, Dict

import jsonschema
import pytest
import yaml

from integration_tests.meetlog_server import build_dataset

PACKAGE = Path(__file__).resolve().parent.parent / "source_meetlog"
CONNECTOR_YAML = PACKAGE / "agent" / "connector.yaml"
SOURCE_ONLY_FIELDS = {"_ab_cdc_deleted_at"}  # set by the source on deletion markers, not served by the API

# entity -> (detail schema, list item schema, fields only Get serves)
ENTITIES = {
    "transcripts": ("Transcript", "TranscriptSummary", {"text", "summary", "file_size_mb", "report_ids"}),
    "reports": ("Report", "ReportSummary", {"content"}),
    "projects": ("Project", "ProjectSummary", {"transcripts"}),
}


def _resolve(node: Any, root: Dict[str, Any]) -> Any:
    """Every internal $ref replaced by what it points to (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, root)
        return {key: _resolve(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, root) for item in node]
    return node


@pytest.fixture(scope="module")
def spec() -> Dict[str, Any]:
    raw = yaml.safe_load(CONNECTOR_YAML.read_text())
    return _resolve(raw, raw)


@pytest.fixture(scope="module")
def schemas(spec) -> Dict[str, Any]:
    return spec["components"]["schemas"]


def _source_schema(entity: str) -> Dict[str, Any]:
    return yaml.safe_load((PACKAGE / "schemas" / f"{entity}.json").read_text())


def _types(field: Dict[str, Any]) -> set:
    kind = field.get("type")
    return set(kind) if isinstance(kind, list) else {kind}


def _assert_same_field(name: str, agent: Dict[str, Any], source: Dict[str, Any]) -> None:
    assert _types(agent) == _types(source), f"{name}: agent {agent.get('type')} != source {source.get('type')}"
    assert agent.get("format") == source.get("format"), f"{name}: format"
    if "items" in source:
        assert "items" in agent, f"{name}: items"
        _assert_same_field(f"{name}[]", agent["items"], source["items"])
    if "properties" in source:
        assert set(agent.get("properties", {})) == set(source["properties"]), f"{name}: nested fields"
        for child, child_schema in source["properties"].items():
            _assert_same_field(f"{name}.{child}", agent["properties"][child], child_schema)


@pytest.mark.parametrize("entity", ENTITIES)
def test_each_detail_schema_has_the_source_streams_fields_and_types(entity, schemas):
    detail = schemas[ENTITIES[entity][0]]
    source = _source_schema(entity)

    assert set(detail["properties"]) == set(source["properties"]) - SOURCE_ONLY_FIELDS
    for name, field in detail["properties"].items():
        _assert_same_field(f"{entity}.{name}", field, source["properties"][name])
    assert detail["properties"]["id"]["type"] == "string"  # the one field never null, in both


@pytest.mark.parametrize("entity", ENTITIES)
def test_each_list_item_schema_is_the_detail_schema_without_the_detail_only_fields(entity, schemas):
    detail_name, item_name, detail_only = ENTITIES[entity]
    detail, item = schemas[detail_name], schemas[item_name]

    assert set(item["properties"]) == set(detail["properties"]) - detail_only
    assert all(item["properties"][name] == detail["properties"][name] for name in item["properties"])


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_record_the_local_api_serves_validates_against_the_strict_schemas(entity, schemas):
    """additionalProperties: false and every field required: a field added, dropped or retyped by the
    API (as the local server models it) fails here. The data set has nulls in every nullable kind."""
    detail_name, item_name, _ = ENTITIES[entity]
    dataset = build_dataset()
    items = dataset.list_items(entity)
    assert items

    for item in items:
        jsonschema.validate(item, schemas[item_name])
        jsonschema.validate(dataset.detail(entity, item["id"], "acme"), schemas[detail_name])


def test_the_list_pages_meta_schema_is_what_the_api_serves(schemas):
    items, total = build_dataset().page("transcripts", "acme", 1, 2)
    served = {"items": items, "meta": {"page": 1, "page_size": 2, "total": total, "total_pages": -(-total // 2)}}
    jsonschema.validate(served, schemas["TranscriptsList"])


def test_the_context_store_fields_are_fields_of_their_entity_with_the_same_types(spec, schemas):
    entities = spec["info"]["x-airbyte-context-store"]["entities"]

    assert {entity["entity"] for entity in entities} == set(ENTITIES)
    for entity in entities:
        detail = schemas[ENTITIES[entity["entity"]][0]]
        assert entity["x-airbyte-name"] == detail["x-airbyte-stream-name"] == entity["entity"]
        for field in entity["fields"]:
            declared = detail["properties"][field["name"]]
            assert set(field["type"]) == _types(declared) | {"null"}, f"{entity['entity']}.{field['name']}"
