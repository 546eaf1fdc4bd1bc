"""spec.flux.distribution: flux-operator: alerts on Flux Operator's metrics (real promtool), its monitors and
dashboards, kube-state-metrics without Flux's customResourceState, and the `flux-operator` rule."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from krm_fn import components
from krm_fn.checks.flux_operator import check_flux_operator
from krm_fn.components import flux_operator
from krm_fn.components.privilege import KSM_COLLECTORS
from tests.helpers import REPO, load, promtool_test, protected_config, rule_run

pytestmark = pytest.mark.e2e


def operator_config(**flux) -> dict:
    config = protected_config()
    config["spec"]["flux"] = {"distribution": "flux-operator", **flux}
    return config


def generated(config: dict) -> list[dict]:
    return components.generate(load(config))


def resource(
    kind: str,
    name: str,
    ready: str,
    reason: str,
    suspended: str = "False",
    revision: str = "r1",
    ns: str = "flux-system",
) -> str:
    """One flux_resource_info series as Prometheus scrapes the operator (in flux-system): the object's namespace
    in `exported_namespace`, the target's in `namespace`."""
    return (
        f'flux_resource_info{{uid="u-{name}", kind="{kind}", name="{name}", exported_namespace="{ns}", '
        f'ready="{ready}", reason="{reason}", suspended="{suspended}", revision="{revision}", url="", ref="", '
        f'source_name="", path="", job="flux-operator", namespace="flux-system"}}'
    )


def instance(ready: str, reason: str, suspended: str = "False") -> str:
    return (
        f'flux_instance_info{{uid="i", kind="FluxInstance", name="flux", exported_namespace="flux-system", '
        f'ready="{ready}", reason="{reason}", suspended="{suspended}", registry="ghcr.io/fluxcd", '
        'revision="v2.9.4@sha256:0a1b", job="flux-operator", namespace="flux-system"}'
    )


def check(tmp_path, series: list[dict], alerts: list[dict], config: dict | None = None) -> None:
    case = {"interval": "1m", "input_series": series, "alert_rule_test": alerts}
    tests = {"evaluation_interval": "1m", "tests": [case]}
    proc = promtool_test(tmp_path, "flux-rules", tests, config or operator_config())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def kustomization_labels(name: str = "apps", ns: str = "flux-system") -> dict:
    """Labelled kind/namespace/name like the object's Flux event (alerting.flux_inhibit_rule matches them)."""
    return {"severity": "warning", "kind": "Kustomization", "namespace": ns, "name": name}


# --- alerts (promtool test rules) -------------------------------------------------------------------


def test_not_ready_fires_after_10m_with_the_reason_in_the_push(tmp_path):
    series = [{"series": resource("Kustomization", "apps", "False", "BuildFailed"), "values": "1x20"}]
    summary = "Flux Kustomization flux-system/apps is not ready: BuildFailed"
    check(
        tmp_path,
        series,
        [
            {"eval_time": "9m", "alertname": "FluxResourceNotReady", "exp_alerts": []},
            {
                "eval_time": "11m",
                "alertname": "FluxResourceNotReady",
                "exp_alerts": [
                    {
                        "exp_labels": kustomization_labels(),
                        "exp_annotations": {
                            "summary": summary,
                            "description": "Kustomization flux-system/apps has reported Ready=False (BuildFailed) for "
                            "more than 10m. Run: flux events --for Kustomization/apps -n flux-system",
                        },
                    }
                ],
            },
        ],
    )


def test_an_object_outside_flux_system_is_labelled_with_its_own_namespace(tmp_path):
    """The scrape target's `namespace` (flux-system) gives way to the object's (exported_namespace), as in its event."""
    series = [{"series": resource("HelmRelease", "web", "False", "InstallFailed", ns="apps"), "values": "1x20"}]
    labels = {"severity": "warning", "kind": "HelmRelease", "namespace": "apps", "name": "web"}
    annotations = {
        "summary": "Flux HelmRelease apps/web is not ready: InstallFailed",
        "description": "HelmRelease apps/web has reported Ready=False (InstallFailed) for more than 10m. Run: flux "
        "events --for HelmRelease/web -n apps",
    }
    alert = {"exp_labels": labels, "exp_annotations": annotations}
    check(tmp_path, series, [{"eval_time": "11m", "alertname": "FluxResourceNotReady", "exp_alerts": [alert]}])


def test_a_new_reason_or_revision_does_not_restart_the_wait_and_the_push_says_the_latest(tmp_path):
    series = [
        {"series": resource("Kustomization", "apps", "False", "BuildFailed", revision="r1"), "values": "1x5 _x15"},
        {
            "series": resource("Kustomization", "apps", "False", "HealthCheckFailed", revision="r2"),
            "values": "_x5 1x15",
        },
    ]
    annotations = {
        "summary": "Flux Kustomization flux-system/apps is not ready: HealthCheckFailed",
        "description": "Kustomization flux-system/apps has reported Ready=False (HealthCheckFailed) for more than "
        "10m. Run: flux events --for Kustomization/apps -n flux-system",
    }
    alert = {"exp_labels": kustomization_labels(), "exp_annotations": annotations}
    check(tmp_path, series, [{"eval_time": "11m", "alertname": "FluxResourceNotReady", "exp_alerts": [alert]}])


