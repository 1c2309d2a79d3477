# The image Airbyte's own pipeline would build from metadata.yaml's connectorBuildOptions: its
# Python base image, the connector installed from its wheel, main.py as the entry point, run as
# `airbyte`. Classic builder only (no BuildKit syntax), so `DOCKER_BUILDKIT=0 docker build .` works
# anywhere; the two stages are plain multi-stage builds, which the classic builder supports.
#
# What the final image holds beyond the base image (BENCHMARKS.md, "Docker image", has the sizes):
# - the connector's dependencies (airbyte-cdk and what it requires), with their bytecode, which
#   spares each container start compiling the CDK (site-packages is root's, so Python could not
#   cache it at run time) - but without their own test suites (pandas/tests, numpy/*/tests, ...);
# - the package source_meetlog, installed from the wheel into site-packages: code, manifest.yaml
#   and schemas, as `pip install airbyte-source-meetlog` gives them;
# - /airbyte/integration_code/main.py, the entry point Airbyte's Python connectors share
#   (AIRBYTE_ENTRYPOINT below): four lines that call the console script's function. It is the only
#   file of the repository in the image; its directory holds nothing else, so the import finds the
#   installed package. No setup.py, no source tree, no wheel, no pip cache, no build/ or egg-info.

# Pinned by digest, like metadata.yaml's baseImage (the same digest airbytehq/airbyte pins in
# source-zendesk-support). A build without a registry passes a local tag with --build-arg.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.0@sha256:d9894b6895923b379f3006fa251147806919c62b7d9021b5cd125bb67d7bbe22

# ---------------------------------------------------------------- stage 1: the wheels, then discarded
FROM ${BASE_IMAGE} AS wheels
WORKDIR /build

# First a wheel of setup.py alone (an empty package stands in for the code): it names the
# dependencies, and stays the same file while setup.py does, so the final stage's dependency
# layer is reused when only the connector's code changes (installing the CDK takes a minute).
COPY setup.py ./
RUN mkdir source_meetlog \
 && touch source_meetlog/__init__.py \
 && pip wheel --no-cache-dir --no-deps --quiet --wheel-dir /wheels/dependencies . \
 && rm -rf source_meetlog build *.egg-info

# Then the connector's own wheel, the one `pip wheel .` builds from the repository.
COPY source_meetlog ./source_meetlog
RUN pip wheel --no-cache-dir --no-deps --quiet --wheel-dir /wheels/connector .

# ---------------------------------------------------------------- stage 2: the image
FROM ${BASE_IMAGE}

# The dependencies, as the stand-in wheel's metadata names them; its own (empty) package is
# removed again. Test suites of the dependencies are deleted in the same layer, where the files
# were added, so that they take no space in the image (one `find` over what pip wrote just now).
COPY --from=wheels /wheels/dependencies/ /tmp/dependencies/
RUN touch /tmp/before-dependencies \
 && pip install --no-cache-dir --quiet /tmp/dependencies/*.whl \
 && pip uninstall --yes --quiet airbyte-source-meetlog \
 && site_packages=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && find "$site_packages" -mindepth 2 -type d -name tests -newer /tmp/before-dependencies -prune \
      -exec rm -rf {} + \
 && rm -rf /tmp/dependencies /tmp/before-dependencies

# The connector, from its wheel (--no-deps: the layer above has them). The installed files stay
# root's; the working directory and main.py are airbyte's (the base image gives it /airbyte).
COPY --from=wheels /wheels/connector/ /tmp/connector/
RUN pip install --no-cache-dir --no-deps --quiet /tmp/connector/*.whl \
 && rm -rf /tmp/connector

COPY --chown=airbyte:airbyte main.py /airbyte/integration_code/
WORKDIR /airbyte/integration_code

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

# Equal to metadata.yaml's dockerImageTag and setup.py's version (unit_tests/test_metadata.py).
LABEL io.airbyte.version=0.4.2
LABEL io.airbyte.name=airbyte/source-meetlog

USER airbyte
