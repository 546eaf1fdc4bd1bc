"""kube-prometheus-stack: Prometheus, Alertmanager, Grafana, node-exporter, kube-state-metrics.

Every values path below exists in kube-prometheus-stack 82.18.0 (or the subchart under its key);
`v:` lines are in third_party/upstream/charts/kube-prometheus-stack-82.18.0/values.yaml.
The values are one Python dict, so the seed's duplicate `prometheus:` key cannot happen.
"""

from __future__ import annotations

from krm_fn.components import (
    alerting,
    dashboards,
    flux_metrics,
    flux_operator,
    grafana_operator,
    privilege,
    profile,
    prometheus_rules,
)
from krm_fn.components.common import deep_merge, helm_release, volume_claim_spec
from krm_fn.components.secret import GRAFANA_ADMIN_PASSWORD_KEY, GRAFANA_ADMIN_USER_KEY
from krm_fn.config import Config
from krm_fn.quantity import quantity

CHART = "kube-prometheus-stack"

# Select every PrometheusRule, ServiceMonitor, PodMonitor, Probe and ScrapeConfig, not only those
# labelled release=kube-prometheus-stack (v:4245-4340), so cert-manager's own monitor is scraped.
SELECTOR_NIL_USES_HELM_VALUES = (
    "ruleSelectorNilUsesHelmValues",
    "serviceMonitorSelectorNilUsesHelmValues",
    "podMonitorSelectorNilUsesHelmValues",
    "probeSelectorNilUsesHelmValues",
    "scrapeConfigSelectorNilUsesHelmValues",
)

# Size-based retention, as a share of Prometheus' volume: "at most 80-85% of your allocated Prometheus
# disk space", the rest for the WAL and compactions (prometheus docs/storage.md, Operational aspects).
RETENTION_SIZE_SHARE = 0.85


def retention_size(storage_size: str) -> str:
    """RETENTION_SIZE_SHARE of the volume, in whole MiB (Prometheus' "MB" is 2^20 bytes)."""
    return f"{int(quantity(storage_size) * RETENTION_SIZE_SHARE) // 2**20}MB"


def _prometheus(config: Config) -> dict:
    prometheus = config.prometheus
    assert prometheus.storage_size is not None  # the schema gives it a default
    spec: dict = {
        "retention": prometheus.retention,  # v:4361
        # Without it Prometheus fills its volume when the series grow, then crash-loops on "no space left".
        "retentionSize": retention_size(prometheus.storage_size),  # v:4365
        "externalLabels": {"cluster": config.cluster},  # v:4186; also labels every alert
        "resources": prometheus.resources.to_values(),  # v:4459
        "storageSpec": {  # v:4466
            "volumeClaimTemplate": {
                "spec": volume_claim_spec(config.storage_class_of(prometheus), prometheus.storage_size)
            },
        },
    }
    spec.update({key: False for key in SELECTOR_NIL_USES_HELM_VALUES})
    url = config.external_url("prometheus")
    if url:
        # Every alert's generatorURL links here; unset, the chart writes the in-cluster URL (v:4210).
        spec["externalUrl"] = url
    return {"prometheusSpec": spec}


def _alertmanager(config: Config) -> dict:
    spec: dict = {}
    url = config.external_url("alertmanager")
    if url:
        spec["externalUrl"] = url  # v:1069; the base of silence links in notifications
    # The Secret keys the receivers read are mounted by privilege.kube_prometheus_stack, not the whole Secret.
    spec["resources"] = config.alertmanager.resources.to_values()  # v:1095
    spec["storage"] = {  # v:1056
        "volumeClaimTemplate": {
            "spec": volume_claim_spec(config.storage_class_of(config.alertmanager), config.alertmanager.storage_size)
        },
    }
    # tplConfig (v:599) stays at its default, false: the config holds plain Alertmanager templates.
    return {"alertmanagerSpec": spec, "config": alerting.alertmanager_config(config)}


def _grafana_persistence(config: Config) -> dict:
    """No volume by default: datasources, dashboards and the admin login are all provisioned.

    spec.grafana.persistence asks for one; never where Grafana is stateless (profile.grafana_stateless,
    the ha-topology rule refuses the combination): in ha a node loss must not strand it on a
    ReadWriteOnce volume, and replicas cannot share one.
    """
    grafana = config.grafana
    if profile.grafana_stateless(config) or not grafana.persistence:
        return {"persistence": {"enabled": False}}  # grafana values.yaml:424
    persistence: dict = {"enabled": True}  # grafana values.yaml:424-432
    storage_class = config.storage_class_of(grafana)
    if storage_class:
        persistence["storageClassName"] = storage_class
    persistence["size"] = grafana.storage_size
    return {
        "persistence": persistence,
        # The chart's init container runs `chown -R 472:472` as root on the volume, which NFS with
        # root_squash (the exportfs default) refuses: Init:CrashLoopBackOff. Grafana runs as 472 with
        # fsGroup 472 (grafana values.yaml:149-153), which is what a volume needs.
        "initChownData": {"enabled": False},  # grafana values.yaml:460
        # A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
        "deploymentStrategy": {"type": "Recreate"},  # grafana values.yaml:77
    }


