"""What every Loki mode shares: the schema, the object store, the values some releases only read.

`v:` lines are in third_party/upstream/charts/loki-6.55.0/values.yaml; docs/reference/charts.md#6-loki-audit has
the evidence for every correction. Each mode has its module (loki_monolithic, loki_scalable); loki.py
picks one and builds the HelmRelease and the Grafana datasource.
"""

from __future__ import annotations

from krm_fn.charts.paths import node_at, version_key
from krm_fn.components import profile
from krm_fn.config import Config

CHART = "loki"
# From this release the chart calls the single-binary mode `Monolithic` and `SingleBinary` is a
# deprecated alias (grafana-community/helm-charts tag loki-12.0.0, commit ddfed21a "Set `deploymentMode`
# to `Monolithic` (#258)", charts/loki/values.yaml `deploymentMode`; 11.7.0 knows only SingleBinary).
MONOLITHIC_SINCE = "12.0.0"

# Required by the chart (render fails without a schema); the 24h index period is what retention needs.
SCHEMA = {
    "from": "2024-04-01",
    "store": "tsdb",
    "object_store": "filesystem",
    "schema": "v13",
    "index": {"prefix": "loki_index_", "period": "24h"},
}

# The credentials reach Loki as environment variables from the user's Secret, and Loki expands
# ${VAR} in its config file with -config.expand-env=true: the values hold only the variable names.
ACCESS_KEY_ENV = "LOKI_S3_ACCESS_KEY_ID"
SECRET_KEY_ENV = "LOKI_S3_SECRET_ACCESS_KEY"
EXPAND_ENV = "-config.expand-env=true"
# The values hold ${LOKI_S3_...} for Loki's -config.expand-env; Flux's postBuild substitution would
# otherwise replace them (with nothing) before Loki ever sees them.
FLUX_SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"


def common() -> dict:
    """The values every mode writes."""
    return {
        # Off for a small cluster: together the two memcached caches request ~11Gi of memory (v:3658, v:3769).
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        # Top level (the seed's monitoring.lokiCanary is ignored); the Helm test needs the canary.
        "lokiCanary": {"enabled": False},  # v:782
        "test": {"enabled": False},  # v:752
        # Prometheus scrapes Loki for the log-path alerts (prometheus_rules).
        "monitoring": {"serviceMonitor": {"enabled": True}},
    }


def schema_config(object_store: str) -> dict:
    return {"configs": [dict(SCHEMA, object_store=object_store, index=dict(SCHEMA["index"]))]}  # v:531


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


def disruption_budget(config: Config, target: str) -> dict:
    """One pod of `target` (singleBinary, gateway) down at a time, where the release reads it.

    From loki 18.0.0 the chart renders these budgets only with a minAvailable or maxUnavailable set
    (LOKI templates/_pdb.tpl); loki 6.x renders the gateway's by itself (maxUnavailable 1 when it has
    more than one replica) and earlier releases have no such value for the single binary.
    """
    if node_at(CHART, config.chart_data[CHART], [target, "podDisruptionBudget", "maxUnavailable"]) is None:
        return {}
    return {target: {"podDisruptionBudget": {"maxUnavailable": 1}}}


def deployment_mode(version: str) -> str:
    """The chart's name for single-binary mode in this release: never a deprecated one."""
    return "Monolithic" if version_key(version) >= version_key(MONOLITHIC_SINCE) else "SingleBinary"


def object_storage(config: Config) -> dict:
    """`loki.storage` for S3-compatible object storage (spec.objectStorage), credentials by reference."""
    store = config.topology.object_storage
    assert store is not None  # the schema requires spec.objectStorage for the object-storage modes
    return {  # v:431-447
        "type": "s3",
        "bucketNames": {"chunks": store.loki_chunks_bucket, "ruler": store.loki_ruler_bucket},
        "s3": {
            "endpoint": store.endpoint,
            "region": store.region,
            "accessKeyId": "${" + ACCESS_KEY_ENV + "}",
            "secretAccessKey": "${" + SECRET_KEY_ENV + "}",
            "s3ForcePathStyle": store.path_style,
            "insecure": store.insecure,
        },
    }


def credentials_env(config: Config) -> list[dict]:
    """The S3 credentials as environment variables from the user's Secret."""
    return [
        {"name": env, "valueFrom": {"secretKeyRef": {"name": config.secret_name, "key": key}}}
        for env, key in (
            (ACCESS_KEY_ENV, profile.OBJSTORE_ACCESS_KEY_ID),
            (SECRET_KEY_ENV, profile.OBJSTORE_SECRET_ACCESS_KEY),
        )
    ]


def persistence(config: Config, retain: bool) -> dict:
    """A volume claim of spec.loki.storageSize on Loki's class (storageClass, not storageClassName: v:1560)."""
    out: dict = {"whenDeleted": "Retain", "whenScaled": "Retain"} if retain else {}
    out["size"] = config.loki.storage_size  # v:1554
    storage_class = config.storage_class_of(config.loki)
    if storage_class:
        out["storageClass"] = storage_class
    return out
