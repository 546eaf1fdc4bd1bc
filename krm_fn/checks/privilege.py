"""Rule `least-privilege`: spec.values does not turn back on what the stack keeps off.

The generated values (components/privilege.py, docs/security.md) keep Secrets away from the
components that do not read them, mount only the Secret keys Alertmanager reads, run node-exporter
in a namespace of its own and keep Prometheus' lifecycle endpoints off the Gateway. `spec.values`
overrides them; each override that gives a component back what it does not need is a warning
naming what it then can do, and one that leaves the stack unable to start is an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dig, dotted, has_path, on_config, rule
from krm_fn.components import namespace, privilege
from krm_fn.config import Config
from krm_fn.results import Result, Severity

RULE = "least-privilege"
KPS = "kube-prometheus-stack"

# Grafana's sidecars, and their chart defaults when the function sets nothing (grafana 11.3.7
# values.yaml: every `resource: both`; only dashboards and datasources are on in the stack).
GRAFANA_SIDECARS = ("dashboards", "datasources", "alerts", "notifiers", "plugins")
READS = ("get", "list", "watch", "*")
# kube-state-metrics collector -> (kind, metric prefix).
KSM_KINDS = {"secrets": ("Secret", "kube_secret"), "configmaps": ("ConfigMap", "kube_configmap")}

Finding = tuple[Severity, tuple[str, ...], str]


def reads_secrets(rules: object) -> bool:
    """Does a list of RBAC rules grant reading Secrets (core group, `secrets` or `*`, a read verb)?"""
    for entry in rules if isinstance(rules, list) else []:
        if not isinstance(entry, dict):
            continue
        groups, resources, verbs = (entry.get(k) or [] for k in ("apiGroups", "resources", "verbs"))
        if (
            isinstance(groups, list)
            and isinstance(resources, list)
            and isinstance(verbs, list)
            and {"", "*"} & set(groups)
            and {"secrets", "*"} & set(resources)
            and set(READS) & set(verbs)
        ):
            return True
    return False


def _grafana(config: Config, values: dict) -> Iterator[Finding]:
    if dig(values, ("rbac", "create")) is True:
        yield (
            Severity.WARNING,
            (KPS, "grafana", "rbac", "create"),
            "the chart's RBAC lets Grafana read every Secret of the cluster (a ClusterRole for its sidecars; a "
            "Role of the stack namespace with rbac.namespaced), where the generated Role grants ConfigMaps of "
            "the stack namespace only",
        )
    for name in GRAFANA_SIDECARS:
        ours = name in privilege.GRAFANA_SIDECARS
        enabled = dig(values, ("sidecar", name, "enabled"), ours)
        if enabled is not True:
            continue
        resource = dig(values, ("sidecar", name, "resource"), "configmap" if ours else "both")
        if resource in ("both", "secret"):
            yield (
                Severity.WARNING,
                (KPS, "grafana", "sidecar", name, "resource"),
                f"Grafana's {name} sidecar would list Secrets (resource: {resource}): its Role allows ConfigMaps "
                "only, so it fails with 403 Forbidden, and granting it lets Grafana read every Secret it can "
                "see; set resource: configmap",
            )
        searched = dig(values, ("sidecar", name, "searchNamespace"), config.namespace if ours else None)
        if searched not in (None, config.namespace):
            yield (
                Severity.WARNING,
                (KPS, "grafana", "sidecar", name, "searchNamespace"),
                f"Grafana's {name} sidecar would watch ConfigMaps in {searched}: its Role covers the stack "
                f"namespace {config.namespace} only, so it fails with 403 Forbidden; put the ConfigMaps in "
                f"{config.namespace} instead",
            )


def _kube_state_metrics(values: dict) -> Iterator[Finding]:
    for key in ("collectors", "collectorsExtra"):
        listed = dig(values, (key,))
        unwanted = sorted(set(listed) & set(privilege.KSM_SECRET_COLLECTORS)) if isinstance(listed, list) else []
        if unwanted:
            kinds = " and every ".join(KSM_KINDS[c][0] for c in unwanted)
            series = " and ".join(f"{KSM_KINDS[c][1]}_*" for c in unwanted)
            yield (
                Severity.WARNING,
                (KPS, "kube-state-metrics", key),
                f"kube-state-metrics would list and watch every {kinds} of the cluster, their data included, for "
                f"{series} series that no rule or dashboard of the stack reads; leave {', '.join(unwanted)} out",
            )
    if reads_secrets(dig(values, ("rbac", "extraRules"))):
        yield (
            Severity.WARNING,
            (KPS, "kube-state-metrics", "rbac", "extraRules"),
            "kube-state-metrics would be allowed to read every Secret of the cluster; grant only what its "
            "customResourceState reads",
        )


def _alertmanager(config: Config, values: dict) -> Iterator[Finding]:
    spec = (KPS, "alertmanager", "alertmanagerSpec")
    mounted = dig(values, ("alertmanagerSpec", "secrets"))
    if isinstance(mounted, list) and config.secret_name in mounted:
        keys = privilege.alertmanager_keys(config)
        yield (
            Severity.ERROR if keys else Severity.WARNING,
            (*spec, "secrets"),
            f"every Alertmanager pod would mount the whole Secret {config.secret_name} (Grafana's admin password; "
            "in the ha profile the object-storage keys too)"
            + (
                f", at the path of the generated volume {privilege.ALERTMANAGER_KEYS_VOLUME} of the keys its "
                "receivers read: the StatefulSet is refused (duplicate mountPath); leave it out"
                if keys
                else "; leave it out"
            ),
        )
    if not privilege.alertmanager_keys(config):
        return
    for key in ("volumes", "volumeMounts"):
        given = dig(values, ("alertmanagerSpec", key))
        if isinstance(given, list) and not any(
            isinstance(v, dict) and v.get("name") == privilege.ALERTMANAGER_KEYS_VOLUME for v in given
        ):
            yield (
                Severity.ERROR,
                (*spec, key),
                f"Helm replaces lists, so this drops the generated {privilege.ALERTMANAGER_KEYS_VOLUME} "
                f"{'volume' if key == 'volumes' else 'mount'} and the receivers' key files are not there: "
                f"Alertmanager cannot load its config; add the generated entry (see the rendered HelmRelease) "
                "to your list",
            )


def _node_exporter(config: Config, values: dict) -> Iterator[Finding]:
    if not has_path(values, ("namespaceOverride",)):
        return
    path = (KPS, "prometheus-node-exporter", "namespaceOverride")
    chosen = dig(values, ("namespaceOverride",)) or config.namespace
    own = namespace.node_exporter_namespace(config)
    if chosen == own:
        return
    level = config.namespace_metadata.pod_security
    if chosen == config.namespace and level in ("baseline", "restricted"):
        yield (
            Severity.ERROR,
            path,
            f"node-exporter would run in {config.namespace}, whose Pod Security level {level} refuses its "
            f"hostNetwork, hostPID and hostPath mounts: the DaemonSet gets no pods; leave namespaceOverride to "
            f"the function ({own})",
        )
    else:
        yield (
            Severity.WARNING,
            path,
            f"node-exporter would run in {chosen}, which must admit privileged pods (hostNetwork, hostPID, "
            f"hostPath /, /proc, /sys) and so every pod of that namespace; the function runs it in {own}, "
            "which holds nothing else",
        )


def _prometheus(values: dict) -> Iterator[Finding]:
    for path in (("route", "main", "enabled"), ("ingress", "enabled")):
        if dig(values, path) is True:
            yield (
                Severity.WARNING,
                (KPS, "prometheus", *path),
                "the chart's own route to Prometheus passes POST /-/quit and /-/reload (prometheus-operator "
                "turns the lifecycle API on) and has no access control; expose Prometheus with spec.ui.prometheus, "
                "whose route blocks them",
            )


def _loki(values: dict) -> Iterator[Finding]:
    if dig(values, ("sidecar", "rules", "enabled")) is True:
        yield (
            Severity.WARNING,
            ("loki", "sidecar", "rules", "enabled"),
            "Loki's rules sidecar would watch every Secret and ConfigMap of the cluster (ClusterRole "
            "loki-clusterrole) for the Loki ruler, which the stack does not use",
        )


def findings(config: Config) -> list[Finding]:
    """What the config's spec.values turns back on: (severity, path under spec.values, message)."""
    kps = _map(config.values.get(KPS))
    out: list[Finding] = []
    if config.grafana_operator is None:  # in operator mode the chart's Grafana is off
        out += _grafana(config, _map(kps.get("grafana")))
    out += _kube_state_metrics(_map(kps.get("kube-state-metrics")))
    out += _alertmanager(config, _map(kps.get("alertmanager")))
    out += _node_exporter(config, _map(kps.get("prometheus-node-exporter")))
    out += _prometheus(_map(kps.get("prometheus")))
    out += _loki(_map(config.values.get("loki")))
    return out


def _map(value: object) -> dict:
    return value if isinstance(value, dict) else {}


@rule(
    RULE,
    Severity.WARNING,
    "spec.values does not undo least privilege: Secrets for Grafana, Loki or kube-state-metrics, the whole Secret "
    "in Alertmanager, node-exporter in the stack namespace, Prometheus exposed past its route",
)
def check_privilege(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    for severity, path, message in findings(config):
        yield on_config(RULE, severity, message, config, dotted(["spec", "values", *path]))
