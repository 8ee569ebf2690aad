# syntax=docker/dockerfile:1
# The sagemcp reference server, with every connector of this repository installed as a plugin.
#
#   docker build -t sagemcp .
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp -v sagemcp-data:/data sagemcp
#
# Without SAGEMCP_DATABASE_URL the server keeps SQLite and its generated key file under /data;
# docs/deployment.md covers PostgreSQL, docker compose and the Helm chart. A connector
# published elsewhere is one more layer: FROM this image, `RUN pip install sagemcp-connector-foo`.

# A Debian-based CPython 3.11 image with `python3 -m venv`; both stages must use the same one,
# since the virtual environment is built against its interpreter.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY . .
# Wheels of core, the server and every connector, and of everything they depend on. Core is named
# on the command line so that the others' dependency on it resolves to this checkout.
RUN python3 -m venv /opt/build \
 && /opt/build/bin/pip wheel --wheel-dir /wheels ./sagemcp-core ./sagemcp-server ./sagemcp-connector-*

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sagemcp" \
      org.opencontainers.image.description="Multi-tenant Model Context Protocol server for SaaS connectors" \
      org.opencontainers.image.source="https://github.com/sagemcp/sagemcp" \
      org.opencontainers.image.documentation="https://github.com/sagemcp/sagemcp/blob/main/docs/deployment.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="sagemcp developers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# The wheels are mounted, not copied, so that no layer of this image carries them.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python3 -m venv /opt/sagemcp \
 && /opt/sagemcp/bin/pip install --no-cache-dir --no-index --disable-pip-version-check /wheels/*.whl \
 && groupadd --system --gid 10001 sagemcp \
 && useradd --uid 10001 --gid sagemcp --home-dir /data --no-create-home --shell /usr/sbin/nologin sagemcp \
 && mkdir -p /data \
 && chown sagemcp:sagemcp /data \
 && chmod 0700 /data

COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/sagemcp-entrypoint

# Nothing is written outside /data and /tmp (the plugin loader's cache): the root filesystem can be read-only.
ENV PATH=/opt/sagemcp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/cache \
    SAGEMCP_HOST=0.0.0.0 \
    SAGEMCP_PORT=8000 \
    SAGEMCP_DATA_DIR=/data \
    SAGEMCP_LOG_FORMAT=json
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000

# The slim base has no curl: the standard library asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SAGEMCP_PORT', '8000') + '/healthz', timeout=4)"]

# `sagemcp` with SAGEMCP_<NAME>_FILE read into SAGEMCP_<NAME> (secrets as files): deploy/docker/entrypoint.sh.
ENTRYPOINT ["sagemcp-entrypoint"]
CMD ["serve"]
