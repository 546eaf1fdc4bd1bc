"""spec.profile and the per-component overrides: the model, the generated values, the Secret keys.

What helm makes of these values (replicas, anti-affinity, budgets, endpoints) is asserted on the
rendered objects in tests/test_ha_rendered.py.
"""

from __future__ import annotations

import json

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.checks.values import check_values
from krm_fn.components import profile
from krm_fn.components.secret import required_keys
from tests.helpers import config_with, context, default_config

STORE = {"endpoint": "minio.storage.svc:9000", "buckets": {"lokiChunks": "loki-chunks", "lokiRuler": "loki-ruler"}}
DATABASE = {"urlKey": "grafana-database-url"}


def load(config: dict) -> config_model.Config:
    cfg, errors = config_model.load(config)
    assert cfg is not None, [r.message for r in errors]
    return cfg


def objects(config: dict) -> list[dict]:
    return components.generate(load(config))


def release(config: dict, name: str) -> dict:
    (found,) = [o for o in objects(config) if o["kind"] == "HelmRelease" and o["metadata"]["name"] == name]
    return found


def errors(config: dict) -> list[str]:
    cfg, results = config_model.load(config)
    assert cfg is None
    return [f"{r.field}: {r.message}" for r in results]


def ha(**spec) -> dict:
    return config_with(profile="ha", objectStorage=STORE, **spec)


def test_an_explicit_single_node_profile_renders_exactly_the_default():
    dump = lambda c: json.dumps(components.generate(load(c)))  # noqa: E731
    assert dump(config_with(profile="single-node")) == dump(default_config())


def test_profile_defaults():
    single = load(default_config()).topology
    assert (single.prometheus_replicas, single.alertmanager_replicas, single.grafana_replicas) == (1, 1, 1)
    assert (single.loki_mode, single.loki_replicas, single.loki_replication_factor) == ("SingleBinary", 1, 1)
    assert (single.thanos, single.object_storage) == (False, None)
    many = load(ha()).topology
    assert (many.prometheus_replicas, many.alertmanager_replicas, many.grafana_replicas) == (2, 3, 1)
    assert (many.loki_mode, many.loki_replicas, many.loki_replication_factor) == ("Monolithic", 3, 3)
    assert many.thanos
    assert many.object_storage.endpoint == "minio.storage.svc:9000"
    assert (many.object_storage.region, many.object_storage.path_style, many.object_storage.insecure) == (
        "us-east-1",
        True,
        False,
    )
    assert load(ha(grafana={"database": DATABASE})).topology.grafana_replicas == 2


def test_per_component_overrides_beat_the_profile():
    topology = load(
        ha(
            prometheus={"replicas": 3},
            alertmanager={"replicas": 1},
            loki={"mode": "SingleBinary"},
            thanos={"enabled": False},
            grafana={"replicas": 3, "database": DATABASE},
        )
    ).topology
    assert (topology.prometheus_replicas, topology.alertmanager_replicas, topology.grafana_replicas) == (3, 1, 3)
    assert (topology.loki_mode, topology.loki_replicas, topology.loki_replication_factor) == ("SingleBinary", 1, 1)
    assert not topology.thanos
    assert load(config_with(thanos={"enabled": True})).topology.thanos  # Thanos behind a single Prometheus


def test_ha_without_object_storage_is_refused_with_the_ways_out():
    assert errors(config_with(profile="ha")) == [
        "spec: spec.profile: ha runs Loki as replicated single binaries on object storage (spec.loki.mode: "
        "Monolithic): set spec.objectStorage (endpoint and buckets), or spec.loki.mode: SingleBinary for one Loki "
        "on a volume, or spec.profile: single-node"
    ]
    # Loki on a volume and no Thanos: nothing of the ha profile needs the bucket.
    topology = load(config_with(profile="ha", loki={"mode": "SingleBinary"}, thanos={"enabled": False})).topology
    assert (topology.prometheus_replicas, topology.object_storage) == (2, None)


@pytest.mark.parametrize("mode", ["Monolithic", "SimpleScalable"])
def test_object_storage_modes_without_object_storage_are_refused(mode: str):
    (message,) = errors(config_with(loki={"mode": mode}))
    assert message.startswith("spec: spec.loki.mode Monolithic and SimpleScalable keep the logs in object storage")


