"""Monitoring Flux the Flux Operator way (spec.flux.distribution: flux-operator).

Flux Operator exports the state of every Flux object as `flux_resource_info` and of the
FluxInstance as `flux_instance_info`, Ready reason included, which kube-state-metrics'
`gotk_resource_info` lacks (controlplaneio-fluxcd/flux-operator v0.58.1
internal/reporter/metrics.go; docs/guides/instance/instance-monitoring.md). So in this mode:
- the alerts read those metrics, the reason in the push (a `query` in the annotation, so a reason
  that changes does not restart the `for:`);
- the operator is scraped by the ServiceMonitor its monitoring config gives, and the controllers by
  its PodMonitor (config/monitoring/flux-operator.yaml, flux-controllers.yaml);
- its two Grafana dashboards replace ours (config/monitoring/dashboards/, vendored in
  third_party/upstream/flux-operator/);
- kube-state-metrics gets no customResourceState for Flux (kube_prometheus_stack reads `enabled`).
The alerts are labelled kind/namespace/name (the object's, from `exported_namespace`), as Flux's
events and the upstream mode's alerts are.
Labels and values: suspended is "True"/"False" (capitalised, unlike kube-state-metrics' spec.suspend);
ready "Unknown" and reason "" when the object has no Ready condition (Alerts and Providers of
notification.toolkit.fluxcd.io/v1beta3 have no status at all). The operator's own report counts an
object failing when Ready=False for any reason but DependencyNotReady (internal/reporter/reconcilers.go:131):
the dependency alerts for itself. Evidence in full: docs/reference/operators.md#4-flux-operator.
"""

from __future__ import annotations

import json
import os
from functools import cache

from krm_fn.charts import KPS_RELEASE_LABEL
from krm_fn.components.common import metadata
from krm_fn.config import Config

OPERATOR = "flux-operator"
# The alerts about one Flux object, labelled kind/namespace/name like its events: while the object's
# Flux event is active, alerting.flux_inhibit_rule holds them back (one push per failing object).
# FluxInstance events reach notification-controller too (the operator's --events-addr,
# docs/guides/instance/instance-monitoring.md).
OBJECT_ALERTS = ("FluxResourceNotReady", "FluxResourceStuck", "FluxInstanceNotReady")
NOT_READY_FOR = "10m"
INSTANCE_FOR = "15m"
# Kinds without a Ready condition: always ready="Unknown" in flux_resource_info.
NO_READY_CONDITION = "Alert|Provider"
DASHBOARDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "flux-operator")
# ConfigMap (sidecar) or GrafanaDashboard (operator mode) name -> vendored dashboard file.
DASHBOARDS = {
    "dashboard-flux-performance": "flux-performance.json",
    "dashboard-flux-k8s-api-performance": "flux-k8s-api-performance.json",
}

PODMONITOR_NAME = "flux-controllers"
SERVICEMONITOR_NAME = "flux-operator"
MONITOR_LABELS = {"app.kubernetes.io/component": "metrics", "app.kubernetes.io/part-of": "flux"}
CONTROLLERS_PORT = "http-prom"
OPERATOR_PORT = 8080


def enabled(config: Config) -> bool:
    """Is Flux monitored the Flux Operator way? Only when said so: the output must not depend on the pipeline."""
    return config.flux.distribution == OPERATOR


def _objects(metric: str, selector: str) -> str:
    """One series per Flux object, labelled kind/namespace/name as its Flux events are, so the Flux inhibit
    rule (alerting.flux_inhibit_rule) holds the alert back while the object's event is active. The
    operator puts the object's namespace in `exported_namespace`; `namespace` is the scrape target's."""
    relabelled = f'label_replace({metric}{{{selector}}}, "namespace", "$1", "exported_namespace", "(.+)")'
    return f"max by (kind, namespace, name) ({relabelled}) == 1"


def not_ready_expr() -> str:
    return _objects("flux_resource_info", 'ready="False", suspended="False", reason!="DependencyNotReady"')


def unknown_expr() -> str:
    return _objects("flux_resource_info", f'ready="Unknown", suspended="False", kind!~"{NO_READY_CONDITION}"')


def instance_absent_expr(config: Config) -> str:
    return f'absent(flux_instance_info{{exported_namespace="{config.flux.namespace}"}})'


def instance_not_ready_expr(config: Config) -> str:
    selector = f'exported_namespace="{config.flux.namespace}", ready!="True", suspended="False"'
    return _objects("flux_instance_info", selector)


# The series of the alert's object: metric label -> the alert label holding its value.
_OBJECT = {"kind": "kind", "exported_namespace": "namespace", "name": "name"}


