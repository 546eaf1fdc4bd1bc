# The observability-fn KRM function as a container (kustomize, kpt and Flux run it with
# --network none --user nobody). The build cannot reach PyPI: build the wheels first,
#   .venv/bin/pip wheel . -w dist/wheels        (scripts/docker.sh image does both steps)
# BASE defaults to the public image; CI builds FROM a debootstrapped local base instead.
ARG BASE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE} AS build
COPY dist/wheels /tmp/wheels
# The checks read only kubernetes-validate's strict schemas: the plain copies (~54 MB) go.
# Precompile with unchecked-hash .pyc: they stay valid whatever mtimes COPY gives, and the
# function (uid 65534, read-only /opt) could not write them at startup anyway.
RUN python3 -m venv /opt/observability-fn \
 && /opt/observability-fn/bin/pip install --no-index --no-cache-dir --no-compile \
        --disable-pip-version-check --find-links /tmp/wheels observability-fn \
 && /opt/observability-fn/bin/pip uninstall -y -q pip setuptools \
 && find /opt/observability-fn/lib -type d -path '*kubernetes-json-schema/v*-local' -prune -exec rm -rf {} + \
 && /opt/observability-fn/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        /opt/observability-fn/lib \
 && /opt/observability-fn/bin/python -c 'import krm_fn.cli'

FROM ${BASE}
ENV PATH=/opt/observability-fn/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1
COPY --from=build /opt/observability-fn /opt/observability-fn
WORKDIR /tmp
USER 65534:65534
ENTRYPOINT ["/opt/observability-fn/bin/observability-fn"]