@pytest.mark.parametrize(
    ("store", "field"),
    [
        ({"buckets": STORE["buckets"]}, "spec.objectStorage.endpoint"),
        ({"endpoint": "minio:9000"}, "spec.objectStorage.buckets"),
        ({"endpoint": "minio:9000", "buckets": {"lokiChunks": "c"}}, "spec.objectStorage.buckets.lokiRuler"),
        ({**STORE, "endpoint": "https://minio:9000"}, "spec.objectStorage.endpoint"),
    ],
)
def test_incomplete_object_storage_names_the_missing_field(store: dict, field: str):
    assert [e.split(": ")[0] for e in errors(config_with(profile="ha", objectStorage=store))] == [field]


def test_alloy_clustering_is_refused_with_why_and_what_to_do():
    (message,) = errors(config_with(alloy={"clustering": True}))
    assert message.startswith("spec.alloy.clustering: field 'clustering' is no longer accepted")
    assert "read positions" in message and "delete this field" in message


def test_kube_prometheus_stack_values_in_ha():
    values = release(ha(), "kube-prometheus-stack")["spec"]["values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert (spec["replicas"], spec["replicaExternalLabelName"], spec["podAntiAffinity"]) == (
        2,
        "prometheus_replica",
        "hard",
    )
    assert spec["thanos"] == {
        "image": "quay.io/thanos/thanos:v0.42.4",
        "version": "v0.42.4",
        "objectStorageConfig": {"existingSecret": {"name": "monitoring-secrets", "key": "thanos-objstore.yaml"}},
    }
    assert values["prometheus"]["thanosServiceMonitor"] == {"enabled": True}
    assert values["prometheus"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert values["alertmanager"]["alertmanagerSpec"]["replicas"] == 3
    assert values["alertmanager"]["alertmanagerSpec"]["podAntiAffinity"] == "hard"
    assert values["alertmanager"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 2}


def test_anti_affinity_is_required_while_the_declared_nodes_allow_it():
    def affinity(**spec) -> tuple[str, str]:
        values = release(ha(**spec), "kube-prometheus-stack")["spec"]["values"]
        return (
            values["prometheus"]["prometheusSpec"]["podAntiAffinity"],
            values["alertmanager"]["alertmanagerSpec"]["podAntiAffinity"],
        )

    assert affinity() == ("hard", "hard")  # spec.nodes unset: the ha profile assumes enough nodes
    assert affinity(nodes=3) == ("hard", "hard")
    assert affinity(nodes=2) == ("hard", "soft")  # 3 Alertmanagers cannot have a node each
    thanos = release(ha(nodes=1, loki={"replicas": 1}), "thanos")["spec"]["values"]
    assert list(thanos["query"]["affinity"]["podAntiAffinity"]) == ["preferredDuringSchedulingIgnoredDuringExecution"]


def test_user_values_still_override_the_profile():
    config = ha(values={"kube-prometheus-stack": {"prometheus": {"podDisruptionBudget": {"minAvailable": 0}}}})
    values = release(config, "kube-prometheus-stack")["spec"]["values"]
    assert values["prometheus"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 0}


def _credentials(block: dict) -> None:
    assert "-config.expand-env=true" in block["extraArgs"]
    keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in block["extraEnv"]}
    assert keys == {"objstore-access-key-id", "objstore-secret-access-key"}


