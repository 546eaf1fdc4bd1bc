"""The ha topology as the cluster gets it: helm's render of every ha HelmRelease at its pinned release.

tests/rendered/ha (Thanos, Loki Monolithic, Grafana on a shared database, spec.nodes 3) and
tests/rendered/ha-variant (no Thanos, Loki SimpleScalable, spec.nodes unset) are the output of real
helm (tests/helm_render.py). What they must show: the replicas, a required anti-affinity on the node
for every replicated workload, a PodDisruptionBudget selecting each one's pods, Loki's replication
factor equal to its replicas, Thanos Query pointed at Services that select the sidecars and the
Store Gateways, and one Thanos version in every Thanos container.

The operator-run Prometheus and Alertmanager pods carry labels the operator sets (reserved in
prometheus-operator pkg/apis/monitoring/v1/prometheus_types.go:127-134 and alertmanager_types.go:78-84
at v0.93.0): their selectors are checked against those.
"""

from __future__ import annotations

import pytest
import yaml

from tests.helm_render import find, golden, of_kind, rendered

HOSTNAME = "kubernetes.io/hostname"
PROMETHEUS = "kube-prometheus-stack-prometheus"
ALERTMANAGER = "kube-prometheus-stack-alertmanager"
OPERATOR_POD_LABELS = {
    "Prometheus": {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": PROMETHEUS,
        "prometheus": PROMETHEUS,
        "operator.prometheus.io/name": PROMETHEUS,
    },
    "Alertmanager": {
        "app.kubernetes.io/name": "alertmanager",
        "app.kubernetes.io/instance": ALERTMANAGER,
        "alertmanager": ALERTMANAGER,
    },
}

# (kind, name) -> replicas, per case.
EXPECTED = {
    "ha": {
        ("Prometheus", PROMETHEUS): 2,
        ("Alertmanager", ALERTMANAGER): 3,
        ("Deployment", "kube-prometheus-stack-grafana"): 2,
        ("StatefulSet", "loki"): 3,
        ("Deployment", "thanos-query"): 2,
        ("StatefulSet", "thanos-store-gateway"): 2,
        ("StatefulSet", "thanos-compact"): 1,
    },
    "ha-variant": {
        ("Prometheus", PROMETHEUS): 2,
        ("Alertmanager", ALERTMANAGER): 3,
        ("Deployment", "kube-prometheus-stack-grafana"): 1,
        ("StatefulSet", "loki-write"): 3,
        ("Deployment", "loki-read"): 3,
        ("StatefulSet", "loki-backend"): 3,
        ("Deployment", "loki-gateway"): 2,
    },
}
CASES = sorted(EXPECTED)


def _pod_labels(obj: dict) -> dict[str, str]:
    if obj["kind"] in OPERATOR_POD_LABELS:
        return OPERATOR_POD_LABELS[obj["kind"]]
    return obj["spec"]["template"]["metadata"]["labels"]


def _affinity(obj: dict) -> dict:
    spec = obj["spec"] if obj["kind"] in OPERATOR_POD_LABELS else obj["spec"]["template"]["spec"]
    return (spec.get("affinity") or {}).get("podAntiAffinity") or {}


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    """Does a Kubernetes label selector (matchLabels, matchExpressions In/NotIn) select objects with `labels`?"""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        assert expression["operator"] in ("In", "NotIn"), expression
        if (labels.get(expression["key"]) in expression["values"]) != (expression["operator"] == "In"):
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def _workloads(case: str) -> dict[tuple[str, str], dict]:
    return {
        (o["kind"], o["metadata"]["name"]): o
        for o in of_kind(rendered(case), "Deployment", "StatefulSet", "Prometheus", "Alertmanager")
    }


@pytest.mark.parametrize("case", CASES)
def test_replicas(case: str):
    workloads = _workloads(case)
    for key, replicas in EXPECTED[case].items():
        assert key in workloads, f"{case}: no rendered {key}"
        assert workloads[key]["spec"]["replicas"] == replicas, key


