from setuptools import find_packages, setup

VERSION = "0.4.2"

MAIN_REQUIREMENTS = [
    "airbyte-cdk~=7.39.1",  # the version cdk_internals.py was read from (README: moving to a newer CDK)
    "requests>=2.31,<3",
    "pendulum>=3.0,<4",
]

# The agent connector (source_meetlog/agent/connector.yaml) runs on Airbyte's agent SDK, never on the
# source itself: an extra. 0.1.380 is the version the spec was validated and tested with. It needs
# cryptography>=48.0.1, which PyAirbyte (<=0.71.3: cryptography<47) cannot share, so the two extras
# go in separate environments (the Makefile's agent venv).
AGENT_REQUIREMENTS = [
    "airbyte-agent-sdk>=0.1.380,<0.2",
]

TEST_REQUIREMENTS = [
    "pytest>=8,<10",
    "pytest-xdist>=3.5,<4",  # make test runs the suite on every core
    "hypothesis>=6.100,<7",
    "requests-mock>=1.12,<2",
    # make lint (ruff.toml, mypy.ini): ruff's rules change between minor releases, so one minor.
    "ruff>=0.17,<0.18",
    "mypy>=1.20,<2",
    "types-PyYAML>=6,<7",
    "types-requests>=2.31,<3",
]

setup(
    # Airbyte's convention for a published Python connector (metadata.yaml's
    # remoteRegistries.pypi.packageName), the name PyAirbyte installs by default. The console
    # script stays `source-meetlog`, the import package `source_meetlog`.
    name="airbyte-source-meetlog",
    version=VERSION,
    description="Airbyte source connector for the Meetlog Export API: transcripts, reports and projects.",
    author="source-meetlog maintainers",
    # Only the connector: an exclude list missed the test helpers' subpackages
    # (unit_tests.integration, integration_tests.meetlog_server), which the wheel then installed.
    packages=find_packages(include=("source_meetlog", "source_meetlog.*")),
    python_requires=">=3.10,<3.14",
    install_requires=MAIN_REQUIREMENTS,
    package_data={"source_meetlog": ["manifest.yaml", "schemas/*.json", "agent/connector.yaml"]},
    extras_require={"tests": TEST_REQUIREMENTS, "pyairbyte": ["airbyte>=0.30,<1"], "agent": AGENT_REQUIREMENTS},
    entry_points={"console_scripts": ["source-meetlog=source_meetlog.run:run"]},
)
