"""spec.profile and the per-component overrides: the model, the generated values, the Secret keys."""

from __future__ import annotations

import json

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.checks.secrets import required_keys
from krm_fn.components import profile
from tests.helpers import config_with, default_config

STORE = {"endpoint": "minio.storage.svc:9000", "buckets": {"lokiChunks": "loki-chunks", "lokiRuler": "loki-ruler"}}


def load(config: dict) -> config_model.Config:
    cfg, errors = config_model.load(config)
    assert cfg is not None, [r.message for r in errors]
    return cfg


def release(config: dict, name: str) -> dict:
    (found,) = [
        o for o in components.generate(load(config)) if o["kind"] == "HelmRelease" and o["metadata"]["name"] == name
    ]
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
    assert (single.prometheus_replicas, single.alertmanager_replicas, single.loki_mode, single.loki_replicas) == (
        1,
        1,
        "SingleBinary",
        1,
    )
    assert (single.loki_replication_factor, single.alloy_clustering, single.object_storage) == (1, False, None)
    many = load(ha()).topology
    assert (many.prometheus_replicas, many.alertmanager_replicas, many.loki_mode, many.loki_replicas) == (
        2,
        3,
        "SimpleScalable",
        3,
    )
    assert (many.loki_replication_factor, many.alloy_clustering, many.thanos) == (3, True, True)
    assert many.object_storage.endpoint == "minio.storage.svc:9000"
    assert (many.object_storage.region, many.object_storage.path_style, many.object_storage.insecure) == (
        "us-east-1",
        True,
        False,
    )


def test_per_component_overrides_beat_the_profile():
    topology = load(
        ha(
            prometheus={"replicas": 3},
            alertmanager={"replicas": 1},
            loki={"mode": "SingleBinary"},
            alloy={"clustering": False},
        )
    ).topology
    assert (topology.prometheus_replicas, topology.alertmanager_replicas) == (3, 1)
    assert (topology.loki_mode, topology.loki_replicas, topology.loki_replication_factor) == ("SingleBinary", 1, 1)
    assert not topology.alloy_clustering


def test_ha_without_object_storage_is_refused_with_the_field():
    assert errors(config_with(profile="ha")) == [
        "spec: spec.profile: ha needs spec.objectStorage (endpoint and buckets): Loki SimpleScalable and the "
        "Thanos sidecar keep their data there; or set spec.profile: single-node"
    ]


def test_simple_scalable_without_object_storage_is_refused():
    (message,) = errors(config_with(loki={"mode": "SimpleScalable"}))
    assert message.startswith("spec: spec.loki.mode: SimpleScalable needs spec.objectStorage")


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


