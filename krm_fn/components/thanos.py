"""Thanos Query, Store Gateway and Compactor for the ha profile (Bitnami's thanos chart).

The Prometheus replicas run the Thanos sidecar (krm_fn.components.profile), which uploads their
blocks to spec.objectStorage and serves recent data over the StoreAPI. Query fans out to the
sidecars and the Store Gateway and deduplicates on the replica label; Grafana's default Prometheus
datasource points at it. `v:` lines are in third_party/upstream/charts/thanos-17.6.0/values.yaml.

Why this chart: Thanos publishes no Helm chart of its own; Bitnami's is maintained (monthly
releases), covers Query, Store Gateway and Compactor with PodDisruptionBudgets, and reads the
object store configuration from an existing Secret. Its default image (docker.io/bitnami/thanos)
is no longer published for free, so the image is the Thanos project's own, of the chart's
appVersion: the chart starts each component as `<image entrypoint> <component> <flags>`, and the
upstream image's entrypoint is the thanos binary.
"""

from __future__ import annotations

from krm_fn.components import profile, routes
from krm_fn.components.common import deep_merge, helm_release
from krm_fn.config import UI, Config

CHART = "thanos"
IMAGE = {"registry": "quay.io", "repository": "thanos/thanos", "tag": "v0.39.2"}  # Chart.yaml appVersion 0.39.2
# kube-prometheus-stack's Service in front of the sidecars' gRPC port (its prometheus.thanosService).
SIDECAR_SERVICE = "kube-prometheus-stack-thanos-discovery"
QUERY_REPLICAS = 2
STORE_GATEWAY_REPLICAS = 2
ROUTE_NAME = "thanos"
OBJSTORE_FILE = "objstore.yml"  # where the chart expects the object store configuration (v:100-103)


def _persistence(config: Config) -> dict:
    out: dict = {"enabled": True, "size": config.thanos.storage_size}
    if config.storage_class:
        out["storageClass"] = config.storage_class
    return out


def values(config: Config) -> dict:
    """The chart values, before the user's spec.values overrides."""
    resources = config.thanos.resources.to_values  # a dict per use: one shared dict would be written as a YAML anchor
    retention = config.thanos_retention
    return {
        # The chart refuses images other than Bitnami's without this (its common.warnings.modifiedImages).
        "global": {"security": {"allowInsecureImages": True}},
        "image": dict(IMAGE),
        # The user's Secret, key thanos-objstore.yaml: the same object store configuration as the sidecars.
        "existingObjstoreSecret": config.secret_name,
        "existingObjstoreSecretItems": [{"key": profile.THANOS_OBJSTORE_KEY, "path": OBJSTORE_FILE}],
        "query": {
            "enabled": True,
            "replicaCount": QUERY_REPLICAS,
            "replicaLabel": [profile.REPLICA_LABEL],  # dedup the Prometheus replicas
            "dnsDiscovery": {
                "enabled": True,
                "sidecarsService": SIDECAR_SERVICE,
                "sidecarsNamespace": config.namespace,
            },
            "resources": resources(),
            "pdb": {"create": True, "maxUnavailable": 1},
        },
        # Query serves Grafana directly; the frontend's splitting and caching pay off at larger scale.
        "queryFrontend": {"enabled": False},
        "storegateway": {
            "enabled": True,
            "replicaCount": STORE_GATEWAY_REPLICAS,
            "resources": resources(),
            "persistence": _persistence(config),
            "pdb": {"create": True, "maxUnavailable": 1},
        },
        "compactor": {
            # A singleton by design: two compactors on one bucket corrupt it.
            "enabled": True,
            "retentionResolutionRaw": retention.raw,
            "retentionResolution5m": retention.downsampled_5m,
            "retentionResolution1h": retention.downsampled_1h,
            "resources": resources(),
            "persistence": _persistence(config),
        },
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
    }


def hostname(config: Config) -> str | None:
    """Thanos Query's UI hostname: thanos.<domain>, while the Prometheus UI is exposed."""
    exposed = any(ui.name == "prometheus" for ui in config.exposed_uis)
    return f"{ROUTE_NAME}.{config.domain}" if exposed else None


def query_ui(config: Config) -> UI | None:
    """Thanos Query's UI, in the ha profile while the Prometheus UI is exposed: the same metrics over a
    longer time, so behind the Prometheus UI's access policy (spec.ui.prometheus.access or spec.access.all)."""
    prometheus = next((ui for ui in config.exposed_uis if ui.name == "prometheus"), None)
    host = hostname(config)
    if not config.topology.thanos or prometheus is None or host is None:
        return None
    return UI(ROUTE_NAME, True, host, prometheus.access)


def resources(config: Config) -> list[dict]:
    """The HelmRelease (ha profile only), after kube-prometheus-stack (its sidecars and CRDs), and its route."""
    if not config.topology.thanos:
        return []
    merged = deep_merge(values(config), config.values[CHART])
    out = [helm_release(config, CHART, merged, depends_on="kube-prometheus-stack")]
    ui = query_ui(config)
    if ui:
        # The deduplicated, long-term view next to the Prometheus UI (each replica's own view).
        out.extend(routes.exposed(config, ui, profile.THANOS_QUERY_SERVICE))
    return out