def test_loki_monolithic_replicates_on_the_bucket_and_reads_credentials_from_the_secret_only():
    loki = release(ha(), "loki")
    values = loki["spec"]["values"]
    assert values["deploymentMode"] == "Monolithic"
    assert [values[t]["replicas"] for t in ("singleBinary", "read", "write", "backend")] == [3, 0, 0, 0]
    assert values["loki"]["commonConfig"]["replication_factor"] == 3
    assert values["loki"]["compactor"] == {"retention_enabled": True, "delete_request_store": "s3"}
    assert values["loki"]["schemaConfig"]["configs"][0]["object_store"] == "s3"
    s3 = values["loki"]["storage"]["s3"]
    assert (s3["accessKeyId"], s3["secretAccessKey"]) == ("${LOKI_S3_ACCESS_KEY_ID}", "${LOKI_S3_SECRET_ACCESS_KEY}")
    _credentials(values["singleBinary"])
    assert values["singleBinary"]["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert values["gateway"] == {"enabled": False}
    # Flux's postBuild substitution would blank the ${...} references.
    assert loki["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"


def test_loki_replication_factor_follows_the_replicas():
    def rf(replicas: int) -> int:
        values = release(ha(loki={"replicas": replicas}), "loki")["spec"]["values"]
        assert values["singleBinary"]["replicas"] == replicas
        return values["loki"]["commonConfig"]["replication_factor"]

    assert [rf(n) for n in (1, 2, 3, 5)] == [1, 1, 3, 3]


def test_loki_simple_scalable_stays_selectable():
    loki = release(ha(loki={"mode": "SimpleScalable"}), "loki")
    values = loki["spec"]["values"]
    assert values["deploymentMode"] == "SimpleScalable"
    assert [values[t]["replicas"] for t in ("read", "write", "backend", "singleBinary")] == [3, 3, 3, 0]
    assert values["loki"]["commonConfig"]["replication_factor"] == 3
    for target in ("read", "write", "backend"):
        _credentials(values[target])
    assert values["gateway"] == {"enabled": True, "replicas": 2, "podDisruptionBudget": {"maxUnavailable": 1}}
    assert loki["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"


@pytest.mark.parametrize(
    ("loki", "url"),
    [
        ({}, "http://loki.monitoring.svc:3100"),
        ({"mode": "SimpleScalable"}, "http://loki-gateway.monitoring.svc:80"),
    ],
)
def test_grafana_and_alloy_reach_loki_where_the_mode_serves_it(loki: dict, url: str):
    generated = objects(ha(loki=loki))
    (datasource,) = [o for o in generated if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "loki-datasource"]
    assert f"url: {url}\n" in datasource["data"]["loki-datasource.yaml"]
    alloy = release(ha(loki=loki), "alloy")["spec"]["values"]["alloy"]
    assert f'url = "{url}/loki/api/v1/push"' in alloy["configMap"]["content"]


@pytest.mark.parametrize("config", [default_config(), ha()], ids=["single-node", "ha"])
def test_alloy_is_one_replica_and_never_clusters(config: dict):
    """One StatefulSet replica reads every container, its positions on its claim: no component opts in to
    clustering, the chart's clustering stays off, and no node selector narrows what it discovers."""
    values = release(config, "alloy")["spec"]["values"]
    assert values["controller"]["type"] == "statefulset" and values["controller"]["replicas"] == 1
    assert "clustering" not in values["alloy"]
    assert "clustering" not in values["alloy"]["configMap"]["content"]
    assert "spec.nodeName" not in values["alloy"]["configMap"]["content"]


def test_single_node_generates_none_of_it():
    text = yaml.safe_dump(components.generate(load(default_config())))
    for word in ("thanos", "SimpleScalable", "loki-gateway", "clustering", "replicaExternalLabelName", "GF_DATABASE"):
        assert word not in text


def test_required_secret_keys_follow_the_topology():
    single = set(required_keys(load(default_config())))
    assert not single & {profile.OBJSTORE_ACCESS_KEY_ID, profile.THANOS_OBJSTORE_KEY}
    assert set(required_keys(load(ha()))) - single == {
        "objstore-access-key-id",
        "objstore-secret-access-key",
        "thanos-objstore.yaml",
    }
    loki_only = set(required_keys(load(config_with(objectStorage=STORE, loki={"mode": "Monolithic"})))) - single
    assert loki_only == {"objstore-access-key-id", "objstore-secret-access-key"}
    assert set(required_keys(load(ha(thanos={"enabled": False})))) - single == loki_only
    thanos_only = set(required_keys(load(ha(loki={"mode": "SingleBinary"})))) - single
    assert thanos_only == {"thanos-objstore.yaml"}
    with_database = set(required_keys(load(ha(grafana={"database": DATABASE})))) - single
    assert "grafana-database-url" in with_database


def test_thanos_from_stevehipwell_in_either_source():
    assert not [o for o in objects(default_config()) if "thanos" in o["metadata"]["name"]]
    generated = objects(ha())
    repositories = {o["metadata"]["name"]: o["spec"] for o in generated if o["kind"] == "HelmRepository"}
    assert repositories["stevehipwell"] == {"interval": "60m", "url": "https://stevehipwell.github.io/helm-charts"}
    releases = {o["metadata"]["name"]: o for o in generated if o["kind"] == "HelmRelease"}
    assert {r["spec"]["chart"]["spec"]["sourceRef"]["name"] for r in releases.values()} == set(repositories)
    assert releases["thanos"]["spec"]["chart"]["spec"]["version"] == "1.24.1"
    assert releases["thanos"]["spec"]["dependsOn"] == [{"name": "kube-prometheus-stack"}]
    from_oci = objects(ha(charts={"source": "oci"}))
    oci = {o["metadata"]["name"]: o["spec"] for o in from_oci if o["kind"] == "OCIRepository"}
    assert oci["thanos"]["url"] == "oci://ghcr.io/stevehipwell/helm-charts/thanos"
    assert oci["thanos"]["ref"] == {"tag": "1.24.1"}


def test_thanos_query_dedups_the_replicas_finds_the_sidecars_and_serves_grafana():
    values = release(ha(), "thanos")["spec"]["values"]
    assert values["additionalReplicaLabels"] == ["prometheus_replica"]
    assert values["additionalEndpoints"] == ["dnssrv+_grpc._tcp.kube-prometheus-stack-thanos-discovery.monitoring.svc"]
    assert values["objstoreConfig"] == {"create": False, "name": "monitoring-secrets", "key": "thanos-objstore.yaml"}
    assert values["image"] == {"tag": "v0.42.4"}
    kps = release(ha(), "kube-prometheus-stack")["spec"]["values"]
    assert kps["grafana"]["sidecar"]["datasources"]["url"] == "http://thanos-query.monitoring.svc:10902"
    for component in ("query", "storeGateway"):
        assert values[component]["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert "podDisruptionBudget" not in values["compact"]  # a singleton: a budget would block every drain


def test_compactor_retention_per_resolution():
    config = ha(thanos={"retention": {"raw": "14d", "downsampled5m": "60d", "downsampled1h": "2y"}})
    compact = release(config, "thanos")["spec"]["values"]["compact"]
    assert compact["extraArgs"] == [
        "--retention.resolution-raw=14d",
        "--retention.resolution-5m=60d",
        "--retention.resolution-1h=2y",
    ]
    assert compact["deduplication"] == {"enabled": False}
    assert release(ha(), "thanos")["spec"]["values"]["compact"]["extraArgs"][0] == "--retention.resolution-raw=30d"


def test_thanos_query_is_routed_while_the_prometheus_ui_is_exposed():
    def thanos_routes(config: dict) -> list[dict]:
        return [o for o in objects(config) if o["kind"] == "HTTPRoute" and o["metadata"]["name"] == "thanos"]

    (route,) = thanos_routes(ha())
    assert route["spec"]["hostnames"] == ["thanos.catinthehack.ca"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "thanos-query", "port": 10902}]
    assert thanos_routes(ha(ui={"prometheus": {"enabled": False}})) == []
    assert thanos_routes(default_config()) == []


def test_ha_without_thanos_replicates_prometheus_and_reads_one_replica_at_a_time():
    config = ha(thanos={"enabled": False})
    generated = objects(config)
    assert not [o for o in generated if "thanos" in o["metadata"]["name"]]
    values = release(config, "kube-prometheus-stack")["spec"]["values"]
    assert values["prometheus"]["prometheusSpec"]["replicas"] == 2
    assert "thanos" not in values["prometheus"]["prometheusSpec"]
    assert values["prometheus"]["service"] == {"sessionAffinity": "ClientIP"}
    assert "url" not in values["grafana"]["sidecar"]["datasources"]  # the chart's own: the Prometheus Service
    assert "thanos-rules" not in values["additionalPrometheusRulesMap"]


def test_grafana_in_ha_keeps_nothing_on_a_volume_and_replicates_only_with_a_database():
    alone = release(ha(), "kube-prometheus-stack")["spec"]["values"]["grafana"]
    assert alone["persistence"] == {"enabled": False}
    assert "deploymentStrategy" not in alone  # the chart's RollingUpdate
    assert "replicas" not in alone and "podDisruptionBudget" not in alone
    shared = release(ha(grafana={"database": DATABASE}), "kube-prometheus-stack")["spec"]["values"]["grafana"]
    assert shared["replicas"] == 2
    assert shared["envValueFrom"] == {
        "GF_DATABASE_URL": {"secretKeyRef": {"name": "monitoring-secrets", "key": "grafana-database-url"}}
    }
    assert shared["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert shared["headlessService"] is True
    assert shared["grafana.ini"]["unified_alerting"] == {
        "ha_peers": "kube-prometheus-stack-grafana-headless.monitoring.svc:9094"
    }
    # single-node: no volume unless asked for (spec.grafana.persistence), then one, replaced by Recreate
    single = release(default_config(), "kube-prometheus-stack")["spec"]["values"]["grafana"]
    assert single["persistence"] == {"enabled": False}
    kept = release(config_with(grafana={"persistence": True}), "kube-prometheus-stack")["spec"]["values"]["grafana"]
    assert kept["persistence"]["enabled"] is True and kept["deploymentStrategy"] == {"type": "Recreate"}


def test_a_bitnami_thanos_pin_fails_with_what_to_write():
    (message,) = errors(ha(charts={"thanos": {"version": "17.6.0"}}))
    assert message.startswith("spec.charts.thanos.version: thanos 17.6.0 is a release of Bitnami's thanos chart")
    assert "bitnami/charts#36310" in message and "spec.charts.thanos.version: 1.24.1" in message


@pytest.mark.parametrize(
    ("values", "field", "instead"),
    [
        ({"query": {"replicaCount": 3}}, "spec.values.thanos.query.replicaCount", "query.replicas"),
        ({"storegateway": {"replicaCount": 3}}, "spec.values.thanos.storegateway", "storeGateway"),
        ({"compactor": {"retentionResolutionRaw": "7d"}}, "spec.values.thanos.compactor", "spec.thanos.retention"),
        ({"existingObjstoreSecret": "s"}, "spec.values.thanos.existingObjstoreSecret", "thanos-objstore.yaml"),
    ],
)
def test_bitnami_thanos_values_fail_with_what_to_write(values: dict, field: str, instead: str):
    (result,) = [r for r in check_values(context(config=ha(values={"thanos": values}))) if r.field == field]
    assert result.severity.value == "error"
    assert "former publisher" in result.message and instead in result.message


def test_verify_asks_loki_where_the_profile_runs_it():
    from krm_fn.verify.stack import Expected

    assert Expected(load(default_config())).loki.name == "loki"
    assert (Expected(load(ha())).loki.name, Expected(load(ha())).loki.port) == ("loki", 3100)
    scalable = Expected(load(ha(loki={"mode": "SimpleScalable"}))).loki
    assert (scalable.name, scalable.port) == ("loki-gateway", 80)


@pytest.mark.parametrize("mode", ["Monolithic", "SimpleScalable"])
def test_loki_claims_take_their_own_class_in_every_object_storage_mode(mode: str):
    values = release(ha(loki={"mode": mode, "storageClass": "local-path"}), "loki")["spec"]["values"]
    targets = ("singleBinary",) if mode == "Monolithic" else ("write", "backend")
    assert [values[t]["persistence"]["storageClass"] for t in targets] == ["local-path"] * len(targets)
    plain = release(ha(loki={"mode": mode}), "loki")["spec"]["values"]
    assert [plain[t]["persistence"]["storageClass"] for t in targets] == ["nfs"] * len(targets)  # spec.storageClass


def test_thanos_volumes_take_their_own_class_else_the_stack_class_else_the_cluster_default():
    own = release(ha(thanos={"storageClass": "local-path"}), "thanos")["spec"]["values"]
    assert own["storeGateway"]["persistence"]["storageClass"] == "local-path"
    assert own["compact"]["persistence"]["storageClass"] == "local-path"
    assert release(ha(), "thanos")["spec"]["values"]["compact"]["persistence"]["storageClass"] == "nfs"
    bare = ha()
    del bare["spec"]["storageClass"]
    # null drops the chart's "standard" for the cluster's default class
    assert release(bare, "thanos")["spec"]["values"]["storeGateway"]["persistence"]["storageClass"] is None
