"""Flux -> Alertmanager (Provider, Alert) and the PodMonitor for the Flux controllers."""

from __future__ import annotations

import json

import jsonschema
import yaml

from krm_fn import components
from tests.helpers import UPSTREAM, config_with, default_config, load

SCHEMAS = UPSTREAM / "crds" / "json-schema"
UPSTREAM_PODMONITOR = yaml.safe_load((UPSTREAM / "flux-monitoring" / "podmonitor.yaml").read_text())


def find(config: dict, kind: str, name: str) -> dict:
    objects = components.generate(load(config))
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_provider_posts_to_the_alertmanager_service():
    provider = find(config_with(namespace="obs"), "Provider", "alertmanager")
    assert provider["apiVersion"] == "notification.toolkit.fluxcd.io/v1beta3"
    assert provider["metadata"]["namespace"] == "flux-system"
    assert provider["spec"] == {
        "type": "alertmanager",
        "address": "http://kube-prometheus-stack-alertmanager.obs.svc:9093/api/v2/alerts",
    }


def test_alert_watches_the_flux_namespace_and_the_stack_namespace():
    """An event source without namespace only covers the Alert's own namespace (alerts.md, v1beta3)."""
    config = config_with(flux={"namespace": "flux", "eventSources": ["Kustomization", "OCIRepository"]})
    alert = find(config, "Alert", "flux-alerts")
    assert alert["metadata"]["namespace"] == "flux"
    assert alert["spec"]["providerRef"] == {"name": "alertmanager"}
    assert alert["spec"]["eventSources"] == [
        {"kind": "Kustomization", "name": "*", "namespace": "flux"},
        {"kind": "OCIRepository", "name": "*", "namespace": "flux"},
        {"kind": "HelmRelease", "name": "*", "namespace": "monitoring"},
        {"kind": "HelmRepository", "name": "*", "namespace": "monitoring"},
    ]
    assert all("namespace" in source for source in alert["spec"]["eventSources"])


def test_alert_defaults_are_the_seed_kinds():
    sources = find(default_config(), "Alert", "flux-alerts")["spec"]["eventSources"]
    in_flux = [s["kind"] for s in sources if s["namespace"] == "flux-system"]
    assert in_flux == ["GitRepository", "Kustomization", "HelmRelease", "HelmRepository"]


def test_alert_without_duplicates_when_flux_and_stack_share_a_namespace():
    config = config_with(namespace="flux-system", flux={"eventSources": ["Kustomization", "HelmRelease"]})
    sources = find(config, "Alert", "flux-alerts")["spec"]["eventSources"]
    assert [(s["kind"], s["namespace"]) for s in sources] == [
        ("Kustomization", "flux-system"),
        ("HelmRelease", "flux-system"),
        ("HelmRepository", "flux-system"),  # the stack's own repositories, although not configured
    ]


def test_event_namespaces_add_each_kind_in_each_namespace_never_a_wildcard():
    """notification-controller matches a namespace exactly: "*" matches nothing (fluxcd/notification-controller#71)."""
    config = config_with(flux={"eventSources": ["Kustomization", "HelmRelease"], "eventNamespaces": ["apps", "media"]})
    sources = find(config, "Alert", "flux-alerts")["spec"]["eventSources"]
    assert [(s["kind"], s["namespace"]) for s in sources] == [
        ("Kustomization", "flux-system"),
        ("HelmRelease", "flux-system"),
        ("HelmRelease", "monitoring"),
        ("HelmRepository", "monitoring"),
        ("Kustomization", "apps"),
        ("HelmRelease", "apps"),
        ("Kustomization", "media"),
        ("HelmRelease", "media"),
    ]
    assert all(s["namespace"] != "*" and s["name"] == "*" for s in sources)


def test_alert_severity_and_cluster_label():
    alert = find(config_with(cluster="lab", flux={"eventSeverity": "info"}), "Alert", "flux-alerts")
    assert alert["spec"]["eventSeverity"] == "info"
    assert alert["spec"]["eventMetadata"] == {"cluster": "lab"}
    assert find(default_config(), "Alert", "flux-alerts")["spec"]["eventSeverity"] == "error"


def test_pod_monitor_scrapes_the_flux_controllers_and_is_selected_by_prometheus():
    monitor = find(config_with(flux={"namespace": "flux"}), "PodMonitor", "flux-system")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == "monitoring"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["flux"]}
    assert monitor["spec"]["podMetricsEndpoints"] == [{"port": "http-prom"}]


def test_pod_monitor_matches_the_flux_monitoring_example():
    monitor = find(default_config(), "PodMonitor", "flux-system")
    assert monitor["spec"] == UPSTREAM_PODMONITOR["spec"]
    for key, value in UPSTREAM_PODMONITOR["metadata"]["labels"].items():
        assert monitor["metadata"]["labels"][key] == value


def test_flux_objects_validate_against_the_crd_schemas():
    """The vendored JSON Schemas of the pinned Flux CRDs (closed: unknown fields are errors)."""
    config = config_with(alerting={"heartbeat": {}})
    objects = components.generate(load(config))
    checked = 0
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        path = SCHEMAS / group / f"{obj['kind'].lower()}_{version}.json"
        if not path.exists():
            continue
        jsonschema.validate(json.loads(json.dumps(obj)), json.loads(path.read_text()))
        checked += 1
    kinds = {o["kind"] for o in objects}
    assert {"Provider", "Alert", "HelmRelease", "HelmRepository", "HTTPRoute"} <= kinds
    assert checked == sum(
        1 for o in objects if o["kind"] in ("Provider", "Alert", "HelmRelease", "HelmRepository", "HTTPRoute")
    )
