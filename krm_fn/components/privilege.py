"""Least privilege in what the charts render: who may read Secrets, which Secret keys Alertmanager
mounts, and which namespace runs node-exporter.

Each overlay is merged over a chart's generated values and under the user's spec.values; the
`least-privilege` rule (krm_fn/checks/privilege.py) warns when spec.values turns one back.
docs/security.md says what each component may read and why, and tests/test_rendered_security.py
proves it on what helm renders. `v:` lines are in third_party/upstream/charts/values/<chart>/<version>.yaml.
"""

from __future__ import annotations

from krm_fn.charts import ALERTMANAGER_SECRETS_DIR
from krm_fn.components import alerting, namespace
from krm_fn.components.common import metadata
from krm_fn.config import Config

# The Role Grafana's sidecars get instead of the chart's, which grants `secrets` with every rule it
# writes (grafana templates/clusterrole.yaml and role.yaml, 11.3.7 and 12.11.1): ConfigMaps of the
# stack namespace. The chart's RBAC is off (rbac.create), so the function writes the Role and its
# RoleBinding to the ServiceAccount the chart creates.
GRAFANA_SIDECAR_ROLE = "grafana-sidecar"
GRAFANA_SERVICE_ACCOUNT = "kube-prometheus-stack-grafana"  # the chart's fullname for this release name
GRAFANA_SIDECAR_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
# The sidecars that load ConfigMaps into Grafana (grafana 11.3.7 v:1088, v:1205); `resource: both`
# (v:1125, v:1237) would have them list Secrets too.
GRAFANA_SIDECARS = ("dashboards", "datasources")

# kube-state-metrics' default collectors (kube-state-metrics 7.2.2 v:407-434; the same list in every
# release up to 8.4.0) without `configmaps` and `secrets`: no kube_secret_* or kube_configmap_*
# series, which no rule or dashboard of the stack reads, and no list/watch on every Secret.
KSM_COLLECTORS = (
    "certificatesigningrequests",
    "cronjobs",
    "daemonsets",
    "deployments",
    "endpointslices",
    "horizontalpodautoscalers",
    "ingresses",
    "jobs",
    "leases",
    "limitranges",
    "mutatingwebhookconfigurations",
    "namespaces",
    "networkpolicies",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "poddisruptionbudgets",
    "pods",
    "replicasets",
    "replicationcontrollers",
    "resourcequotas",
    "services",
    "statefulsets",
    "storageclasses",
    "validatingwebhookconfigurations",
    "volumeattachments",
)
KSM_SECRET_COLLECTORS = ("configmaps", "secrets")

RBAC_API = "rbac.authorization.k8s.io/v1"

# The Alertmanager volume holding the Secret keys the receivers read, and nothing else.
ALERTMANAGER_KEYS_VOLUME = "stack-secret-keys"


def alertmanager_keys(config: Config) -> list[str]:
    """The keys of the stack Secret Alertmanager's receivers read (their `*_file` paths)."""
    prefix = f"{ALERTMANAGER_SECRETS_DIR}/{config.secret_name}/"
    keys = set()

    def walk(node: object) -> None:
        # nested too: the heartbeat's http_config.authorization.credentials_file
        if isinstance(node, dict):
            for field, value in node.items():
                if field.endswith("_file") and isinstance(value, str) and value.startswith(prefix):
                    keys.add(value[len(prefix) :])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(alerting.receivers(config))
    return sorted(keys)


def _alertmanager(config: Config) -> dict:
    """A Secret volume of only the keys the receivers read, where their `*_file` paths point.

    `alertmanagerSpec.secrets` (v:963) would mount the whole stack Secret: the Grafana admin
    password and, in ha, the object-storage keys too.
    """
    keys = alertmanager_keys(config)
    if not keys:
        return {}
    volume = {
        "name": ALERTMANAGER_KEYS_VOLUME,
        "secret": {"secretName": config.secret_name, "items": [{"key": key, "path": key} for key in keys]},
    }
    mount = {
        "name": ALERTMANAGER_KEYS_VOLUME,
        "mountPath": f"{ALERTMANAGER_SECRETS_DIR}/{config.secret_name}",
        "readOnly": True,
    }
    return {"alertmanagerSpec": {"volumes": [volume], "volumeMounts": [mount]}}  # v:1198, v:1201


def _grafana(config: Config) -> dict:
    sidecars: dict = {
        # Only ConfigMaps, only the stack namespace (kube-prometheus-stack 82.18.0 v:1447 has the
        # dashboards sidecar search ALL namespaces).
        name: {"resource": "configmap", "searchNamespace": config.namespace}
        for name in GRAFANA_SIDECARS
    }
    # No ClusterRole, Role or binding from the chart (grafana 11.3.7 v:20): resources() writes them.
    return {"rbac": {"create": False}, "sidecar": sidecars}


def kube_prometheus_stack(config: Config) -> dict:
    """kube-prometheus-stack values that keep Secrets away from what does not read them."""
    out: dict = {}
    if config.grafana_operator is None:  # in operator mode the chart's Grafana is off
        out["grafana"] = _grafana(config)
    out["kube-state-metrics"] = {"collectors": list(KSM_COLLECTORS)}  # v:407
    # Its own namespace, which admits hostNetwork, hostPID and hostPath (prometheus-node-exporter 4.53.0 v:515).
    out["prometheus-node-exporter"] = {"namespaceOverride": namespace.node_exporter_namespace(config)}
    alertmanager = _alertmanager(config)
    if alertmanager:
        out["alertmanager"] = alertmanager
    return out


def loki(config: Config) -> dict:
    """The rules sidecar off: it watches every Secret and ConfigMap, for a ruler the stack does not use
    (loki 6.55.0 v:4143-4145; with it off the chart's ClusterRole has no rules)."""
    return {"sidecar": {"rules": {"enabled": False}}}


def resources(config: Config) -> list[dict]:
    """The Role Grafana's sidecars need and its RoleBinding to Grafana's ServiceAccount (none in
    grafana-operator mode: the chart's Grafana is off, and your instance reads GrafanaDashboards)."""
    if config.grafana_operator is not None:
        return []
    role = {
        "apiVersion": RBAC_API,
        "kind": "Role",
        "metadata": metadata(GRAFANA_SIDECAR_ROLE, config.namespace),
        "rules": [{key: list(value) for key, value in rule.items()} for rule in GRAFANA_SIDECAR_RULES],
    }
    binding = {
        "apiVersion": RBAC_API,
        "kind": "RoleBinding",
        "metadata": metadata(GRAFANA_SIDECAR_ROLE, config.namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": GRAFANA_SIDECAR_ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": GRAFANA_SERVICE_ACCOUNT, "namespace": config.namespace}],
    }
    return [role, binding]
