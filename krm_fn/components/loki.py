"""Loki in single-binary mode on a filesystem volume, and its Grafana datasource.

`v:` lines are in third_party/upstream/charts/loki-6.55.0/values.yaml; docs/reference/charts.md#6-loki-audit has
the evidence for every correction.
"""

from __future__ import annotations

from krm_fn.charts.paths import node_at, version_key
from krm_fn.components import loki_scalable, privilege, profile
from krm_fn.components.common import deep_merge, helm_release, metadata, service_url
from krm_fn.config import Config

CHART = "loki"
# From this release the chart calls the single-binary mode `Monolithic` and `SingleBinary` is a
# deprecated alias (grafana-community/helm-charts tag loki-17.0.0, charts/loki/values.yaml `deploymentMode`).
MONOLITHIC_SINCE = "17.0.0"
DATASOURCE_NAME = "loki-datasource"
DATASOURCE_UID = "loki"  # stable, so dashboards and links can refer to it
# The Grafana sidecar's datasource label in kube-prometheus-stack (v:1502-1503 of that chart).
DATASOURCE_LABEL = {"grafana_datasource": "1"}

# Required by the chart (render fails without a schema); the 24h index period is what retention needs.
SCHEMA = {
    "from": "2024-04-01",
    "store": "tsdb",
    "object_store": "filesystem",
    "schema": "v13",
    "index": {"prefix": "loki_index_", "period": "24h"},
}


def _loki_config(config: Config) -> dict:
    return {
        "auth_enabled": False,  # v:387; single tenant, no X-Scope-OrgID
        "commonConfig": {"replication_factor": 1},  # v:423-425
        "limits_config": {"retention_period": config.loki.retention},  # v:413
        # Without these the compactor only compacts and never deletes; retention_enabled without
        # delete_request_store makes Loki fail at startup (v:576, docs/reference/charts.md#6-loki-audit).
        "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
        "schemaConfig": {"configs": [dict(SCHEMA, index=dict(SCHEMA["index"]))]},  # v:531
        "storage": {"type": "filesystem"},  # v:438
    }


def _single_binary(config: Config) -> dict:
    persistence: dict = {
        # The volume is the log store: keep it when the StatefulSet is deleted or scaled (v:1537-1543).
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
        "size": config.loki.storage_size,  # v:1554
    }
    storage_class = config.storage_class_of(config.loki)
    if storage_class:
        persistence["storageClass"] = storage_class  # v:1560 (storageClass, not storageClassName)
    return {
        "replicas": 1,  # v:1456 defaults to 0; more than 1 fails with filesystem storage
        "resources": config.loki.resources.to_values(),
        "persistence": persistence,
    }


def release_specific(config: Config) -> dict:
    """Values only some releases read: written for those, never for the others."""
    release = config.chart_data[CHART]
    out: dict = {}
    if node_at(CHART, release, ["monitoring", "serviceMonitor", "metricsInstance"]) is not None:
        # the Grafana Agent Operator's MetricsInstance, which this stack does not run (until loki 8.x)
        out["monitoring"] = {"serviceMonitor": {"metricsInstance": {"enabled": False}}}
    if node_at(CHART, release, ["clusterLabelOverride"]) is not None:
        # The ServiceMonitor relabels `cluster` to this, else to the release name ("loki"), which would
        # beat Prometheus' external label and title Loki's alerts "[loki]" (LOKI monitoring/servicemonitor.yaml).
        # Releases without the key (18.0.0 on) set no `cluster` label unless monitoring.multiCluster asks.
        out["clusterLabelOverride"] = config.cluster  # v:47
    return out


def deployment_mode(version: str) -> str:
    """The chart's name for single-binary mode in this release: never a deprecated one."""
    return "Monolithic" if version_key(version) >= version_key(MONOLITHIC_SINCE) else "SingleBinary"


def values(config: Config) -> dict:
    """The chart values, before the user's spec.values overrides."""
    release = config.chart_data[CHART]
    out = {
        "deploymentMode": deployment_mode(release),  # v:59
        "loki": _loki_config(config),
        "singleBinary": _single_binary(config),
        # The simple-scalable targets default to 3 replicas each; the chart refuses both modes at once.
        "backend": {"replicas": 0},  # v:1857
        "read": {"replicas": 0},  # v:1720
        "write": {"replicas": 0},  # v:1578
        "gateway": {"enabled": False},  # v:1054; clients talk to the loki Service on 3100
        # Both memcached caches are on by default and request ~11Gi of memory (v:3658, v:3769).
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        # Top level (the seed's monitoring.lokiCanary is ignored); the Helm test needs the canary.
        "lokiCanary": {"enabled": False},  # v:782
        "test": {"enabled": False},  # v:752
        # Prometheus scrapes Loki for the log-path alerts (prometheus_rules). The MetricsInstance is for
        # the deprecated Grafana Agent Operator, which this stack does not run.
        "monitoring": {"serviceMonitor": {"enabled": True}},
    }
    out = deep_merge(out, release_specific(config))
    return out


def datasource(config: Config) -> dict:
    """The ConfigMap the Grafana sidecar provisions Loki from (it watches its own namespace)."""
    url = service_url(profile.loki_service(config), config.namespace)
    provisioning = (
        "apiVersion: 1\n"
        "datasources:\n"
        "  - name: Loki\n"
        "    type: loki\n"
        f"    uid: {DATASOURCE_UID}\n"
        "    access: proxy\n"
        f"    url: {url}\n"
        "    isDefault: false\n"
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(DATASOURCE_NAME, config.namespace, DATASOURCE_LABEL),
        "data": {"loki-datasource.yaml": provisioning},
    }


def resources(config: Config) -> list[dict]:
    """The HelmRelease (after kube-prometheus-stack) and the Grafana datasource ConfigMap."""
    scalable = config.topology.loki_mode == "SimpleScalable"
    merged = deep_merge((loki_scalable.values if scalable else values)(config), privilege.loki(config))
    merged = deep_merge(merged, config.values[CHART])
    release = helm_release(config, CHART, merged, depends_on="kube-prometheus-stack")
    if scalable:
        # The values hold ${LOKI_S3_...} for Loki's -config.expand-env; Flux's postBuild substitution
        # would otherwise replace them (with nothing) before Loki ever sees them.
        release["metadata"]["annotations"] = {loki_scalable.FLUX_SUBSTITUTE: "disabled"}
    return [release, datasource(config)]