def test_kube_prometheus_stack_values_in_ha():
    values = release(ha(), "kube-prometheus-stack")["spec"]["values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert (spec["replicas"], spec["replicaExternalLabelName"]) == (2, "prometheus_replica")
    assert spec["thanos"] == {
        "objectStorageConfig": {"existingSecret": {"name": "monitoring-secrets", "key": "thanos-objstore.yaml"}}
    }
    assert values["prometheus"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert values["alertmanager"]["alertmanagerSpec"]["replicas"] == 3
    assert values["alertmanager"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 2}


def test_user_values_still_override_the_profile():
    config = ha(values={"kube-prometheus-stack": {"prometheus": {"podDisruptionBudget": {"minAvailable": 0}}}})
    values = release(config, "kube-prometheus-stack")["spec"]["values"]
    assert values["prometheus"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 0}


def test_loki_simple_scalable_reads_credentials_from_the_secret_only():
    loki = release(ha(), "loki")
    values = loki["spec"]["values"]
    assert values["deploymentMode"] == "SimpleScalable"
    assert [values[t]["replicas"] for t in ("read", "write", "backend", "singleBinary")] == [3, 3, 3, 0]
    assert values["loki"]["commonConfig"]["replication_factor"] == 3
    assert values["loki"]["compactor"] == {"retention_enabled": True, "delete_request_store": "s3"}
    assert values["loki"]["schemaConfig"]["configs"][0]["object_store"] == "s3"
    assert values["gateway"]["enabled"] is True
    s3 = values["loki"]["storage"]["s3"]
    assert (s3["accessKeyId"], s3["secretAccessKey"]) == ("${LOKI_S3_ACCESS_KEY_ID}", "${LOKI_S3_SECRET_ACCESS_KEY}")
    for target in ("read", "write", "backend"):
        assert "-config.expand-env=true" in values[target]["extraArgs"]
        keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in values[target]["extraEnv"]}
        assert keys == {"objstore-access-key-id", "objstore-secret-access-key"}
    # Flux's postBuild substitution would blank the ${...} references.
    assert loki["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"


def test_grafana_and_alloy_reach_loki_through_the_gateway():
    objects = components.generate(load(ha()))
    (datasource,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "loki-datasource"]
    assert "url: http://loki-gateway.monitoring.svc:80\n" in datasource["data"]["loki-datasource.yaml"]
    alloy = release(ha(), "alloy")["spec"]["values"]["alloy"]
    assert 'url = "http://loki-gateway.monitoring.svc:80/loki/api/v1/push"' in alloy["configMap"]["content"]
    assert alloy["clustering"] == {"enabled": True}


def test_single_node_generates_none_of_it():
    text = yaml.safe_dump(components.generate(load(default_config())))
    for word in ("thanos", "SimpleScalable", "loki-gateway", "clustering", "replicaExternalLabelName"):
        assert word not in text


def test_required_secret_keys_follow_the_topology():
    single = set(required_keys(load(default_config())))
    assert not single & {profile.OBJSTORE_ACCESS_KEY_ID, profile.THANOS_OBJSTORE_KEY}
    assert set(required_keys(load(ha()))) - single == {
        "objstore-access-key-id",
        "objstore-secret-access-key",
        "thanos-objstore.yaml",
    }
    loki_only = set(required_keys(load(config_with(objectStorage=STORE, loki={"mode": "SimpleScalable"})))) - single
    assert loki_only == {"objstore-access-key-id", "objstore-secret-access-key"}
    thanos_only = set(required_keys(load(ha(loki={"mode": "SingleBinary"})))) - single
    assert thanos_only == {"thanos-objstore.yaml"}


def test_thanos_only_in_ha_from_its_oci_repository():
    assert not [o for o in components.generate(load(default_config())) if "thanos" in o["metadata"]["name"]]
    objects = components.generate(load(ha()))
    repositories = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "HelmRepository"}
    assert repositories["bitnami"] == {
        "interval": "60m",
        "url": "oci://registry-1.docker.io/bitnamicharts",
        "type": "oci",
    }
    releases = {o["metadata"]["name"]: o for o in objects if o["kind"] == "HelmRelease"}
    assert {r["spec"]["chart"]["spec"]["sourceRef"]["name"] for r in releases.values()} == set(repositories)
    assert releases["thanos"]["spec"]["dependsOn"] == [{"name": "kube-prometheus-stack"}]


def test_thanos_query_dedups_the_replicas_and_serves_grafana():
    values = release(ha(), "thanos")["spec"]["values"]
    assert values["query"]["replicaLabel"] == ["prometheus_replica"]
    assert values["query"]["dnsDiscovery"]["sidecarsService"] == "kube-prometheus-stack-thanos-discovery"
    assert values["existingObjstoreSecret"] == "monitoring-secrets"
    assert values["existingObjstoreSecretItems"] == [{"key": "thanos-objstore.yaml", "path": "objstore.yml"}]
    kps = release(ha(), "kube-prometheus-stack")["spec"]["values"]
    assert kps["grafana"]["sidecar"]["datasources"]["url"] == "http://thanos-query.monitoring.svc:9090"
    assert [values[c]["pdb"]["create"] for c in ("query", "storegateway")] == [True, True]


def test_compactor_retention_per_resolution():
    config = ha(thanos={"retention": {"raw": "14d", "downsampled5m": "60d", "downsampled1h": "2y"}})
    compactor = release(config, "thanos")["spec"]["values"]["compactor"]
    got = [compactor[f"retentionResolution{r}"] for r in ("Raw", "5m", "1h")]
    assert got == ["14d", "60d", "2y"]
    assert release(ha(), "thanos")["spec"]["values"]["compactor"]["retentionResolutionRaw"] == "30d"


def test_thanos_query_is_routed_while_the_prometheus_ui_is_exposed():
    def thanos_routes(config: dict) -> list[dict]:
        objects = components.generate(load(config))
        return [o for o in objects if o["kind"] == "HTTPRoute" and o["metadata"]["name"] == "thanos"]

    (route,) = thanos_routes(ha())
    assert route["spec"]["hostnames"] == ["thanos.catinthehack.ca"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "thanos-query", "port": 9090}]
    assert thanos_routes(ha(ui={"prometheus": {"enabled": False}})) == []
    assert thanos_routes(default_config()) == []


def test_verify_asks_loki_where_the_profile_runs_it():
    from krm_fn.verify.stack import Expected

    assert Expected(load(default_config())).loki.name == "loki"
    assert (Expected(load(ha())).loki.name, Expected(load(ha())).loki.port) == ("loki-gateway", 80)