@pytest.mark.parametrize("case", CASES)
def test_every_replicated_workload_requires_separate_nodes(case: str):
    """spec.nodes is 3 in ha and unset in ha-variant: either way every replica gets a node of its own."""
    replicated = [o for o in _workloads(case).values() if (o["spec"].get("replicas") or 1) > 1]
    assert len(replicated) >= 5
    for obj in replicated:
        terms = _affinity(obj).get("requiredDuringSchedulingIgnoredDuringExecution") or []
        own = [t for t in terms if t["topologyKey"] == HOSTNAME and _selects(t["labelSelector"], _pod_labels(obj))]
        assert own, f"{case}: {obj['kind']} {obj['metadata']['name']} has no required anti-affinity on its own pods"
        assert not _affinity(obj).get("preferredDuringSchedulingIgnoredDuringExecution")


@pytest.mark.parametrize("case", CASES)
def test_every_replicated_workload_has_a_disruption_budget_of_one_pod(case: str):
    budgets = of_kind(rendered(case), "PodDisruptionBudget")
    for obj in _workloads(case).values():
        replicas = obj["spec"].get("replicas") or 1
        mine = [b for b in budgets if _selects(b["spec"]["selector"], _pod_labels(obj))]
        name = f"{obj['kind']} {obj['metadata']['name']}"
        if replicas == 1:
            assert not mine, f"{case}: {name} is a single pod, and a budget would block every node drain"
            continue
        assert len(mine) == 1, f"{case}: {name} has {len(mine)} PodDisruptionBudgets"
        spec = mine[0]["spec"]
        allowed = spec["maxUnavailable"] if "maxUnavailable" in spec else replicas - spec["minAvailable"]
        assert allowed == 1, f"{case}: {name} lets {allowed} of {replicas} pods go at once"


def test_the_loki_gateway_has_its_budget():
    budget = find(rendered("ha-variant", "loki"), "PodDisruptionBudget", "loki-gateway")
    assert budget["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize(("case", "replicas"), [("ha", 3), ("ha-variant", 3)])
def test_loki_replication_factor_is_its_replicas(case: str, replicas: int):
    config = yaml.safe_load(find(rendered(case, "loki"), "ConfigMap", "loki")["data"]["config.yaml"])
    assert config["common"]["replication_factor"] == replicas
    assert config["schema_config"]["configs"][0]["object_store"] == "s3"
    assert config["compactor"]["delete_request_store"] == "s3"


def test_loki_monolithic_runs_every_target_behind_the_loki_service():
    objects = rendered("ha", "loki")
    loki = find(objects, "StatefulSet", "loki")
    container = loki["spec"]["template"]["spec"]["containers"][0]
    assert "-target=all" in container["args"]
    assert {e["name"] for e in container["env"]} >= {"LOKI_S3_ACCESS_KEY_ID", "LOKI_S3_SECRET_ACCESS_KEY"}
    assert not of_kind([o for o in objects if "gateway" in o["metadata"]["name"]], "Deployment")
    service = find(objects, "Service", "loki")
    assert _selects({"matchLabels": service["spec"]["selector"]}, _pod_labels(loki))
    assert 3100 in {p["port"] for p in service["spec"]["ports"]}


def _query_args() -> list[str]:
    query = find(rendered("ha", "thanos"), "Deployment", "thanos-query")
    return query["spec"]["template"]["spec"]["containers"][0]["args"]


def _srv_service(endpoint: str) -> tuple[str, str]:
    """dnssrv+_grpc._tcp.<service>.<namespace>.svc[...] -> (namespace, service)."""
    host = endpoint.removeprefix("--endpoint=dnssrv+_grpc._tcp.").split(".")
    return host[1], host[0]


def test_thanos_query_discovers_the_sidecars_and_the_store_gateways():
    endpoints = [a for a in _query_args() if a.startswith("--endpoint=dnssrv+_grpc._tcp.")]
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in of_kind(rendered("ha"), "Service")}
    prometheus = find(rendered("ha", "kube-prometheus-stack"), "Prometheus")
    store_gateway = find(rendered("ha", "thanos"), "StatefulSet", "thanos-store-gateway")
    found = set()
    for endpoint in endpoints:
        service = services[_srv_service(endpoint)]
        # SRV records for every pod: a headless Service with a port named grpc.
        assert service["spec"].get("clusterIP") == "None", endpoint
        assert "grpc" in {p["name"] for p in service["spec"]["ports"]}, endpoint
        for target in (prometheus, store_gateway):
            if _selects({"matchLabels": service["spec"]["selector"]}, _pod_labels(target)):
                found.add(target["kind"])
    assert found == {"Prometheus", "StatefulSet"}, endpoints
    # The sidecar's StoreAPI is the Prometheus pods' grpc port only when the CR asks for the sidecar.
    assert prometheus["spec"]["thanos"]["objectStorageConfig"]["key"] == "thanos-objstore.yaml"