@pytest.mark.parametrize(
    ("ready", "reason", "suspended"),
    [
        ("True", "ReconciliationSucceeded", "False"),
        ("False", "DependencyNotReady", "False"),  # its dependency alerts for itself
        ("False", "BuildFailed", "True"),  # suspended on purpose
    ],
)
def test_not_ready_stays_quiet(tmp_path, ready: str, reason: str, suspended: str):
    series = [{"series": resource("Kustomization", "apps", ready, reason, suspended), "values": "1x30"}]
    check(tmp_path, series, [{"eval_time": "25m", "alertname": "FluxResourceNotReady", "exp_alerts": []}])


def test_stuck_fires_for_unknown_after_unknown_for_but_never_for_kinds_without_a_ready_condition(tmp_path):
    series = [
        {"series": resource("HelmRelease", "big", "Unknown", "Progressing"), "values": "1x90"},
        {"series": resource("Alert", "flux-alerts", "Unknown", ""), "values": "1x90"},
        {"series": resource("Provider", "alertmanager", "Unknown", ""), "values": "1x90"},
    ]
    labels = {"severity": "warning", "kind": "HelmRelease", "namespace": "flux-system", "name": "big"}
    check(
        tmp_path,
        series,
        [
            {"eval_time": "59m", "alertname": "FluxResourceStuck", "exp_alerts": []},
            {
                "eval_time": "61m",
                "alertname": "FluxResourceStuck",
                "exp_alerts": [
                    {
                        "exp_labels": labels,
                        "exp_annotations": {
                            "summary": "Flux HelmRelease flux-system/big has been reconciling for more than 1h",
                            "description": "HelmRelease flux-system/big has reported Ready=Unknown (reconciliation in "
                            "progress) for more than 1h. Run: flux get all -A --status-selector ready=unknown",
                        },
                    }
                ],
            },
        ],
    )


def absent(namespace: str = "flux-system") -> dict:
    return {
        "exp_labels": {"severity": "critical", "exported_namespace": namespace},
        "exp_annotations": {
            "summary": f"Flux Operator reports no FluxInstance in {namespace}",
            "description": f"flux_instance_info for namespace {namespace} has been missing for 15m: the Flux Operator "
            "is down or not scraped (ServiceMonitor monitoring/flux-operator), so no Flux alert can fire either. Run: "
            f"kubectl -n {namespace} get fluxinstance,deploy/flux-operator",
        },
    }


def test_instance_absent_fires_when_the_operator_is_not_scraped(tmp_path):
    series = [{"series": 'up{job="other"}', "values": "1x30"}]
    check(
        tmp_path,
        series,
        [
            {"eval_time": "14m", "alertname": "FluxInstanceAbsent", "exp_alerts": []},
            {"eval_time": "16m", "alertname": "FluxInstanceAbsent", "exp_alerts": [absent()]},
        ],
    )
    present = [{"series": instance("True", "ReconciliationSucceeded"), "values": "1x30"}]
    check(tmp_path, present, [{"eval_time": "20m", "alertname": "FluxInstanceAbsent", "exp_alerts": []}])


def test_instance_not_ready_fires_with_the_reason(tmp_path):
    series = [{"series": instance("False", "HealthCheckFailed"), "values": "1x30"}]
    labels = {"severity": "critical", "kind": "FluxInstance", "namespace": "flux-system", "name": "flux"}
    summary = "FluxInstance flux-system/flux is not ready: HealthCheckFailed"
    description = (
        "FluxInstance flux-system/flux has not been Ready (HealthCheckFailed) for 15m: the Flux controllers may be "
        "missing or failing to upgrade. Run: kubectl -n flux-system events --for fluxinstance/flux"
    )
    check(
        tmp_path,
        series,
        [
            {"eval_time": "14m", "alertname": "FluxInstanceNotReady", "exp_alerts": []},
            {
                "eval_time": "16m",
                "alertname": "FluxInstanceNotReady",
                "exp_alerts": [
                    {"exp_labels": labels, "exp_annotations": {"summary": summary, "description": description}}
                ],
            },
        ],
    )
    suspended = [{"series": instance("False", "HealthCheckFailed", suspended="True"), "values": "1x30"}]
    check(tmp_path, suspended, [{"eval_time": "20m", "alertname": "FluxInstanceNotReady", "exp_alerts": []}])


def test_instance_rules_follow_the_flux_namespace(tmp_path):
    config = operator_config(namespace="flux")
    series = [{"series": instance("True", "ReconciliationSucceeded"), "values": "1x30"}]  # in flux-system
    alerts = [{"eval_time": "16m", "alertname": "FluxInstanceAbsent", "exp_alerts": [absent("flux")]}]
    check(tmp_path, series, alerts, config)