def _grafana(config: Config) -> dict:
    if config.grafana_operator is not None:
        return grafana_operator.chart_values(config)
    out: dict = {
        "admin": {  # v:1376-1380
            "existingSecret": config.secret_name,
            "userKey": GRAFANA_ADMIN_USER_KEY,
            "passwordKey": GRAFANA_ADMIN_PASSWORD_KEY,
        },
        **_grafana_persistence(config),
        "resources": config.grafana.resources.to_values(),  # grafana values.yaml:362
        # Picks up the loki-datasource ConfigMap (label grafana_datasource: "1", same namespace).
        "sidecar": {"datasources": {"enabled": True}},  # v:1462
    }
    if config.dashboards.enabled:
        # Our dashboard ConfigMaps name their folder in this annotation (grafana values.yaml:1126-1128, 1200).
        out["sidecar"]["dashboards"] = {
            "folderAnnotation": dashboards.FOLDER_ANNOTATION,
            "provider": {"foldersFromFilesStructure": True},
        }
    url = config.external_url("grafana")
    if url:
        # Redirects and links Grafana writes (grafana values.yaml:901-904); the chart sets only server.domain.
        out["grafana.ini"] = {"server": {"root_url": url}}
    return out


# Control-plane components: values key -> the defaultRules.rules keys of their alerts and
# recording rules (v:174-201). Off, a component takes its rules with it: no KubeSchedulerDown,
# KubeControllerManagerDown, etcdMembersDown or TargetDown for a target that cannot exist.
CONTROL_PLANE_RULES = {
    "kubeControllerManager": ("kubeControllerManager",),
    "kubeScheduler": ("kubeSchedulerAlerting", "kubeSchedulerRecording"),
    "kubeEtcd": ("etcd",),
    "kubeProxy": ("kubeProxy",),
}

# Pod labels of the static pods, per distribution, for the Services the chart puts in front of
# them (v:1952, v:2367). kubeadm: `component: <name>` (kubeadm's static pod manifests); Talos:
# `k8s-app: <name>` (siderolabs/talos internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go).
_SELECTOR_KEY = {"kubeadm": "component", "talos": "k8s-app"}
_POD_NAME = {"kubeControllerManager": "kube-controller-manager", "kubeScheduler": "kube-scheduler"}

# What Prometheus can reach once the user has bound the metrics listeners to the node address
# (README, Control plane). Talos runs etcd as a host service, not a pod, and its kube-proxy is
# often replaced (Cilium) or not scrapable depending on its version: both stay off (spec.values
# can turn them on). k3s runs every component inside the k3s process (no pod to select), and
# managed clusters hide them: nothing there.
REACHABLE = {
    "kubeadm": ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"),
    "talos": ("kubeControllerManager", "kubeScheduler"),
}


def control_plane(config: Config) -> dict:
    """kubeControllerManager/kubeScheduler/kubeEtcd/kubeProxy and their default rules, for the distribution."""
    cp = config.control_plane
    reachable = REACHABLE.get(cp.distribution, ()) if cp.metrics_exposed else ()
    out: dict = {}
    rules: dict = {}
    for component, rule_keys in CONTROL_PLANE_RULES.items():
        on = component in reachable
        out[component] = {"enabled": on}
        if on and component in _POD_NAME:
            out[component]["service"] = {"selector": {_SELECTOR_KEY[cp.distribution]: _POD_NAME[component]}}
        rules.update({key: on for key in rule_keys})
    out["defaultRules"] = {"rules": rules}
    return out


# Alerts that are a whole rule group of the chart: disabled by name they would leave the group with
# `rules: null` (kube-prometheus-stack templates/prometheus/rules-1.14/kube-apiserver-slos.yaml), so
# the group's own switch turns them off (v:174-201).
WHOLE_GROUPS = {"KubeAPIErrorBudgetBurn": "kubeApiserverSlos"}


def default_rules(config: Config) -> dict:
    """The chart's default alerts turned off by name (docs/operations/alerts.md): `defaultRules.disabled` (v:312)."""
    names = config.alerting.disabled_rules
    out: dict = {}
    groups = {WHOLE_GROUPS[name]: False for name in names if name in WHOLE_GROUPS}
    if groups:
        out["rules"] = groups
    by_name = [name for name in names if name not in WHOLE_GROUPS]
    if by_name:
        out["disabled"] = dict.fromkeys(by_name, True)
    return out


def _kube_state_metrics(config: Config) -> dict:
    # kube-state-metrics-7.2.2 values.yaml:479
    out: dict = {"resources": config.kube_state_metrics.resources.to_values()}
    if not flux_operator.enabled(config):  # Flux Operator exports flux_resource_info itself
        out["rbac"] = {"extraRules": flux_metrics.rbac_rules()}  # values.yaml:100
        out["customResourceState"] = flux_metrics.custom_resource_state()  # values.yaml:448-462
    return out


def values(config: Config) -> dict:
    """The chart values, before the user's spec.values overrides."""
    out = {
        "additionalPrometheusRulesMap": prometheus_rules.rules_map(config),  # v:328, top level
        "prometheus": _prometheus(config),
        "alertmanager": _alertmanager(config),
        "grafana": _grafana(config),
        # The subchart's key; `nodeExporter.resources` would be ignored
        # (v:2599, docs/reference/charts.md#4-kube-prometheus-stack-audit).
        "prometheus-node-exporter": {"resources": config.node_exporter.resources.to_values()},
        "kube-state-metrics": _kube_state_metrics(config),
        **control_plane(config),
    }
    out["defaultRules"] = deep_merge(out["defaultRules"], default_rules(config))
    return out


def resources(config: Config) -> list[dict]:
    """The HelmRelease; the chart's CRDs are created and replaced on install and upgrade."""
    merged = deep_merge(values(config), privilege.kube_prometheus_stack(config))
    merged = deep_merge(deep_merge(merged, profile.kube_prometheus_stack(config)), config.values[CHART])
    return [helm_release(config, CHART, merged, crds=True)]