def test_thanos_query_deduplicates_on_the_label_prometheus_sets():
    prometheus = find(rendered("ha", "kube-prometheus-stack"), "Prometheus")
    label = prometheus["spec"]["replicaExternalLabelName"]
    assert f"--query.replica-label={label}" in _query_args()


def test_one_thanos_version_everywhere():
    prometheus = find(rendered("ha", "kube-prometheus-stack"), "Prometheus")
    operator = find(rendered("ha", "kube-prometheus-stack"), "Deployment", "kube-prometheus-stack-operator")
    default = next(a for a in operator["spec"]["template"]["spec"]["containers"][0]["args"] if "thanos-default" in a)
    images = {prometheus["spec"]["thanos"]["image"], default.split("=", 1)[1]}
    for obj in of_kind(rendered("ha", "thanos"), "Deployment", "StatefulSet"):
        images |= {c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}
    assert images == {"quay.io/thanos/thanos:v0.42.4"}
    assert prometheus["spec"]["thanos"]["version"] == "v0.42.4"


def test_thanos_reads_its_object_store_from_the_users_secret():
    for obj in of_kind(rendered("ha", "thanos"), "StatefulSet"):
        volumes = {v["name"]: v for v in obj["spec"]["template"]["spec"]["volumes"]}
        assert volumes["objstore-config"]["secret"]["secretName"] == "monitoring-secrets"
        mounts = obj["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        mount = next(m for m in mounts if m["name"] == "objstore-config")
        assert mount["subPath"] == "thanos-objstore.yaml"
    assert not of_kind(rendered("ha", "thanos"), "Secret")  # nothing generated in clear


def test_thanos_is_scraped_under_the_jobs_its_alerts_name():
    from krm_fn.components import thanos_rules

    services = {s["metadata"]["name"]: s for s in of_kind(rendered("ha", "thanos"), "Service")}
    for monitor in of_kind(rendered("ha", "thanos"), "ServiceMonitor"):
        (service,) = [s for s in services.values() if _selects(monitor["spec"]["selector"], s["metadata"]["labels"])]
        job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
        assert job in {thanos_rules.QUERY_JOB, thanos_rules.STORE_JOB, thanos_rules.COMPACT_JOB}
    sidecars = find(rendered("ha", "kube-prometheus-stack"), "ServiceMonitor", "kube-prometheus-stack-thanos-sidecar")
    assert "jobLabel" not in sidecars["spec"]  # the job is the Service's name
    assert _selects(
        sidecars["spec"]["selector"],
        find(rendered("ha", "kube-prometheus-stack"), "Service", thanos_rules.SIDECAR_JOB)["metadata"]["labels"],
    )


def test_grafana_replicas_share_the_users_database_and_keep_nothing_on_a_volume():
    objects = rendered("ha", "kube-prometheus-stack")
    grafana = find(objects, "Deployment", "kube-prometheus-stack-grafana")
    (container,) = [c for c in grafana["spec"]["template"]["spec"]["containers"] if c["name"] == "grafana"]
    env = {e["name"]: e for e in container["env"]}
    assert env["GF_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "monitoring-secrets",
        "key": "grafana-database-url",
    }
    assert not [o for o in of_kind(objects, "PersistentVolumeClaim") if "grafana" in o["metadata"]["name"]]
    volumes = {v["name"]: v for v in grafana["spec"]["template"]["spec"]["volumes"]}
    assert "persistentVolumeClaim" not in volumes["storage"]
    headless = find(objects, "Service", "kube-prometheus-stack-grafana-headless")
    assert 9094 in {p["port"] for p in headless["spec"]["ports"]}
    ini = find(objects, "ConfigMap", "kube-prometheus-stack-grafana")["data"]["grafana.ini"]
    assert "ha_peers = kube-prometheus-stack-grafana-headless.monitoring.svc:9094" in ini


def test_without_thanos_grafana_reads_one_prometheus_replica_per_client():
    objects = rendered("ha-variant", "kube-prometheus-stack")
    service = find(objects, "Service", PROMETHEUS)
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert "thanos" not in find(objects, "Prometheus")["spec"]
    assert not [o for o in golden("ha-variant") if "thanos" in o["metadata"]["name"]]
