"""Flux -> Alertmanager (Provider + Alert), and the PodMonitor that scrapes the Flux controllers."""

from __future__ import annotations

from krm_fn.charts import KPS_RELEASE_LABEL, UI_SERVICES
from krm_fn.components import flux_operator
from krm_fn.components.common import metadata, service_url
from krm_fn.config import Config

NOTIFICATION_API = "notification.toolkit.fluxcd.io/v1beta3"
PROVIDER_NAME = "alertmanager"
ALERT_NAME = "flux-alerts"
# Alertmanager's v2 API, route prefix "/" (docs/reference/charts.md#2-service-names-and-ports)
ALERTMANAGER_ALERTS_PATH = "/api/v2/alerts"

# The stack's own HelmReleases and HelmRepositories live in its namespace, not Flux's.
STACK_KINDS = ("HelmRelease", "HelmRepository")

# From the Flux monitoring example (third_party/upstream/flux-monitoring/podmonitor.yaml).
PODMONITOR_NAME = "flux-system"
FLUX_CONTROLLERS = (
    "helm-controller",
    "source-controller",
    "kustomize-controller",
    "notification-controller",
    "image-automation-controller",
    "image-reflector-controller",
)
METRICS_PORT = "http-prom"
PODMONITOR_LABELS = {"app.kubernetes.io/part-of": "flux", "app.kubernetes.io/component": "monitoring"}


def provider(config: Config) -> dict:
    """notification-controller's Provider posting events to Alertmanager's API."""
    address = service_url(UI_SERVICES["alertmanager"], config.namespace, ALERTMANAGER_ALERTS_PATH)
    return {
        "apiVersion": NOTIFICATION_API,
        "kind": "Provider",
        "metadata": metadata(PROVIDER_NAME, config.flux.namespace),
        "spec": {"type": "alertmanager", "address": address},
    }


def event_sources(config: Config) -> list[dict]:
    """Each configured kind in the Flux namespace and in spec.flux.eventNamespaces, plus the stack's
    HelmReleases/HelmRepositories.

    An event source without `namespace` means the Alert's own namespace (notification-controller
    docs/spec/v1beta3/alerts.md, "Event sources"), so the namespace is always written out.
    """
    wanted = [(kind, config.flux.namespace) for kind in config.flux.event_sources]
    wanted += [(kind, config.namespace) for kind in STACK_KINDS]
    # notification-controller matches the namespace exactly (no wildcard, fluxcd/notification-controller#71).
    wanted += [(kind, namespace) for namespace in config.flux.event_namespaces for kind in config.flux.event_sources]
    unique = list(dict.fromkeys(wanted))  # one entry per (kind, namespace), first occurrence first
    return [{"kind": kind, "name": "*", "namespace": namespace} for kind, namespace in unique]


def alert(config: Config) -> dict:
    """The Alert: Flux events of the configured severity, labelled with the cluster like Prometheus alerts."""
    return {
        "apiVersion": NOTIFICATION_API,
        "kind": "Alert",
        "metadata": metadata(ALERT_NAME, config.flux.namespace),
        "spec": {
            "providerRef": {"name": PROVIDER_NAME},
            "eventSeverity": config.flux.event_severity,
            "eventSources": event_sources(config),
            # Event metadata becomes alert labels in the Alertmanager notifier.
            "eventMetadata": {"cluster": config.cluster},
        },
    }


def pod_monitor(config: Config) -> dict:
    """Scrapes the Flux controllers; `release: kube-prometheus-stack` as the chart's selectors expect."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata(PODMONITOR_NAME, config.namespace, {**PODMONITOR_LABELS, **KPS_RELEASE_LABEL}),
        "spec": {
            "namespaceSelector": {"matchNames": [config.flux.namespace]},
            "selector": {
                "matchExpressions": [{"key": "app", "operator": "In", "values": list(FLUX_CONTROLLERS)}],
            },
            "podMetricsEndpoints": [{"port": METRICS_PORT}],
        },
    }


def resources(config: Config) -> list[dict]:
    """Provider and Alert in the Flux namespace; the monitors in the stack namespace (Flux Operator's in its mode)."""
    monitors = flux_operator.monitors(config) if flux_operator.enabled(config) else [pod_monitor(config)]
    return [provider(config), alert(config), *monitors]