# --- what is generated ---------------------------------------------------------------------------


def test_the_operators_pod_and_service_monitors_replace_ours():
    objects = generated(operator_config())
    monitors = {(o["kind"], o["metadata"]["name"]): o for o in objects if o["apiVersion"] == "monitoring.coreos.com/v1"}
    assert sorted(monitors) == [("PodMonitor", "flux-controllers"), ("ServiceMonitor", "flux-operator")]
    pod = monitors[("PodMonitor", "flux-controllers")]["spec"]
    assert pod["namespaceSelector"] == {"matchNames": ["flux-system"]}
    assert pod["selector"]["matchExpressions"] == [
        {"key": "app.kubernetes.io/part-of", "operator": "In", "values": ["flux"]}
    ]
    assert pod["podMetricsEndpoints"] == [{"port": "http-prom"}]
    service = monitors[("ServiceMonitor", "flux-operator")]["spec"]
    assert service["selector"] == {"matchLabels": {"app.kubernetes.io/name": "flux-operator"}}
    assert service["endpoints"] == [{"targetPort": 8080, "path": "/metrics"}]


def test_kube_state_metrics_gets_no_flux_custom_resource_state():
    def ksm(config: dict) -> dict:
        (kps,) = [o for o in generated(config) if o["metadata"]["name"] == "kube-prometheus-stack"]
        return kps["spec"]["values"]["kube-state-metrics"]

    # Least privilege holds in both: no Secret or ConfigMap collector (krm_fn/components/privilege.py).
    assert set(ksm(operator_config())) == {"resources", "collectors"}
    assert {"rbac", "customResourceState"} <= set(ksm(protected_config()))
    assert ksm(operator_config())["collectors"] == ksm(protected_config())["collectors"] == list(KSM_COLLECTORS)


def test_flux_operators_dashboards_replace_our_flux_dashboard():
    names = sorted(o["metadata"]["name"] for o in generated(operator_config()) if o["kind"] == "ConfigMap")
    assert names == [
        "dashboard-flux-k8s-api-performance",
        "dashboard-flux-performance",
        "dashboard-logs",
        "loki-datasource",
    ]
    (cm,) = [o for o in generated(operator_config()) if o["metadata"]["name"] == "dashboard-flux-performance"]
    model = json.loads(cm["data"]["dashboard-flux-performance.json"])
    vendored = json.loads((REPO / "third_party/upstream/flux-operator/dashboards/flux-performance.json").read_text())
    assert model == vendored
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_with_grafana_operator_they_are_grafana_dashboards():
    config = operator_config()
    config["spec"]["grafana"] = {"mode": "operator", "operator": {"instanceSelector": {"matchLabels": {"d": "g"}}}}
    names = sorted(o["metadata"]["name"] for o in generated(config) if o["kind"] == "GrafanaDashboard")
    assert names == ["dashboard-flux-k8s-api-performance", "dashboard-flux-performance", "dashboard-logs"]


def test_auto_and_upstream_keep_the_upstream_monitoring():
    for distribution in ("auto", "upstream"):
        config = protected_config()
        config["spec"]["flux"] = {"distribution": distribution}
        assert generated(config) == generated(protected_config())


def test_the_packaged_dashboards_are_the_vendored_ones():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_operator_data.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(flux_operator.dashboards()) == sorted(flux_operator.DASHBOARDS)


# --- the rule -------------------------------------------------------------------------------------

OPERATOR_RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: flux-operator, namespace: flux-system}}
spec:
  chartRef: {{kind: OCIRepository, name: flux-operator}}
  interval: 1h
  values:
    serviceMonitor: {{create: {create}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {{name: flux-operator, namespace: flux-system}}
spec:
  interval: 15m
  url: oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator
  ref: {{tag: 0.58.1}}
"""


def test_the_charts_own_service_monitor_scrapes_the_operator_twice():
    results = rule_run(check_flux_operator, {"r.yaml": OPERATOR_RELEASE.format(create="true")}, operator_config())
    assert [(r.severity.value, r.field) for r in results] == [("warning", "spec.values.serviceMonitor.create")]
    assert rule_run(check_flux_operator, {"r.yaml": OPERATOR_RELEASE.format(create="false")}, operator_config()) == []


def test_auto_with_flux_operator_objects_says_what_the_distribution_gives():
    instance_file = """
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec:
  distribution: {version: 2.x, registry: ghcr.io/fluxcd}
"""
    config = protected_config()
    results = rule_run(check_flux_operator, {"i.yaml": instance_file}, config)
    assert [(r.severity.value, r.field) for r in results] == [("info", "spec.flux.distribution")]
    assert rule_run(check_flux_operator, {}, config) == []
    # In upstream mode the chart's ServiceMonitor is the only one: nothing to say.
    assert rule_run(check_flux_operator, {"r.yaml": OPERATOR_RELEASE.format(create="true")}, config) == []
