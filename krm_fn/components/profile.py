"""The ha profile's additions to the chart values (spec.profile, the per-component replicas).

Each function returns what to deep-merge over a chart's single-node values: nothing at all while
the topology is the single-node one, so that profile's output stays exactly what it was.
`v:` lines are in third_party/upstream/charts/kube-prometheus-stack-82.18.0/values.yaml.
"""

from __future__ import annotations

from krm_fn.charts import LOKI_SERVICE, Service
from krm_fn.components.common import service_url
from krm_fn.config import Config

# The user's SOPS Secret keys the ha profile reads (krm_fn.components.secret.required_keys lists them).
OBJSTORE_ACCESS_KEY_ID = "objstore-access-key-id"
OBJSTORE_SECRET_ACCESS_KEY = "objstore-secret-access-key"
# Thanos' object store configuration (type: S3, config: bucket, endpoint, access_key, secret_key) as
# one encrypted key: the sidecar reads the file as it is and expands no environment variables, and a
# generated Secret would have to hold the credentials in clear. See the README, Scaling out.
THANOS_OBJSTORE_KEY = "thanos-objstore.yaml"

# The label the operator puts on each Prometheus replica's series (the Thanos Query dedup label).
REPLICA_LABEL = "prometheus_replica"

# Loki's gateway (nginx) in front of read and write: the one URL for Grafana and Alloy in SimpleScalable.
LOKI_GATEWAY_SERVICE = Service("loki-gateway", 80)
# Thanos Query of the thanos release (Bitnami's <release>-query, HTTP port 9090).
THANOS_QUERY_SERVICE = Service("thanos-query", 9090)


def secret_keys(config: Config) -> dict[str, str]:
    """The Secret keys the topology reads, each with what reads it."""
    keys: dict[str, str] = {}
    if config.topology.loki_mode == "SimpleScalable":
        keys[OBJSTORE_ACCESS_KEY_ID] = "Loki's S3 access key (spec.objectStorage), read as an environment variable"
        keys[OBJSTORE_SECRET_ACCESS_KEY] = "Loki's S3 secret key (spec.objectStorage), read as an environment variable"
    if config.topology.thanos:
        keys[THANOS_OBJSTORE_KEY] = "the Thanos sidecar's object store configuration (the ha profile)"
    return keys


def loki_service(config: Config) -> Service:
    """Where Grafana and Alloy reach Loki: the single binary, or the gateway in SimpleScalable."""
    return LOKI_GATEWAY_SERVICE if config.topology.loki_mode == "SimpleScalable" else LOKI_SERVICE


def _disruption_budget(replicas: int) -> dict:
    # One replica down at a time, whatever the count (minAvailable, because the chart renders it by default).
    return {"enabled": True, "minAvailable": replicas - 1}


def kube_prometheus_stack(config: Config) -> dict:
    """Prometheus and Alertmanager replicas, the Thanos sidecar, PodDisruptionBudgets and spreading."""
    topology = config.topology
    out: dict = {}
    if topology.prometheus_replicas > 1:
        spec: dict = {
            "replicas": topology.prometheus_replicas,  # v:4383
            "replicaExternalLabelName": REPLICA_LABEL,  # v:4194
            # The chart's default, stated: replicas prefer different nodes (v:4419-4424).
            "podAntiAffinity": "soft",
        }
        out["prometheus"] = {"prometheusSpec": spec, "podDisruptionBudget": _disruption_budget(spec["replicas"])}
    if topology.thanos:
        spec = out.setdefault("prometheus", {}).setdefault("prometheusSpec", {})
        spec["thanos"] = {  # v:4631
            "objectStorageConfig": {"existingSecret": {"name": config.secret_name, "key": THANOS_OBJSTORE_KEY}}
        }
        # The sidecars' StoreAPI (gRPC 10901) for Thanos Query (v:3524).
        out["prometheus"]["thanosService"] = {"enabled": True}
        # Grafana's default Prometheus datasource: Thanos Query, deduplicated (kps grafana.sidecar.datasources.url;
        # grafana-operator mode writes it into its GrafanaDatasource instead).
        if config.grafana_operator is None:
            url = service_url(THANOS_QUERY_SERVICE, config.namespace)
            out["grafana"] = {"sidecar": {"datasources": {"url": url}}}
    if topology.alertmanager_replicas > 1:
        # The operator meshes the replicas (--cluster.peer per pod): one notification per group.
        out["alertmanager"] = {
            "alertmanagerSpec": {"replicas": topology.alertmanager_replicas, "podAntiAffinity": "soft"},  # v:1046
            "podDisruptionBudget": _disruption_budget(topology.alertmanager_replicas),  # v:502
        }
    return out


def alloy(config: Config) -> dict:
    """Alloy clustering (alloy-1.11.1 values.yaml:46)."""
    return {"alloy": {"clustering": {"enabled": True}}} if config.topology.alloy_clustering else {}
