"""The ha profile's additions to the chart values (spec.profile, the per-component replicas).

Each function returns what to deep-merge over a chart's single-node values: nothing at all while
the topology is the single-node one, so that profile's output stays exactly what it was.
`v:` lines are in third_party/upstream/charts/kube-prometheus-stack-82.18.0/values.yaml.
"""

from __future__ import annotations

from krm_fn.charts import LOKI_SERVICE, UI_SERVICES, Service, paths
from krm_fn.components.common import service_url
from krm_fn.config import OBJECT_STORAGE_MODES, Config

# The user's SOPS Secret keys the ha profile reads (krm_fn.components.secret.required_keys lists them).
OBJSTORE_ACCESS_KEY_ID = "objstore-access-key-id"
OBJSTORE_SECRET_ACCESS_KEY = "objstore-secret-access-key"
# Thanos' object store configuration (type: S3, config: bucket, endpoint, access_key, secret_key) as
# one encrypted key: Thanos reads the file as it is and expands no environment variables, and a
# generated Secret would have to hold the credentials in clear. See docs/ha.md.
THANOS_OBJSTORE_KEY = "thanos-objstore.yaml"

# The label the operator puts on each Prometheus replica's series (the Thanos Query dedup label); the
# operator drops it from the alerts it sends, so both replicas' alerts are the same alert to Alertmanager
# (prometheus-operator pkg/prometheus/promcfg.go:1185-1199 at v0.93.0: alert_relabel_configs labeldrop).
REPLICA_LABEL = "prometheus_replica"

# Loki's gateway (nginx) in front of read and write: the one URL for Grafana and Alloy in SimpleScalable.
LOKI_GATEWAY_SERVICE = Service("loki-gateway", 80)
# Thanos Query of the thanos release (stevehipwell's thanos chart: <release>-query, HTTP port 10902,
# charts/thanos/templates/query/service.yaml at thanos-1.24.1).
THANOS_QUERY_SERVICE = Service("thanos-query", 10902)
THANOS_IMAGE = "quay.io/thanos/thanos"
# The Grafana chart's headless Service of kube-prometheus-stack's Grafana (grafana templates/headless-service.yaml)
# and the port its Alertmanager-style gossip listens on (grafana templates/_pod.tpl: gossip-tcp 9094).
GRAFANA_HEADLESS = UI_SERVICES["grafana"].name + "-headless"
GRAFANA_GOSSIP_PORT = 9094
GRAFANA_DATABASE_ENV = "GF_DATABASE_URL"  # Grafana's [database] url, from the environment
# The grafana chart's selector labels for the release kube-prometheus-stack (grafana templates/_helpers.tpl).
GRAFANA_POD_LABELS = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "kube-prometheus-stack"}


def secret_keys(config: Config) -> dict[str, str]:
    """The Secret keys the topology reads, each with what reads it."""
    keys: dict[str, str] = {}
    if config.topology.loki_mode in OBJECT_STORAGE_MODES:
        keys[OBJSTORE_ACCESS_KEY_ID] = "Loki's S3 access key (spec.objectStorage), read as an environment variable"
        keys[OBJSTORE_SECRET_ACCESS_KEY] = "Loki's S3 secret key (spec.objectStorage), read as an environment variable"
    if config.topology.thanos:
        keys[THANOS_OBJSTORE_KEY] = "Thanos' object store configuration (spec.thanos.enabled)"
    if config.grafana_database and config.grafana_operator is None:  # operator mode: your instance's database
        keys[config.grafana_database.url_key] = "Grafana's shared database URL (spec.grafana.database.urlKey)"
    return keys


def loki_service(config: Config) -> Service:
    """Where Grafana and Alloy reach Loki: the single binaries' Service, or the gateway in SimpleScalable."""
    return LOKI_GATEWAY_SERVICE if config.topology.loki_mode == "SimpleScalable" else LOKI_SERVICE


def thanos_version(config: Config) -> str:
    """The Thanos every Thanos container runs: the pinned thanos chart's appVersion (e.g. v0.42.4)."""
    version = paths.app_version("thanos", config.chart_data["thanos"])
    assert version, "the release data records every thanos release's appVersion (scripts/update-charts.py)"
    return "v" + version.lstrip("v")


def grafana_stateless(config: Config) -> bool:
    """Grafana that never gets a volume, whatever spec.grafana.persistence says (ha-topology refuses it):
    in ha (a node loss must not strand it on a ReadWriteOnce volume), with a shared database, or with
    more than one replica (one volume cannot be mounted on two nodes)."""
    return config.topology.ha or config.grafana_database is not None or config.topology.grafana_replicas > 1


