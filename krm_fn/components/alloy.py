"""Alloy as a DaemonSet shipping the container logs of its node to Loki.

`v:` lines are in third_party/upstream/charts/alloy-1.11.1/values.yaml; docs/reference/charts.md#7-alloy-audit.
The pipeline goes under `alloy.configMap.content` (with `content` empty the chart ships a demo
config that sends nothing). The chart passes it through Helm `tpl`, so it must contain no `{{`.

No clustering, in any profile: each pod discovers only its own node's pods (the `spec.nodeName`
field selector below), so there is no work to share. Alloy's clustering distributes only the
targets of components that opt in with a `clustering` block (grafana/alloy
docs/sources/get-started/clustering.md); on `loki.source.kubernetes` it would hand a node's pods to
peers that never discover them, and their logs would be lost. What one Alloy pod's loss costs: docs/ha.md.
"""

from __future__ import annotations

from krm_fn.components import profile
from krm_fn.components.common import deep_merge, helm_release, service_url
from krm_fn.config import Config

CHART = "alloy"
LOKI_PUSH_PATH = "/loki/api/v1/push"

# Exactly what the pipeline's components need (alloy_rbac.COMPONENTS; tests/test_components_alloy.py
# derives it from the pipeline). The chart's default rules (v:175-229) also grant get/list/watch on
# every Secret and ConfigMap of the cluster (for remote.kubernetes.*) to a DaemonSet on every node.
# The chart renders `rules` and then `clusterRules` into one ClusterRole (ALLOY templates/rbac.yaml
# at helm-chart/1.11.1), and an empty list of either renders as a stray `[]` inside the other's
# YAML list: both stay non-empty, so pods/log goes under clusterRules.
RBAC_RULES = [
    # discovery.kubernetes (role pod) lists and watches pods; loki.source.kubernetes gets each pod.
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
]
RBAC_CLUSTER_RULES = [
    # loki.source.kubernetes streams each container's log.
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]

# Pod label -> log label, in this order. `loki.source.kubernetes` reads logs through the
# Kubernetes API (pods/log), so no `__path__` and no host mount.
_RELABEL = (
    ("__meta_kubernetes_namespace", "namespace"),
    ("__meta_kubernetes_pod_name", "pod"),
    ("__meta_kubernetes_pod_container_name", "container"),
    ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "app"),
)


def _rule(source: str, target: str) -> str:
    return (
        "  rule {\n"
        f'    source_labels = ["{source}"]\n'
        '    action        = "replace"\n'
        f'    target_label  = "{target}"\n'
        "  }\n"
    )


def pipeline(config: Config) -> str:
    """The Alloy configuration: pods on this node -> labels -> Loki, with the cluster label."""
    push_url = service_url(profile.loki_service(config), config.namespace, LOKI_PUSH_PATH)
    rules = "\n".join(_rule(source, target) for source, target in _RELABEL)
    return (
        "// Pods on this node. The chart sets HOSTNAME to the node name (spec.nodeName).\n"
        'discovery.kubernetes "pods" {\n'
        '  role = "pod"\n'
        "  selectors {\n"
        '    role  = "pod"\n'
        '    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)\n'
        "  }\n"
        "}\n"
        "\n"
        "// Pod metadata -> log labels.\n"
        'discovery.relabel "pod_logs" {\n'
        "  targets = discovery.kubernetes.pods.targets\n"
        "\n"
        f"{rules}"
        "\n"
        "  rule {\n"
        '    source_labels = ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_container_name"]\n'
        '    action        = "replace"\n'
        '    target_label  = "job"\n'
        '    separator     = "/"\n'
        "  }\n"
        "}\n"
        "\n"
        "// Container logs through the Kubernetes API.\n"
        'loki.source.kubernetes "pod_logs" {\n'
        "  targets    = discovery.relabel.pod_logs.output\n"
        "  forward_to = [loki.process.pod_logs.receiver]\n"
        "}\n"
        "\n"
        "// The cluster label, as on metrics and alerts.\n"
        'loki.process "pod_logs" {\n'
        "  stage.static_labels {\n"
        "    values = {\n"
        f'      cluster = "{config.cluster}",\n'
        "    }\n"
        "  }\n"
        "  forward_to = [loki.write.default.receiver]\n"
        "}\n"
        "\n"
        'loki.write "default" {\n'
        "  endpoint {\n"
        f'    url = "{push_url}"\n'
        "  }\n"
        "}\n"
    )


def values(config: Config) -> dict:
    """The chart values, before the user's spec.values overrides."""
    return {
        # One `alloy:` block (the seed had two; the second silently replaced the first).
        "alloy": {
            "configMap": {"content": pipeline(config)},  # v:39
            "resources": config.alloy.resources.to_values(),  # v:137 (a top-level `resources` is ignored)
        },
        "controller": {"type": "daemonset"},  # v:282, the default, stated: one collector per node
        "rbac": {"rules": _copy(RBAC_RULES), "clusterRules": _copy(RBAC_CLUSTER_RULES)},  # v:175, v:214
        # Prometheus scrapes each Alloy pod's /metrics (port http-metrics); the log-path alerts read them.
        "serviceMonitor": {"enabled": True},  # v:525
    }


def _copy(rules: list[dict]) -> list[dict]:
    return [{key: list(value) for key, value in rule.items()} for rule in rules]


def resources(config: Config) -> list[dict]:
    """The HelmRelease, installed after Loki."""
    merged = deep_merge(values(config), config.values[CHART])
    return [helm_release(config, CHART, merged, depends_on="loki", timeout="5m")]
