"""Day two, as the cluster gets it: the helm-rendered objects of the goldens (tests/helm_render.py).

Prometheus' size-based retention and measured memory, Grafana's volume without the root chown,
Alloy's positions on a claim under Pod Security baseline, the Alertmanager config that pushes a
Flux incident once, and the default alert set.
"""

from __future__ import annotations

import base64

import pytest
import yaml

from tests.helm_render import find, of_kind, rendered

KPS = "kube-prometheus-stack"


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def alertmanager_yaml(case: str) -> dict:
    secret = find(rendered(case, KPS), "Secret", "alertmanager-kube-prometheus-stack-alertmanager")
    return yaml.safe_load(base64.b64decode(secret["data"]["alertmanager.yaml"]))


@pytest.mark.parametrize("case", ["default", "ha", "oci", "seed-pins", "variant"])
def test_prometheus_keeps_15_percent_of_its_volume_free(case: str):
    spec = find(rendered(case, KPS), "Prometheus")["spec"]
    assert spec["retentionSize"] == "8704MB"  # 85% of the 10Gi claim
    assert spec["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert spec["resources"] == {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}


def test_grafana_has_no_volume_by_default():
    grafana = find(rendered("default", KPS), "Deployment", "kube-prometheus-stack-grafana")
    storage = next(v for v in pod_spec(grafana)["volumes"] if v["name"] == "storage")
    assert storage == {"name": "storage", "emptyDir": {}}
    assert not pod_spec(grafana).get("initContainers")
    assert not of_kind(rendered("default", KPS), "PersistentVolumeClaim")


def test_grafana_with_a_volume_has_no_root_chown():
    """variant: spec.grafana.persistence. The chart's init-chown-data chowns as root, which NFS root_squash refuses."""
    objects = rendered("variant", KPS)
    grafana = find(objects, "Deployment", "kube-prometheus-stack-grafana")
    assert [c["name"] for c in pod_spec(grafana).get("initContainers", [])] == []
    claim = find(objects, "PersistentVolumeClaim", "kube-prometheus-stack-grafana")
    storage = next(v for v in pod_spec(grafana)["volumes"] if v["name"] == "storage")
    assert storage["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert pod_spec(grafana)["securityContext"]["fsGroup"] == 472
    assert grafana["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("case", ["default", "ha", "ha-variant", "variant"])
def test_alloy_keeps_its_positions_on_a_claim_without_host_access(case: str):
    objects = rendered(case, "alloy")
    assert not of_kind(objects, "DaemonSet")
    alloy = find(objects, "StatefulSet", "alloy")
    # One replica in every profile: clustered replicas would pass containers around without their positions.
    assert alloy["spec"]["replicas"] == 1
    (claim,) = alloy["spec"]["volumeClaimTemplates"]
    container = next(c for c in pod_spec(alloy)["containers"] if c["name"] == "alloy")
    assert not [a for a in container["args"] if a.startswith("--cluster.")]
    (path,) = [a.split("=", 1)[1] for a in container["args"] if a.startswith("--storage.path=")]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts[path] == claim["metadata"]["name"]
    # Pod Security baseline: no hostPath, hostNetwork, hostPID, privileged
    assert not [v for v in pod_spec(alloy).get("volumes", []) if "hostPath" in v]
    assert not pod_spec(alloy).get("hostNetwork") and not pod_spec(alloy).get("hostPID")
    assert not any((c.get("securityContext") or {}).get("privileged") for c in pod_spec(alloy)["containers"])


def test_alloy_claim_takes_the_component_class():
    alloy = find(rendered("default", "alloy"), "StatefulSet", "alloy")
    (claim,) = alloy["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "nfs" and claim["spec"]["resources"]["requests"]["storage"] == "1Gi"


def test_alertmanager_pushes_a_flux_incident_once():
    config = alertmanager_yaml("default")
    assert config["global"]["resolve_timeout"] == "2h"
    assert {
        "source_matchers": ["severity = error", 'reportingcontroller =~ ".+"'],
        "target_matchers": ['alertname =~ "FluxResourceNotReady|FluxResourceStuck"'],
        "equal": ["kind", "namespace", "name"],
    } in config["inhibit_rules"]


def test_the_homelab_noise_alerts_are_not_rendered_and_the_rest_are():
    groups = [g for rule_set in of_kind(rendered("default", KPS), "PrometheusRule") for g in rule_set["spec"]["groups"]]
    assert all(group["rules"] for group in groups), "a group left without rules"
    alerts = {
        rule["alert"]
        for rule_set in of_kind(rendered("default", KPS), "PrometheusRule")
        for group in rule_set["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert not alerts & {"KubeCPUOvercommit", "KubeMemoryOvercommit", "KubeClientCertificateExpiration"}
    assert "KubeAPIErrorBudgetBurn" not in alerts
    assert {"KubePodCrashLooping", "NodeFilesystemAlmostOutOfSpace", "Watchdog", "FluxResourceNotReady"} <= alerts
    assert "CertManagerCertExpirySoon" not in alerts  # no cert-manager scrape behind it by default


def test_log_path_loss_alerts_ride_out_a_restart():
    rule_set = find(rendered("default", KPS), "PrometheusRule", "kube-prometheus-stack-log-path-rules")
    rules = {r["alert"]: r for group in rule_set["spec"]["groups"] for r in group["rules"]}
    assert rules["AlloyLokiEntriesDropped"]["for"] == "15m"
    assert rules["LokiDiscardingLogs"]["for"] == "15m"
