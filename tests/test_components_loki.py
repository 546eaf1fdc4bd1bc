"""Loki single-binary values (docs/reference/charts.md#6-loki-audit) and the Grafana datasource ConfigMap."""

from __future__ import annotations

import json

import yaml

from krm_fn import components
from tests.helpers import UPSTREAM, config_with, default_config, load

LOKI_VALUES = yaml.safe_load((UPSTREAM / "charts" / "loki-6.55.0" / "values.yaml").read_text())


def generated(config: dict | None = None) -> list[dict]:
    return components.generate(load(config or default_config()))


def find(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def loki(config: dict | None = None) -> dict:
    return find(generated(config), "HelmRelease", "loki")


def at(version: str, config: dict | None = None) -> dict:
    """`config` (default: the default one) with the loki chart at `version`."""
    config = config or default_config()
    config["spec"].setdefault("charts", {})["loki"] = {"version": version}
    return config


def test_release_after_kube_prometheus_stack_from_the_grafana_repository():
    spec = loki(at("6.55.0"))["spec"]
    assert spec["dependsOn"] == [{"name": "kube-prometheus-stack"}]
    assert spec["chart"]["spec"]["version"] == "6.55.0"
    assert spec["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "grafana"}


def test_releases_after_the_fork_come_from_grafana_community():
    for version in ("6.56.0", "18.11.0"):
        spec = loki(at(version))["spec"]
        assert spec["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "grafana-community"}
    repositories = {o["metadata"]["name"]: o["spec"]["url"] for o in generated() if o["kind"] == "HelmRepository"}
    assert repositories["grafana-community"] == "https://grafana-community.github.io/helm-charts"


def test_deployment_mode_is_never_deprecated_for_the_release():
    # From 12.0.0 the chart calls it Monolithic and SingleBinary is a deprecated alias.
    assert loki(at("6.55.0"))["spec"]["values"]["deploymentMode"] == "SingleBinary"
    assert loki(at("11.7.0"))["spec"]["values"]["deploymentMode"] == "SingleBinary"
    assert loki(at("12.0.0"))["spec"]["values"]["deploymentMode"] == "Monolithic"
    assert loki(at("16.1.1"))["spec"]["values"]["deploymentMode"] == "Monolithic"
    assert loki()["spec"]["values"]["deploymentMode"] == "Monolithic"  # the default: the newest


def test_single_binary_with_the_other_targets_at_zero():
    values = loki(at("6.55.0"))["spec"]["values"]
    assert values["deploymentMode"] == "SingleBinary"
    assert values["singleBinary"]["replicas"] == 1
    for target in ("backend", "read", "write"):
        assert values[target] == {"replicas": 0}
    assert values["gateway"] == {"enabled": False}


def test_single_tenant_single_replica_filesystem_with_a_schema():
    config = loki()["spec"]["values"]["loki"]
    assert config["auth_enabled"] is False
    assert config["commonConfig"] == {"replication_factor": 1}
    assert config["storage"] == {"type": "filesystem"}
    (schema,) = config["schemaConfig"]["configs"]
    assert (schema["store"], schema["schema"], schema["object_store"]) == ("tsdb", "v13", "filesystem")
    assert schema["index"]["period"] == "24h"
    assert schema["from"] == "2024-04-01"  # a string, not a YAML date


def test_retention_really_deletes():
    config = loki(config_with(loki={"retention": "720h"}))["spec"]["values"]["loki"]
    assert config["limits_config"] == {"retention_period": "720h"}
    assert config["compactor"] == {"retention_enabled": True, "delete_request_store": "filesystem"}


def test_caches_canary_and_helm_test_off():
    values = loki()["spec"]["values"]
    assert values["chunksCache"] == {"enabled": False}
    assert values["resultsCache"] == {"enabled": False}
    assert values["lokiCanary"] == {"enabled": False}  # top level, not monitoring.lokiCanary
    assert values["test"] == {"enabled": False}  # the chart refuses the canary off with the test on


def test_loki_is_scraped_by_a_service_monitor_and_no_agent_operator_object():
    monitoring = loki(at("6.55.0"))["spec"]["values"]["monitoring"]
    assert monitoring == {"serviceMonitor": {"enabled": True, "metricsInstance": {"enabled": False}}}
    # the Grafana Agent MetricsInstance is gone from the chart after 8.1.3: nothing to turn off
    assert loki()["spec"]["values"]["monitoring"] == {"serviceMonitor": {"enabled": True}}


def test_loki_metrics_carry_the_configs_cluster_label_not_the_release_name():
    assert loki(at("6.55.0", config_with(cluster="edge-1")))["spec"]["values"]["clusterLabelOverride"] == "edge-1"
    # releases without the key (18.0.0 on) set no cluster label of their own: Prometheus' external label stands
    assert "clusterLabelOverride" not in loki()["spec"]["values"]


def test_volume_is_retained_and_sized_from_the_config():
    persistence = loki(config_with(loki={"storageSize": "50Gi"}))["spec"]["values"]["singleBinary"]["persistence"]
    assert persistence == {"whenDeleted": "Retain", "whenScaled": "Retain", "size": "50Gi", "storageClass": "nfs"}
    chart = LOKI_VALUES["singleBinary"]["persistence"]
    assert {"whenDeleted", "whenScaled", "size", "storageClass"} <= set(chart)  # the chart's exact keys


def test_no_storage_class_means_the_cluster_default():
    config = default_config()
    del config["spec"]["storageClass"]
    persistence = loki(config)["spec"]["values"]["singleBinary"]["persistence"]
    assert "storageClass" not in persistence


def test_resources_from_the_config():
    values = loki()["spec"]["values"]
    assert values["singleBinary"]["resources"] == {
        "requests": {"cpu": "50m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }


def test_overrides_deep_merge():
    config = config_with(values={"loki": {"loki": {"limits_config": {"max_query_series": 1000}}}})
    limits = loki(config)["spec"]["values"]["loki"]["limits_config"]
    assert limits == {"retention_period": "168h", "max_query_series": 1000}


def test_datasource_configmap_for_the_grafana_sidecar():
    objects = generated(config_with(namespace="observability"))
    cm = find(objects, "ConfigMap", "loki-datasource")
    assert cm["metadata"]["namespace"] == "observability"  # the sidecar watches its own namespace
    assert cm["metadata"]["labels"]["grafana_datasource"] == "1"
    (text,) = cm["data"].values()
    provisioning = yaml.safe_load(text)
    assert provisioning["apiVersion"] == 1
    (source,) = provisioning["datasources"]
    assert source["uid"] == "loki"
    assert source["type"] == "loki"
    assert source["url"] == "http://loki.observability.svc:3100"
    assert source["isDefault"] is False


def test_no_helm_template_braces_in_values():
    assert "{{" not in json.dumps(loki()["spec"]["values"])