def disruption_budget(replicas: int) -> dict:
    """One replica down at a time, whatever the count (minAvailable, because the chart renders it by default)."""
    return {"enabled": True, "minAvailable": replicas - 1}


def _anti_affinity(config: Config, replicas: int) -> str:
    """kube-prometheus-stack's podAntiAffinity: hard while the nodes can hold one replica each (v:4419-4424)."""
    return "hard" if config.topology.spread(replicas) else "soft"


def _grafana(config: Config) -> dict:
    topology = config.topology
    out: dict = {}
    if config.grafana_operator is not None:  # the chart's Grafana is off; your instance sets its own
        return out
    if config.grafana_database:
        out["envValueFrom"] = {
            GRAFANA_DATABASE_ENV: {"secretKeyRef": {"name": config.secret_name, "key": config.grafana_database.url_key}}
        }
    if topology.grafana_replicas > 1:
        replicas = topology.grafana_replicas
        out["replicas"] = replicas
        out["podDisruptionBudget"] = {"maxUnavailable": 1}
        out["affinity"] = pod_anti_affinity(config, replicas, GRAFANA_POD_LABELS)
        # Grafana-managed alert rules notify once, not once per replica: the replicas gossip over the
        # headless Service (the grafana chart's README, "High Availability for unified alerting").
        out["headlessService"] = True
        peers = f"{GRAFANA_HEADLESS}.{config.namespace}.svc:{GRAFANA_GOSSIP_PORT}"
        out["grafana.ini"] = {"unified_alerting": {"ha_peers": peers}}
    return out


def pod_anti_affinity(config: Config, replicas: int, labels: dict[str, str]) -> dict:
    """An `affinity` keeping pods with `labels` on separate nodes: required while spread, else preferred."""
    term = {"labelSelector": {"matchLabels": dict(labels)}, "topologyKey": "kubernetes.io/hostname"}
    if config.topology.spread(replicas):
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    preferred = [{"weight": 100, "podAffinityTerm": term}]
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}


def kube_prometheus_stack(config: Config) -> dict:
    """Prometheus and Alertmanager replicas, the Thanos sidecar, PodDisruptionBudgets and spreading; Grafana."""
    topology = config.topology
    out: dict = {}
    if topology.prometheus_replicas > 1:
        spec: dict = {
            "replicas": topology.prometheus_replicas,  # v:4383
            "replicaExternalLabelName": REPLICA_LABEL,  # v:4194
            "podAntiAffinity": _anti_affinity(config, topology.prometheus_replicas),
        }
        out["prometheus"] = {"prometheusSpec": spec, "podDisruptionBudget": disruption_budget(spec["replicas"])}
        if not topology.thanos:
            # Grafana reads the replicas through the one Service: each client stays on one replica, so a
            # graph does not mix two replicas' slightly different samples (kube-prometheus does the same).
            out["prometheus"]["service"] = {"sessionAffinity": "ClientIP"}  # v:3689
    if topology.thanos:
        version = thanos_version(config)
        spec = out.setdefault("prometheus", {}).setdefault("prometheusSpec", {})
        spec["thanos"] = {  # v:4631
            # The same Thanos as Query, Store Gateway and Compactor (thanos.py), whatever the operator's default.
            "image": f"{THANOS_IMAGE}:{version}",
            "version": version,
            "objectStorageConfig": {"existingSecret": {"name": config.secret_name, "key": THANOS_OBJSTORE_KEY}},
        }
        # The sidecars' StoreAPI (gRPC 10901) for Thanos Query (v:3524), and their metrics for the Thanos alerts.
        out["prometheus"]["thanosService"] = {"enabled": True}
        out["prometheus"]["thanosServiceMonitor"] = {"enabled": True}  # v:3565
        # Grafana's default Prometheus datasource: Thanos Query, deduplicated (kps grafana.sidecar.datasources.url;
        # grafana-operator mode writes it into its GrafanaDatasource instead).
        if config.grafana_operator is None:
            url = service_url(THANOS_QUERY_SERVICE, config.namespace)
            out["grafana"] = {"sidecar": {"datasources": {"url": url}}}
    if topology.alertmanager_replicas > 1:
        # The operator meshes the replicas (--cluster.peer per pod): one notification per group.
        replicas = topology.alertmanager_replicas
        out["alertmanager"] = {
            "alertmanagerSpec": {"replicas": replicas, "podAntiAffinity": _anti_affinity(config, replicas)},  # v:1046
            "podDisruptionBudget": disruption_budget(replicas),  # v:502
        }
    grafana = _grafana(config)
    if grafana:
        out["grafana"] = {**out.get("grafana", {}), **grafana}
    return out
