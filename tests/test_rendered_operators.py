"""grafana-operator, Flux Operator and the alert catalog, checked on what helm renders (tests/rendered/).

- kube-prometheus-stack with its Grafana off still renders its dashboards, each as a ConfigMap and a
  GrafanaDashboard that names it, for our instance selector and folder, valid for grafana-operator;
- under Flux Operator, kube-state-metrics runs without Flux's custom resource state, and the
  rendered flux rules are the operator's;
- krm_fn/charts/alerts.py (data from scripts/gen_kps_alerts.py) says exactly which default alerts,
  at which severity, the rendered PrometheusRules hold, in every case.
"""

from __future__ import annotations

import pytest

from krm_fn import validation
from krm_fn.charts import alerts
from tests.helm_render import CASES, find, golden, of_kind, rendered

KPS = "kube-prometheus-stack"


def _services(case: str) -> list[dict]:
    return of_kind(rendered(case), "Service")


def _kps_release(case: str) -> dict:
    return next(o for o in of_kind(golden(case), "HelmRelease") if o["metadata"]["name"] == KPS)


def _operator_cases() -> list[str]:
    return [c for c in CASES if of_kind(golden(c), "GrafanaDatasource")]


def _flux_operator_cases() -> list[str]:
    def scrapes_the_operator(case: str) -> bool:
        return any(o["metadata"]["name"] == "flux-operator" for o in of_kind(golden(case), "ServiceMonitor"))

    return [c for c in CASES if scrapes_the_operator(c)]


def test_the_operator_cases_are_rendered():
    assert {"grafana-operator", "operators"} <= set(_operator_cases())
    assert {"flux-operator", "operators"} <= set(_flux_operator_cases())


@pytest.mark.parametrize("case", _operator_cases())
def test_the_charts_grafana_is_off_but_its_dashboards_are_rendered_for_the_operator(case: str):
    objects = rendered(case, KPS)
    assert not [o for o in of_kind(objects, "Deployment", "Service") if o["metadata"]["name"].endswith("-grafana")]
    stack = golden(case)
    (folder,) = of_kind(stack, "GrafanaFolder")
    selector = of_kind(stack, "GrafanaDatasource")[0]["spec"]["instanceSelector"]
    maps = {
        o["metadata"]["name"]: o
        for o in of_kind(objects, "ConfigMap")
        if o["metadata"].get("labels", {}).get("grafana_dashboard")
    }
    dashboards = of_kind(objects, "GrafanaDashboard")
    assert len(dashboards) == len(maps) >= 20
    for dashboard in dashboards:
        spec = dashboard["spec"]
        assert spec["instanceSelector"] == selector
        assert spec["folderRef"] == folder["metadata"]["name"]
        assert dashboard["metadata"]["namespace"] == folder["metadata"]["namespace"]
        ref = spec["configMapRef"]
        assert ref["key"] in maps[ref["name"]]["data"], ref
        assert list(validation.validate(dashboard, "1.32")) == [], dashboard["metadata"]["name"]


@pytest.mark.parametrize("case", _operator_cases())
def test_our_grafana_objects_are_valid_and_point_at_rendered_services(case: str):
    services = {(s["metadata"].get("namespace", "monitoring"), s["metadata"]["name"]) for s in _services(case)}
    for obj in golden(case):
        if obj["apiVersion"].startswith("grafana.integreatly.org/"):
            assert list(validation.validate(obj, "1.32")) == [], obj["metadata"]["name"]
    for datasource in of_kind(golden(case), "GrafanaDatasource"):
        host = datasource["spec"]["datasource"]["url"].split("//")[1].split(":")[0].split(".")
        assert (host[1], host[0]) in services, datasource["spec"]["datasource"]["url"]


@pytest.mark.parametrize("case", _flux_operator_cases())
def test_kube_state_metrics_runs_without_flux_custom_resource_state(case: str):
    ksm = find(rendered(case, KPS), "Deployment", "kube-prometheus-stack-kube-state-metrics")
    args = " ".join(ksm["spec"]["template"]["spec"]["containers"][0].get("args", []))
    assert "custom-resource-state" not in args
    default = find(rendered("default", KPS), "Deployment", "kube-prometheus-stack-kube-state-metrics")
    assert "custom-resource-state" in " ".join(default["spec"]["template"]["spec"]["containers"][0]["args"])
    rules = find(rendered(case, KPS), "PrometheusRule", "kube-prometheus-stack-flux-rules")
    names = [r["alert"] for g in rules["spec"]["groups"] for r in g["rules"]]
    assert names == ["FluxResourceNotReady", "FluxResourceStuck", "FluxInstanceAbsent", "FluxInstanceNotReady"]


@pytest.mark.parametrize("case", CASES)
def test_the_alert_catalog_is_what_helm_renders(case: str):
    release = _kps_release(case)
    values = release["spec"]["values"]
    version = release["spec"].get("chart", {}).get("spec", {}).get("version")
    if version is None:  # an OCIRepository chartRef
        name = release["spec"]["chartRef"]["name"]
        source = next(o for o in of_kind(golden(case), "OCIRepository") if o["metadata"]["name"] == name)
        version = source["spec"]["ref"]["tag"]
    ours = {
        r["alert"]
        for rule_set in (values.get("additionalPrometheusRulesMap") or {}).values()
        for g in rule_set["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    got = {
        r["alert"]: r.get("labels", {}).get("severity", "")
        for rule in of_kind(rendered(case, KPS), "PrometheusRule")
        for g in rule["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r and r["alert"] not in ours
    }
    assert alerts.default_alerts(version, values) == got