def _reason(metric: str, ready: str) -> str:
    """A template reading the object's current Ready reason (the alert's labels leave it out): the
    series of the alert's object whose `ready` matches `ready` (a PromQL matcher such as `!="True"`)."""
    matchers = ", ".join(f"{label}=%q" for label in _OBJECT)
    values = " ".join(f"$labels.{label}" for label in _OBJECT.values())
    escaped = ready.replace('"', '\\"')  # inside the Go template's string literal
    query = f'printf "{metric}{{{matchers}, ready{escaped}}}" {values} | query'
    return f'{{{{ with {query} }}}}{{{{ . | first | label "reason" }}}}{{{{ end }}}}'


def rules(config: Config) -> dict:
    """The `flux-rules` group for Flux Operator's metrics (same alert names as the upstream mode's)."""
    what = "{{ $labels.kind }} {{ $labels.namespace }}/{{ $labels.name }}"
    reason = _reason("flux_resource_info", '="False"')
    instance_reason = _reason("flux_instance_info", '!="True"')
    instance = "FluxInstance {{ $labels.namespace }}/{{ $labels.name }}"
    return {
        "groups": [
            {
                "name": "flux.rules",
                "rules": [
                    {
                        "alert": "FluxResourceNotReady",
                        "expr": not_ready_expr(),
                        "for": NOT_READY_FOR,
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"Flux {what} is not ready: {reason}",
                            "description": (
                                f"{what} has reported Ready=False ({reason}) for more than {NOT_READY_FOR}. Run: flux "
                                "events --for {{ $labels.kind }}/{{ $labels.name }} -n {{ $labels.namespace }}"
                            ),
                        },
                    },
                    {
                        "alert": "FluxResourceStuck",
                        "expr": unknown_expr(),
                        "for": config.flux.unknown_for,
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"Flux {what} has been reconciling for more than {config.flux.unknown_for}",
                            "description": (
                                f"{what} has reported Ready=Unknown (reconciliation in progress) for more than "
                                f"{config.flux.unknown_for}. Run: flux get all -A --status-selector ready=unknown"
                            ),
                        },
                    },
                    {
                        "alert": "FluxInstanceAbsent",
                        "expr": instance_absent_expr(config),
                        "for": INSTANCE_FOR,
                        "labels": {"severity": "critical"},
                        "annotations": {
                            "summary": f"Flux Operator reports no FluxInstance in {config.flux.namespace}",
                            "description": (
                                f"flux_instance_info for namespace {config.flux.namespace} has been missing for "
                                f"{INSTANCE_FOR}: the Flux Operator is down or not scraped (ServiceMonitor "
                                f"{config.namespace}/{SERVICEMONITOR_NAME}), so no Flux alert can fire either. Run: "
                                f"kubectl -n {config.flux.namespace} get fluxinstance,deploy/flux-operator"
                            ),
                        },
                    },
                    {
                        "alert": "FluxInstanceNotReady",
                        "expr": instance_not_ready_expr(config),
                        "for": INSTANCE_FOR,
                        "labels": {"severity": "critical"},
                        "annotations": {
                            "summary": f"{instance} is not ready: {instance_reason}",
                            "description": (
                                f"{instance} has not been Ready ({instance_reason}) for {INSTANCE_FOR}: the Flux "
                                "controllers may be missing or failing to upgrade. Run: kubectl -n "
                                "{{ $labels.namespace }} events --for fluxinstance/{{ $labels.name }}"
                            ),
                        },
                    },
                ],
            }
        ]
    }


def monitors(config: Config) -> list[dict]:
    """The operator's PodMonitor for the controllers and ServiceMonitor for itself, in the stack namespace."""
    labels = {**MONITOR_LABELS, **KPS_RELEASE_LABEL}
    flux_namespace = {"matchNames": [config.flux.namespace]}
    pod_monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata(PODMONITOR_NAME, config.namespace, labels),
        "spec": {
            "namespaceSelector": flux_namespace,
            "selector": {
                "matchExpressions": [{"key": "app.kubernetes.io/part-of", "operator": "In", "values": ["flux"]}],
            },
            "podMetricsEndpoints": [{"port": CONTROLLERS_PORT}],
        },
    }
    service_monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": metadata(SERVICEMONITOR_NAME, config.namespace, labels),
        "spec": {
            "namespaceSelector": flux_namespace,
            "selector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR}},
            "endpoints": [{"targetPort": OPERATOR_PORT, "path": "/metrics"}],
        },
    }
    return [pod_monitor, service_monitor]


@cache
def _dashboard_text(file: str) -> str:
    with open(os.path.join(DASHBOARDS_DIR, file), encoding="utf-8") as handle:
        return handle.read()


def dashboards() -> dict[str, dict]:
    """Name -> Flux Operator's dashboard model, as vendored (a fresh copy each call)."""
    return {name: json.loads(_dashboard_text(file)) for name, file in DASHBOARDS.items()}
