"""kube-prometheus-stack values: each correction of the audit, on the generated objects.

Facts: docs/reference/charts.md#4-kube-prometheus-stack-audit.
"""

from __future__ import annotations

import json

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn import yaml as yamlio
from krm_fn.config import Config
from tests.helpers import config_with, default_config, load


def release(cfg: Config, name: str = "kube-prometheus-stack") -> dict:
    (found,) = [o for o in components.generate(cfg) if o["kind"] == "HelmRelease" and o["metadata"]["name"] == name]
    return found


def kps_values(config: dict | None = None) -> dict:
    return release(load(config or default_config()))["spec"]["values"]


def rendered(cfg: Config) -> str:
    return "---\n".join(yamlio.dump_document(o) for o in components.generate(cfg))


def test_helm_release_manages_the_chart_crds():
    spec = release(load(default_config()))["spec"]
    assert spec["install"]["crds"] == "CreateReplace"
    assert spec["upgrade"]["crds"] == "CreateReplace"
    assert spec["chart"]["spec"]["version"] == "88.5.3"  # the newest release the function knows
    assert spec["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "prometheus-community"}


def test_output_parses_with_a_loader_that_refuses_duplicate_keys():
    text = rendered(load(default_config()))
    docs = yamlio.load_documents(text)
    assert len(docs) == len(components.generate(load(default_config())))


def test_the_strict_loader_does_catch_the_seed_duplicate_prometheus_key():
    """Control for the test above: the seed's two `prometheus:` blocks are refused."""
    seed_like = "values:\n  prometheus:\n    prometheusSpec: {}\n  grafana: {}\n  prometheus:\n    thanosService: {}\n"
    with pytest.raises(yamlio.YamlError):
        yamlio.load_documents(seed_like)


def test_no_yaml_aliases_in_the_output():
    """Shared Python objects would be dumped as &id001 anchors, which some consumers reject."""
    text = rendered(load(config_with(alerting={"heartbeat": {}})))
    assert "&id" not in text and "*id" not in text


def test_additional_rules_map_is_top_level():
    values = kps_values()
    assert set(values["additionalPrometheusRulesMap"]) == {"flux-rules", "log-path-rules"}
    assert "additionalPrometheusRulesMap" not in values["prometheus"]["prometheusSpec"]


def test_flux_rule_reads_gotk_resource_info_not_the_removed_metric():
    rules = kps_values()["additionalPrometheusRulesMap"]["flux-rules"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["FluxResourceNotReady", "FluxResourceStuck"]
    for rule in rules:
        assert "gotk_resource_info" in rule["expr"]
        assert rule["expr"].startswith("max by (")
        assert 'suspended!="true"' in rule["expr"]
    assert (rules[0]["for"], rules[1]["for"]) == ("10m", "1h")
    assert "gotk_reconcile_condition" not in json.dumps(kps_values())


def test_cert_manager_expiry_rule_only_when_its_metrics_are_said_to_be_scraped():
    assert "cert-manager-rules" not in kps_values()["additionalPrometheusRulesMap"]
    rules_map = kps_values(config_with(alerting={"certManager": True}))["additionalPrometheusRulesMap"]
    (rule,) = rules_map["cert-manager-rules"]["groups"][0]["rules"]
    assert rule["alert"] == "CertManagerCertExpirySoon"
    assert "certmanager_certificate_expiration_timestamp_seconds" in rule["expr"]


def test_prometheus_spec_from_the_config():
    config = config_with(
        prometheus={"retention": "15d", "storageSize": "20Gi", "resources": {"requests": {"memory": "1Gi"}}},
        cluster="homelab",
    )
    spec = kps_values(config)["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d"
    assert spec["resources"] == {"requests": {"memory": "1Gi"}}
    assert spec["externalLabels"] == {"cluster": "homelab"}
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim == {
        "storageClassName": "nfs",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "20Gi"}},
    }


def test_prometheus_defaults_are_the_seed_values_and_the_measured_memory():
    spec = kps_values()["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "7d"
    # docs/operations/sizing.md: 380 MiB for 66k series after 8 minutes with the real Prometheus
    assert spec["resources"] == {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"] == {"requests": {"storage": "10Gi"}}
    assert spec["retentionSize"] == "8704MB"  # 85% of 10Gi


@pytest.mark.parametrize(
    ("size", "expected"),
    # Decimal suffixes too: the schema accepts them (1T crashed render before there was one quantity parser).
    [
        ("10Gi", "8704MB"),
        ("50Gi", "43520MB"),
        ("500Mi", "425MB"),
        ("1Ti", "891289MB"),
        ("1T", "810623MB"),
        ("20G", "16212MB"),
    ],
)
def test_retention_size_is_85_percent_of_the_volume(size: str, expected: str):
    spec = kps_values(config_with(prometheus={"storageSize": size}))["prometheus"]["prometheusSpec"]
    assert spec["retentionSize"] == expected


def test_a_component_storage_class_beats_the_stack_one():
    config = config_with(prometheus={"storageClass": "local-path"}, loki={"storageClass": "longhorn"})
    values = kps_values(config)
    claim = values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "local-path"
    alertmanager = values["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]
    assert alertmanager["storageClassName"] == "nfs"


def test_homelab_noise_default_alerts_are_off_and_can_be_turned_back_on():
    rules = kps_values()["defaultRules"]
    assert rules["disabled"] == {
        "KubeCPUOvercommit": True,
        "KubeMemoryOvercommit": True,
        "KubeClientCertificateExpiration": True,
    }
    # the only alert of its group: the group's switch, so no group is left with `rules: null`
    assert rules["rules"]["kubeApiserverSlos"] is False
    back_on = kps_values(config_with(alerting={"disabledRules": []}))["defaultRules"]
    assert "disabled" not in back_on and "kubeApiserverSlos" not in back_on["rules"]


def test_one_prometheus_block_holds_everything():
    prometheus = kps_values()["prometheus"]
    # thanos keys are already false by default (docs/reference/charts.md#3-duplicate-yaml-keys)
    assert set(prometheus) == {"prometheusSpec"}


@pytest.mark.parametrize(
    "flag",
    [
        "ruleSelectorNilUsesHelmValues",
        "serviceMonitorSelectorNilUsesHelmValues",
        "podMonitorSelectorNilUsesHelmValues",
        "probeSelectorNilUsesHelmValues",
        "scrapeConfigSelectorNilUsesHelmValues",
    ],
)
def test_user_monitors_and_rules_are_selected(flag: str):
    assert kps_values()["prometheus"]["prometheusSpec"][flag] is False


def test_alertmanager_mounts_only_the_keys_the_pushover_files_are():
    config = config_with(secret={"name": "obs-creds"})
    alertmanager = kps_values(config)["alertmanager"]
    spec = alertmanager["alertmanagerSpec"]
    assert "secrets" not in spec and "secrets" not in alertmanager  # no whole Secret; not the seed's ignored path
    (volume,) = spec["volumes"]
    assert volume["secret"] == {
        "secretName": "obs-creds",
        "items": [{"key": key, "path": key} for key in ("pushover-api-token", "pushover-user-key")],
    }
    (mount,) = spec["volumeMounts"]
    assert mount == {"name": volume["name"], "mountPath": "/etc/alertmanager/secrets/obs-creds", "readOnly": True}
    files = {
        value
        for receiver in alertmanager["config"]["receivers"]
        for entry in receiver.get("pushover_configs", [])
        for key, value in entry.items()
        if key.endswith("_file")
    }
    assert files == {f"{mount['mountPath']}/{item['path']}" for item in volume["secret"]["items"]}


def test_no_secret_mount_when_pushover_is_off():
    config = config_with(alerting={"pushover": {"enabled": False}})
    spec = kps_values(config)["alertmanager"]["alertmanagerSpec"]
    assert "secrets" not in spec and "volumes" not in spec and "volumeMounts" not in spec


def test_alertmanager_resources_and_storage():
    spec = kps_values(config_with(alertmanager={"storageSize": "2Gi"}))["alertmanager"]["alertmanagerSpec"]
    assert spec["resources"] == {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}
    assert spec["storage"]["volumeClaimTemplate"]["spec"]["resources"] == {"requests": {"storage": "2Gi"}}
    assert spec["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "nfs"


def test_templates_are_plain_alertmanager_templates():
    """tplConfig stays false, so Helm-escaped templates would reach Pushover literally.

    Facts: docs/reference/charts.md#4-kube-prometheus-stack-audit.
    """
    values = kps_values()
    assert values["alertmanager"].get("tplConfig", False) is False
    text = rendered(load(default_config()))
    assert '{{ "{{" }}' not in text and '{{ "}}" }}' not in text
    receiver = values["alertmanager"]["config"]["receivers"][1]
    assert receiver["pushover_configs"][0]["title"].count("{{ .CommonLabels.alertname }}") == 1


def test_grafana_admin_from_the_secret_and_no_volume_by_default():
    grafana = kps_values()["grafana"]
    assert grafana["admin"] == {
        "existingSecret": "monitoring-secrets",
        "userKey": "grafana-admin-user",
        "passwordKey": "grafana-admin-password",
    }
    assert grafana["persistence"] == {"enabled": False}
    assert "deploymentStrategy" not in grafana and "initChownData" not in grafana


def test_grafana_volume_on_request_without_the_root_chown():
    grafana = kps_values(config_with(grafana={"persistence": True, "storageSize": "5Gi"}))["grafana"]
    assert grafana["persistence"] == {"enabled": True, "storageClassName": "nfs", "size": "5Gi"}
    # the chart's init container chowns the volume as root, which NFS root_squash refuses
    assert grafana["initChownData"] == {"enabled": False}
    assert grafana["deploymentStrategy"] == {"type": "Recreate"}
    assert grafana["sidecar"]["datasources"]["enabled"] is True
    assert grafana["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}


def test_node_exporter_resources_under_the_subchart_key():
    config = config_with(nodeExporter={"resources": {"requests": {"cpu": "5m"}}})
    values = kps_values(config)
    assert values["prometheus-node-exporter"]["resources"] == {"requests": {"cpu": "5m"}}
    assert "nodeExporter" not in values


def test_kube_state_metrics_exports_flux_state_and_keeps_standard_metrics():
    ksm = kps_values()["kube-state-metrics"]
    assert ksm["resources"] == {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}
    assert ksm["customResourceState"]["enabled"] is True
    kinds = {r["groupVersionKind"]["kind"] for r in ksm["customResourceState"]["config"]["spec"]["resources"]}
    assert {"Kustomization", "HelmRelease", "GitRepository", "HelmRepository", "OCIRepository"} <= kinds
    assert "helmreleases" in ksm["rbac"]["extraRules"][0]["resources"]
    assert ksm["rbac"]["extraRules"][0]["verbs"] == ["list", "watch"]
    assert {"pods", "deployments", "nodes", "services"} <= set(ksm["collectors"])  # the chart's, but for two
    assert not {"secrets", "configmaps"} & set(ksm["collectors"])
    assert "custom-resource-state-only" not in json.dumps(ksm)


def test_storage_class_omitted_when_unset():
    """No storageClass in the config: every volume uses the cluster's default class."""
    config = default_config()
    del config["spec"]["storageClass"]
    cfg = load(config)
    assert cfg.storage_class is None
    text = json.dumps(components.generate(cfg))
    assert "storageClass" not in text  # neither storageClassName (kps, grafana) nor storageClass (loki)
    values = kps_values(config)
    assert values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "10Gi"}},
    }


def test_storage_class_everywhere_when_set():
    text = yaml.safe_dump(components.generate(load(config_with(storageClass="fast-ssd"))))
    assert text.count("storageClassName: fast-ssd") == 3  # prometheus, alertmanager, grafana
    assert text.count("storageClass: fast-ssd") == 1  # loki


def test_user_overrides_are_deep_merged_last():
    config = config_with(
        dashboards={"enabled": False},
        values={
            "kube-prometheus-stack": {
                "prometheus": {"prometheusSpec": {"retention": "30d", "scrapeInterval": "60s"}},
                "grafana": {"sidecar": {"dashboards": {"enabled": False}}},
                "alertmanager": {"alertmanagerSpec": {"secrets": ["other"]}},
            }
        },
    )
    values = kps_values(config)
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "30d"  # a scalar is replaced
    assert spec["scrapeInterval"] == "60s"  # a new key is added
    assert spec["resources"]["requests"]["cpu"] == "100m"  # siblings are kept
    assert values["grafana"]["sidecar"]["dashboards"]["enabled"] is False
    assert values["grafana"]["sidecar"]["datasources"]["enabled"] is True
    assert values["alertmanager"]["alertmanagerSpec"]["secrets"] == ["other"]  # a list is replaced


def test_generation_does_not_mutate_the_config():
    overrides = {"kube-prometheus-stack": {"prometheus": {"prometheusSpec": {"retention": "30d"}}}}
    cfg = load(config_with(values=overrides))
    before = json.dumps(cfg.values, sort_keys=True)
    components.generate(cfg)
    components.generate(cfg)
    assert json.dumps(cfg.values, sort_keys=True) == before


# --- control plane (spec.controlPlane) ------------------------------------------------------------

CONTROL_PLANE = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")
CONTROL_PLANE_RULES = ("kubeControllerManager", "kubeSchedulerAlerting", "kubeSchedulerRecording", "etcd", "kubeProxy")


def control_plane(distribution: str, exposed: bool = False) -> dict:
    return kps_values(config_with(controlPlane={"distribution": distribution, "metricsExposed": exposed}))


def enabled(values: dict) -> set[str]:
    return {name for name in CONTROL_PLANE if values[name]["enabled"]}


def rules_on(values: dict) -> set[str]:
    return {key for key in CONTROL_PLANE_RULES if values["defaultRules"]["rules"][key]}


def test_default_scrapes_no_control_plane_component_and_drops_their_rules():
    """generic, metrics not exposed: no KubeSchedulerDown/etcdMembersDown/TargetDown for unreachable targets."""
    values = kps_values()
    assert enabled(values) == set() and rules_on(values) == set()


@pytest.mark.parametrize("distribution", ["generic", "talos", "k3s", "kubeadm", "managed"])
def test_nothing_is_scraped_until_the_metrics_are_exposed(distribution: str):
    values = control_plane(distribution)
    assert enabled(values) == set() and rules_on(values) == set()


def test_kubeadm_exposed_scrapes_all_four_through_kubeadm_labels():
    values = control_plane("kubeadm", exposed=True)
    assert enabled(values) == set(CONTROL_PLANE) and rules_on(values) == set(CONTROL_PLANE_RULES)
    assert values["kubeScheduler"]["service"]["selector"] == {"component": "kube-scheduler"}
    assert values["kubeControllerManager"]["service"]["selector"] == {"component": "kube-controller-manager"}


def test_talos_exposed_scrapes_its_static_pods_but_not_etcd_or_kube_proxy():
    values = control_plane("talos", exposed=True)
    assert enabled(values) == {"kubeControllerManager", "kubeScheduler"}
    assert rules_on(values) == {"kubeControllerManager", "kubeSchedulerAlerting", "kubeSchedulerRecording"}
    assert values["kubeScheduler"]["service"]["selector"] == {"k8s-app": "kube-scheduler"}
    assert values["kubeControllerManager"]["service"]["selector"] == {"k8s-app": "kube-controller-manager"}


@pytest.mark.parametrize("distribution", ["generic", "k3s", "managed"])
def test_exposed_is_refused_where_no_component_can_be_reached(distribution: str):
    _, errors = config_model.load(config_with(controlPlane={"distribution": distribution, "metricsExposed": True}))
    (error,) = errors
    assert error.field == "spec.controlPlane.distribution"
    assert "talos and kubeadm only" in error.message


def test_user_values_still_win_over_the_distribution():
    values = kps_values(
        config_with(
            controlPlane={"distribution": "k3s"},
            values={"kube-prometheus-stack": {"kubeControllerManager": {"enabled": True, "endpoints": ["10.0.0.2"]}}},
        )
    )
    assert values["kubeControllerManager"] == {"enabled": True, "endpoints": ["10.0.0.2"]}


# --- public URLs (issue 10) ------------------------------------------------------------------


def test_exposed_uis_get_their_public_url():
    values = kps_values()
    assert values["prometheus"]["prometheusSpec"]["externalUrl"] == "https://prometheus.catinthehack.ca"
    assert values["alertmanager"]["alertmanagerSpec"]["externalUrl"] == "https://alertmanager.catinthehack.ca"
    assert values["grafana"]["grafana.ini"] == {"server": {"root_url": "https://grafana.catinthehack.ca"}}


def test_url_scheme_and_hostname_follow_the_config():
    config = default_config()
    config["spec"]["gateway"]["scheme"] = "http"
    config["spec"]["ui"] = {"prometheus": {"hostname": "metrics.catinthehack.ca"}}
    values = kps_values(config)
    assert values["prometheus"]["prometheusSpec"]["externalUrl"] == "http://metrics.catinthehack.ca"
    assert values["grafana"]["grafana.ini"]["server"]["root_url"] == "http://grafana.catinthehack.ca"


def test_a_ui_not_exposed_keeps_the_in_cluster_url():
    config = default_config()
    config["spec"]["ui"] = {name: {"enabled": False} for name in ("prometheus", "alertmanager", "grafana")}
    values = kps_values(config)
    assert "externalUrl" not in values["prometheus"]["prometheusSpec"]
    assert "externalUrl" not in values["alertmanager"]["alertmanagerSpec"]
    assert "grafana.ini" not in values["grafana"]


def test_a_bad_scheme_is_refused():
    config = default_config()
    config["spec"]["gateway"]["scheme"] = "ftp"
    cfg, errors = config_model.load(config)
    assert cfg is None and "ftp" in errors[0].message and errors[0].field == "spec.gateway.scheme"
