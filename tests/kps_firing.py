"""Real kube-prometheus-stack alerts, firing: the chart's own rules on series shaped like its scrapes.

The rules are kube-prometheus-stack 88.5.3's, as helm renders them for the default config
(tests/fixtures/kps-88.5.3/README.md). The input series carry the labels the real targets give
them: kube-state-metrics (honorLabels: the object's namespace/pod/container win, its own pod and
container stay on metrics that have none), node-exporter (its pod, namespace monitoring), the kubelet
(honorLabels, `node` from the endpoint's target). `promtool test rules` proves that each rule fires
with exactly the labels and annotations below; tests/test_alertmanager_pushes.py posts them to the
real Alertmanager as Prometheus would.
"""

from __future__ import annotations

from pathlib import Path

RULES = Path(__file__).parent / "fixtures" / "kps-88.5.3" / "rules.yaml"
EVAL_TIME = "35m"

KSM = {
    "endpoint": "http",
    "instance": "10.42.0.7:8080",
    "job": "kube-state-metrics",
    "service": "kube-prometheus-stack-kube-state-metrics",
}
KSM_OWN = {"container": "kube-state-metrics", "pod": "kube-prometheus-stack-kube-state-metrics-6d4b9c7f8-7hq2m"}
NODE_EXPORTER = {
    "container": "node-exporter",
    "endpoint": "http-metrics",
    "instance": "192.168.1.21:9100",
    "job": "node-exporter",
    "namespace": "monitoring",
    "pod": "kube-prometheus-stack-prometheus-node-exporter-7xk2p",
    "service": "kube-prometheus-stack-prometheus-node-exporter",
}
KUBELET = {
    "endpoint": "https-metrics",
    "instance": "192.168.1.21:10250",
    "job": "kubelet",
    "metrics_path": "/metrics",
    "node": "n1",
    "service": "kube-prometheus-stack-kubelet",
}
CRASH = {
    **KSM,
    "container": "web",
    "namespace": "apps",
    "pod": "web-7c9d8f6b5-x2x9q",
    "reason": "CrashLoopBackOff",
    "uid": "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
}
DEPLOYMENT = {**KSM, **KSM_OWN, "deployment": "api", "namespace": "apps"}
FILESYSTEM = {**NODE_EXPORTER, "device": "/dev/sda2", "fstype": "ext4", "mountpoint": "/var"}
NODE = {**KSM, **KSM_OWN, "namespace": "monitoring", "node": "n2"}
VOLUME = {**KUBELET, "namespace": "apps", "persistentvolumeclaim": "data-postgres-0"}


def _series(metric: str, labels: dict, values: str) -> dict:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{metric}{{{inner}}}", "values": values}


INPUT_SERIES = [
    _series("kube_pod_container_status_waiting_reason", CRASH, "1x40"),
    _series("kube_deployment_spec_replicas", DEPLOYMENT, "2x40"),
    _series("kube_deployment_status_replicas_available", DEPLOYMENT, "1x40"),
    _series("kube_deployment_status_replicas_updated", DEPLOYMENT, "2x40"),
    _series("node_filesystem_avail_bytes", FILESYSTEM, "4x40"),
    _series("node_filesystem_size_bytes", FILESYSTEM, "100x40"),
    _series("node_filesystem_readonly", FILESYSTEM, "0x40"),
    _series("kube_node_status_condition", {**NODE, "condition": "Ready", "status": "true"}, "0x40"),
    _series("kube_node_spec_unschedulable", NODE, "0x40"),
    _series("kubelet_volume_stats_available_bytes", VOLUME, "2x40"),
    _series("kubelet_volume_stats_capacity_bytes", VOLUME, "100x40"),
    _series("kubelet_volume_stats_used_bytes", VOLUME, "98x40"),
]

RUNBOOKS = "https://runbooks.prometheus-operator.dev/runbooks"
# alertname -> (labels of the firing alert, alertname aside; annotations), as promtool must find them.
FIRING: dict[str, tuple[dict, dict]] = {
    "KubePodCrashLooping": (
        {**CRASH, "severity": "warning"},
        {
            "description": 'Pod apps/web-7c9d8f6b5-x2x9q (web) is in waiting state (reason: "CrashLoopBackOff") '
            "on cluster .",
            "runbook_url": f"{RUNBOOKS}/kubernetes/kubepodcrashlooping",
            "summary": "Pod is crash looping.",
        },
    ),
    "KubeDeploymentReplicasMismatch": (
        {**DEPLOYMENT, "severity": "warning"},
        {
            "description": "Deployment apps/api has not matched the expected number of replicas for longer than "
            "15 minutes on cluster .",
            "runbook_url": f"{RUNBOOKS}/kubernetes/kubedeploymentreplicasmismatch",
            "summary": "Deployment has not matched the expected number of replicas.",
        },
    ),
    "NodeFilesystemAlmostOutOfSpace": (
        {**FILESYSTEM, "severity": "warning"},
        {
            "description": "Filesystem on /dev/sda2, mounted on /var, at 192.168.1.21:9100 has only 4.00% available "
            "space left.",
            "runbook_url": f"{RUNBOOKS}/node/nodefilesystemalmostoutofspace",
            "summary": "Filesystem has less than 5% space left.",
        },
    ),
    "KubeNodeNotReady": (
        {**NODE, "condition": "Ready", "status": "true", "severity": "warning"},
        {
            "description": "n2 has been unready for more than 15 minutes on cluster .",
            "runbook_url": f"{RUNBOOKS}/kubernetes/kubenodenotready",
            "summary": "Node is not ready.",
        },
    ),
    "KubePersistentVolumeFillingUp": (
        {**VOLUME, "severity": "critical"},
        {
            "description": "The PersistentVolume claimed by data-postgres-0 in Namespace apps  is only 2% free.",
            "runbook_url": f"{RUNBOOKS}/kubernetes/kubepersistentvolumefillingup",
            "summary": "PersistentVolume is filling up.",
        },
    ),
}


def unit_tests() -> dict:
    """promtool's test file: before their `for:` nothing fires; at EVAL_TIME each rule fires exactly as FIRING says."""
    checks = []
    for alertname, (labels, annotated) in FIRING.items():
        checks.append({"eval_time": "0m", "alertname": alertname, "exp_alerts": []})
        checks.append(
            {
                "eval_time": EVAL_TIME,
                "alertname": alertname,
                "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotated}],
            }
        )
    return {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": INPUT_SERIES, "alert_rule_test": checks}],
    }
