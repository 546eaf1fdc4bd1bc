"""Alloy as a StatefulSet shipping every container's log to Loki, its read positions on a volume.

`v:` lines are in third_party/upstream/charts/alloy-1.11.1/values.yaml; docs/reference/charts.md#7-alloy-audit.
The pipeline goes under `alloy.configMap.content` (with `content` empty the chart ships a demo
config that sends nothing). The chart passes it through Helm `tpl`, so it must contain no `{{`.

Why a StatefulSet and not a DaemonSet: `loki.source.kubernetes` reads logs through the API server
(pods/log), never from the node, so one Alloy can read the whole cluster ("It doesn't require a
DaemonSet to collect logs", grafana/alloy docs loki.source.kubernetes.md at v1.18.1). It remembers
how far it read each container in `<storage.path>/loki.source.kubernetes.<label>/positions.yml`
(internal/component/loki/source/kubernetes/kubernetes.go:82-90, synced every 10 s), and resumes
from there with `sinceTime` (kubetail/tailer.go:163-191); without the file it reads each container's
log from the start again, which Loki refuses as `too_far_behind` and Alloy drops: pages after every
restart. The chart's default `storagePath` is in the container's own filesystem. A StatefulSet
gives each replica a PersistentVolumeClaim under Pod Security `baseline`, which a DaemonSet could
only match with a hostPath volume (refused by `baseline`).

One replica, in every profile, and no clustering. Clustered replicas would share the containers
(the `clustering` block of `loki.source.kubernetes`), but a container moves to another replica
whenever the membership changes (each pod of a rolling update, a drain) and its reading position
does not move with it: Alloy deletes the position of a target it no longer owns
(kubetail/kubetail.go:85-101 at v1.18.1), so the new owner and, later, the old one read that log
from the start again. The positions on the claim are what make a restart safe; what one Alloy's
node loss costs instead: docs/ha.md.
"""

from __future__ import annotations

from krm_fn.components import profile
from krm_fn.components.common import deep_merge, helm_release, service_url, volume_claim_spec
from krm_fn.config import Config

CHART = "alloy"
LOKI_PUSH_PATH = "/loki/api/v1/push"
# The image's own data directory (grafana/alloy Dockerfile at v1.18.1: /var/lib/alloy/data), on the claim.
DATA_VOLUME = "data"
STORAGE_PATH = "/var/lib/alloy/data"
# One Alloy reads every container of the cluster (see above for why not more).
REPLICAS = 1

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
    """The Alloy configuration: every pod's containers -> labels -> Loki, with the cluster label."""
    push_url = service_url(profile.loki_service(config), config.namespace, LOKI_PUSH_PATH)
    rules = "\n".join(_rule(source, target) for source, target in _RELABEL)
    return (
        "// Every pod of the cluster: the logs are read through the API server, from any node.\n"
        'discovery.kubernetes "pods" {\n'
        '  role = "pod"\n'
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
        "// Container logs through the Kubernetes API; positions under --storage.path (the volume).\n"
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
    alloy = config.alloy
    assert alloy.storage_size is not None  # the schema gives it a default
    claim = {
        "metadata": {"name": DATA_VOLUME},
        "spec": volume_claim_spec(config.storage_class_of(alloy), alloy.storage_size),
    }
    return {
        # One `alloy:` block (the seed had two; the second silently replaced the first).
        "alloy": {
            "configMap": {"content": pipeline(config)},  # v:39
            "storagePath": STORAGE_PATH,  # v:62; the chart's /tmp/alloy is lost with the container
            "mounts": {"extra": [{"name": DATA_VOLUME, "mountPath": STORAGE_PATH}]},  # v:131
            "resources": alloy.resources.to_values(),  # v:137 (a top-level `resources` is ignored)
        },
        "controller": {
            "type": "statefulset",  # v:282
            "replicas": REPLICAS,  # v:285
            "volumeClaimTemplates": [claim],  # v:483
        },
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
