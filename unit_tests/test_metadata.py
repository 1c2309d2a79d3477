"""metadata.yaml, the Dockerfile and setup.py describe one release of one image.

metadata.yaml is loaded with the CDK's own model (`airbyte_cdk.models.connector_metadata`), the
one its standard test suite reads; the checks below add what that permissive model leaves out.
"""

import ast
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile

from source_meetlog.components.key_pool import DEFAULT_MAX_WAIT_SECONDS
from source_meetlog.core.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
PINNED_IMAGE = re.compile(r"^docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def metadata() -> MetadataFile:
    return MetadataFile.from_file(ROOT / "metadata.yaml")


@pytest.fixture(scope="module")
def data(metadata: MetadataFile) -> dict:
    # The model keeps unknown fields as extras; a plain dict reads them all alike.
    return metadata.data.model_dump()


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _dockerfile_label(dockerfile: str, name: str) -> str:
    found = re.findall(rf"^LABEL\s+{re.escape(name)}=(\S+)\s*$", dockerfile, flags=re.MULTILINE)
    assert len(found) == 1, f"expected one LABEL {name} in the Dockerfile, found {found}"
    return found[0]


def _dockerfile_base_image(dockerfile: str) -> str:
    found = re.findall(r"^ARG\s+BASE_IMAGE=(\S+)\s*$", dockerfile, flags=re.MULTILINE)
    assert len(found) == 1, f"expected one `ARG BASE_IMAGE=` default in the Dockerfile, found {found}"
    return found[0]


def _setup_py_version() -> str:
    """The `version=` given to setup(), followed to a module-level constant if it names one."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            for keyword in node.keywords:
                if keyword.arg == "version":
                    value = keyword.value
                    return value.value if isinstance(value, ast.Constant) else constants[value.id]
    raise AssertionError("setup.py passes no version= to setup()")


def test_image_tag_equals_dockerfile_label_and_package_version(metadata: MetadataFile, dockerfile: str) -> None:
    assert metadata.data.dockerImageTag == _dockerfile_label(dockerfile, "io.airbyte.version") == _setup_py_version()


def test_image_name_equals_dockerfile_label(metadata: MetadataFile, dockerfile: str) -> None:
    assert metadata.data.dockerRepository == "airbyte/source-meetlog"
    assert _dockerfile_label(dockerfile, "io.airbyte.name") == metadata.data.dockerRepository


def test_base_image_is_pinned_by_digest_and_shared_with_the_dockerfile(metadata: MetadataFile, dockerfile: str) -> None:
    base_image = metadata.data.connectorBuildOptions.baseImage
    assert PINNED_IMAGE.match(base_image), base_image
    assert _dockerfile_base_image(dockerfile) == base_image


def test_tags_make_the_standard_suite_import_the_python_source(metadata: MetadataFile) -> None:
    # language:python makes airbyte_cdk.test.standard_tests import source_meetlog.SourceMeetlog.
    assert metadata.data.language == ConnectorLanguage.PYTHON
    assert set(metadata.data.tags) == {"language:python", "cdk:low-code"}


def test_given_the_metadata_then_its_identity_fields_name_meetlog_an_alpha_community_api_source(data: dict) -> None:
    assert data["connectorType"] == "source"
    assert data["connectorSubtype"] == "api"
    assert data["name"] == "Meetlog"
    assert data["githubIssueLabel"] == "source-meetlog"
    assert data["license"] == "MIT"
    assert data["releaseStage"] == "alpha"
    assert data["supportLevel"] == "community"
    assert str(uuid.UUID(data["definitionId"])) == data["definitionId"]


def test_documentation_url_is_the_specs(data: dict) -> None:
    manifest = yaml.safe_load((ROOT / "source_meetlog" / "manifest.yaml").read_text())
    assert data["documentationUrl"] == manifest["spec"]["documentation_url"]


def test_allowed_hosts_cover_the_default_base_url(data: dict) -> None:
    assert urlsplit(DEFAULTS["base_url"]).hostname in data["allowedHosts"]["hosts"]


def test_silence_allowed_outlasts_the_longest_rate_limit_wait(data: dict) -> None:
    """The key pool waits out a Retry-After of up to DEFAULT_MAX_WAIT_SECONDS without a message;
    the platform must not kill the sync first, and a rate window (60 s) must fit on top."""
    assert isinstance(data["maxSecondsBetweenMessages"], int)
    assert data["maxSecondsBetweenMessages"] >= DEFAULT_MAX_WAIT_SECONDS + 60


def test_given_the_metadata_then_the_oss_and_cloud_registries_are_enabled_and_pypi_is_not(data: dict) -> None:
    assert data["registryOverrides"] == {"oss": {"enabled": True}, "cloud": {"enabled": True}}
    assert data["remoteRegistries"]["pypi"]["enabled"] is False


def test_breaking_changes_when_listed_name_released_versions(data: dict) -> None:
    # Airbyte's schema rejects an empty `breakingChanges`; when present, keys are x.y.z versions.
    breaking_changes = data.get("releases", {}).get("breakingChanges")
    if breaking_changes is not None:
        assert breaking_changes, "leave breakingChanges out until there is one"
        assert all(re.fullmatch(r"\d+\.\d+\.\d+", str(version)) for version in breaking_changes)


# ---------------------------------------------------------------------------- one name, one version

DOCUMENTS = ("README.md", "docs/meetlog.md", "examples/pyairbyte_to_duckdb.py")


def _setup_py_name() -> str:
    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "setup")
    return next(k.value.value for k in call.keywords if k.arg == "name")


def test_the_distribution_is_named_as_metadata_publishes_it(data: dict) -> None:
    # PyAirbyte installs `airbyte-<connector name>` unless the registry names another package.
    assert _setup_py_name() == data["remoteRegistries"]["pypi"]["packageName"] == f"airbyte-{data['dockerRepository'].split('/')[1]}"


def test_the_dockerfile_installs_and_uninstalls_the_distribution_by_its_name(dockerfile: str) -> None:
    uninstalled = re.findall(r"pip uninstall (?:--\S+ )*(\S+)", dockerfile)
    assert uninstalled == [_setup_py_name()]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_wheel_and_image_tag_the_docs_name_is_this_version(document: str) -> None:
    text = (ROOT / document).read_text()
    wheels = re.findall(r"([\w.]*source_meetlog)-(\d+\.\d+\.\d+)-py3-none-any\.whl", text)
    tags = re.findall(r"`airbyte/source-meetlog`, tag `([^`]+)`", text)
    installs = re.findall(r"pip install ([\w-]*source-meetlog)\b", text)

    assert {(name, version) for name, version in wheels} <= {(_setup_py_name().replace("-", "_"), _setup_py_version())}
    assert set(tags) <= {_setup_py_version()}
    assert set(installs) <= {_setup_py_name()}
    assert wheels or tags or installs, f"{document} names no wheel, tag or package: drop it from DOCUMENTS"
