# The observability-fn KRM function as a container (kustomize, kpt and Flux run it with
# --network none --user nobody). From a clone:
#
#   docker build -t observability-fn .
#
# installs the package and its dependencies from PyPI inside the build. Build arguments:
#   BASE           the Python 3.11+ image both stages start from (CI: a debootstrapped local one)
#   PIP_INDEX_URL  another package index (a mirror or proxy of PyPI)
#   WHEELS         offline: a directory of the build context holding every wheel needed, the
#                  build backend's included (.dockerignore lets dist/wheels through), made on a
#                  host with the same Python minor version and CPU architecture:
#                    pip wheel -w dist/wheels . "setuptools>=77"     (scripts/docker.sh image does it)
#                    docker build --build-arg WHEELS=dist/wheels .
# Only instructions the classic builder knows too (no RUN --mount, no named build contexts), so
# BuildKit (docker buildx, build-push-action) builds it as well; CI here has the classic one.
ARG BASE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE} AS build
ARG WHEELS=
ARG PIP_INDEX_URL
COPY . /src
# The package is built from the sources in /src on both paths. The checks read only
# kubernetes-validate's strict schemas: the plain copies (~54 MB) go. Precompile with
# unchecked-hash .pyc: they stay valid whatever mtimes COPY gives, and the function (uid 65534,
# read-only /opt) could not write them at startup anyway. For the same reason one run with the
# default config leaves what krm_fn/pycache.py keeps next to the bytecode (compiled regexes, the
# default Kubernetes version's definitions, the default charts' values trees): ~25 ms a call.
RUN set -eu; \
    [ -n "${PIP_INDEX_URL-}" ] || unset PIP_INDEX_URL; \
    if [ -n "$WHEELS" ]; then set -- --no-index --find-links "/src/$WHEELS"; else set --; fi; \
    python3 -m venv /opt/observability-fn; \
    /opt/observability-fn/bin/pip install --no-cache-dir --no-compile --disable-pip-version-check "$@" /src; \
    /opt/observability-fn/bin/pip uninstall -y -q pip setuptools; \
    find /opt/observability-fn/lib -type d -path '*kubernetes-json-schema/v*-local' -prune -exec rm -rf {} +; \
    /opt/observability-fn/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        /opt/observability-fn/lib; \
    /opt/observability-fn/bin/python -c 'import krm_fn.cli'; \
    printf '%s\n' 'apiVersion: config.kubernetes.io/v1' 'kind: ResourceList' 'items: []' 'functionConfig:' \
        '  apiVersion: observability.catinthehack.ca/v1alpha1' '  kind: ObservabilityConfig' \
        '  metadata: {name: prime}' '  spec: {cluster: prime, domain: example.org, gateway: {name: g, namespace: g}}' \
        | OBSERVABILITY_FN_CACHE=off /opt/observability-fn/bin/observability-fn >/dev/null 2>&1; \
    cd /opt/observability-fn/lib/python3*/site-packages/krm_fn/__pycache__; ls re.*.bin k8s-*.bin values-*.bin

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
