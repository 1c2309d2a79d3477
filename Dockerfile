# The image Airbyte's own pipeline would build from metadata.yaml's connectorBuildOptions:
# its Python base image, the package installed, main.py as the entry point, run as `airbyte`.
# Classic builder only (no BuildKit syntax), so `DOCKER_BUILDKIT=0 docker build .` works anywhere.

# Pinned by digest, like metadata.yaml's baseImage (the same digest airbytehq/airbyte pins in
# source-zendesk-support). A build without a registry passes a local tag with --build-arg.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.0@sha256:d9894b6895923b379f3006fa251147806919c62b7d9021b5cd125bb67d7bbe22
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

# Dependencies first, from setup.py alone, so that a change to the connector's code reuses this
# layer instead of reinstalling the CDK (about a minute). An empty package stands in for the code.
COPY --chown=airbyte:airbyte setup.py ./
RUN mkdir source_meetlog \
 && touch source_meetlog/__init__.py \
 && pip install --no-cache-dir . \
 && pip uninstall --yes source-meetlog \
 && rm -rf source_meetlog build *.egg-info

# Then the connector itself (--no-deps: the layer above has them). The base image gives /airbyte
# to the airbyte user, so its working directory and the code main.py imports are airbyte's too;
# the installed libraries stay root's.
COPY --chown=airbyte:airbyte main.py ./
COPY --chown=airbyte:airbyte source_meetlog ./source_meetlog
RUN pip install --no-cache-dir --no-deps . \
 && rm -rf build *.egg-info \
 && chown airbyte:airbyte /airbyte/integration_code

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

# Equal to metadata.yaml's dockerImageTag and setup.py's version (unit_tests/test_metadata.py).
LABEL io.airbyte.version=0.2.0
LABEL io.airbyte.name=airbyte/source-meetlog

USER airbyte
