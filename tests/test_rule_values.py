"""The `helm-values` rule: every values path exists in the pinned chart version."""

from __future__ import annotations

import functools

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.charts import paths
from krm_fn.checks import CheckContext
from krm_fn.checks.values import check_values
from krm_fn.items import Item
from krm_fn.results import Severity
from scripts import values_store
from tests.helpers import REPO, UPSTREAM, config_with, context, lines, rule_run, run_cli, run_krm, write

KPS = "kube-prometheus-stack"


def overrides(values: dict) -> dict:
    return config_with(values=values)


# --- the default config ---------------------------------------------------------------------------


def test_the_default_configs_generated_values_produce_no_finding():
    assert list(check_values(context())) == []


def _leaf_paths(node: object, prefix: tuple = ()) -> list[tuple]:
    if isinstance(node, dict) and node:
        return [leaf for key, child in node.items() for leaf in _leaf_paths(child, (*prefix, str(key)))]
    return [prefix]


@functools.cache
def _release(name: str, version: str) -> dict | None:
    index = UPSTREAM / "charts" / "releases" / f"{name}.yaml"
    if not index.is_file():
        return None
    return next((r for r in yaml.safe_load(index.read_text())["releases"] if r["version"] == version), None)


def _vendored(relative: str) -> str:
    """A vendored values.yaml: a member of the values store, or a file of a vendored chart directory."""
    store = values_store.read()
    return store[relative] if relative in store else (UPSTREAM / "charts" / relative).read_text()


def _raw_defaults(chart: str, version: str) -> dict:
    """The release's vendored values.yaml with each pinned subchart's under its key, read afresh."""
    release = _release(chart, version)
    assert release is not None, (chart, version)
    values = yaml.safe_load(_vendored(release["values"]))
    for dep in release["dependencies"]:
        sub = _release(dep["name"], dep["version"])
        if sub is not None:
            key = dep["key"]
            values[key] = _merge(yaml.safe_load(_vendored(sub["values"])), values.get(key) or {})
    return values


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@functools.cache
def _freeform() -> dict:
    return yaml.safe_load((REPO / "krm_fn" / "charts" / "freeform.yaml").read_text())


def _documented(chart: str, version: str, path: tuple) -> str | None:
    """Why the chart reads `path`: in values.yaml, under a {}/null default, or an entry of freeform.yaml."""
    raw: object = _raw_defaults(chart, version)
    freeform = _freeform()
    entries = freeform["charts"][chart]
    listed = {tuple(e["path"] if isinstance(e["path"], list) else e["path"].split(".")) for e in entries["freeform"]}
    commented = {tuple(e["path"].split(".")) for e in entries["commented"]}
    for depth, key in enumerate(path):
        prefix = path[: depth + 1]
        if prefix in listed:
            return "freeform.yaml"
        if prefix in commented:
            return "freeform.yaml (commented)"
        if not isinstance(raw, dict) or key not in raw:
            return None
        raw = raw[key]
        if raw in ({}, None) and depth + 1 < len(path):
            return "default {} or null"
        if key in freeform["by_name"] and isinstance(raw, dict) and depth + 1 < len(path):
            return "Kubernetes object (by_name)"
    return "values.yaml"


def test_every_path_the_default_config_writes_is_in_the_chart_or_a_documented_free_form_map():
    ctx = context()
    releases = [i.obj for i in ctx.generated if i.kind == "HelmRelease"]
    assert {r["spec"]["chart"]["spec"]["chart"] for r in releases} == {KPS, "loki", "alloy"}
    checked = 0
    for release in releases:
        chart, version = release["spec"]["chart"]["spec"]["chart"], release["spec"]["chart"]["spec"]["version"]
        for path in _leaf_paths(release["spec"]["values"]):
            assert paths.is_known(chart, version, path), (chart, path)
            assert _documented(chart, version, path), (chart, path)
            checked += 1
    assert checked > 40


# --- overrides in the config ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "suggestion"),
    [
        (
            {KPS: {"alertmanager": {"secrets": ["monitoring-secrets"]}}},
            "spec.values.kube-prometheus-stack.alertmanager.secrets",
            "alertmanager.alertmanagerSpec.secrets",
        ),
        (
            {KPS: {"nodeExporter": {"resources": {"limits": {"memory": "64Mi"}}}}},
            "spec.values.kube-prometheus-stack.nodeExporter.resources",
            "prometheus-node-exporter.resources",
        ),
        (
            {"loki": {"monitoring": {"lokiCanary": {"enabled": False}}}},
            "spec.values.loki.monitoring.lokiCanary",
            "lokiCanary",
        ),
        ({"alloy": {"alloy": {"config": "x"}}}, "spec.values.alloy.alloy.config", "alloy.configMap.content"),
        ({"alloy": {"resources": {"limits": {"memory": "256Mi"}}}}, "spec.values.alloy.resources", "alloy.resources"),
    ],
)
def test_an_unknown_override_is_reported_on_the_config_once(values, field, suggestion):
    found = list(check_values(context(config=overrides(values))))
    assert len(found) == 1, lines(found)
    (only,) = found
    assert only.severity is Severity.ERROR
    assert only.resource.kind == "ObservabilityConfig" and only.field == field
    assert only.message.endswith(f"the chart ignores it; did you mean {suggestion}?")


def test_legitimate_overrides_pass():
    values = {
        KPS: {
            "grafana": {"persistence": {"size": "5Gi"}, "grafana.ini": {"auth.anonymous": {"enabled": True}}},
            "prometheus": {"prometheusSpec": {"retentionSize": "8GB", "externalLabels": {"region": "home"}}},
            "alertmanager": {"config": {"route": {"group_wait": "1m"}}},
        },
        "loki": {
            "loki": {"limits_config": {"max_query_series": 1000}},
            "singleBinary": {"persistence": {"size": "20Gi"}},
        },
        "alloy": {"alloy": {"extraEnv": [{"name": "A", "value": "b"}]}},
    }
    assert list(check_values(context(config=overrides(values)))) == []


def test_through_the_function_protocol():
    output, outcome = run_krm([], overrides({KPS: {"alertmanager": {"secrets": ["monitoring-secrets"]}}}))
    found = [r for r in output.get("results", []) if r["tags"]["rule"] == "helm-values"]
    assert found == [
        {
            "message": "kube-prometheus-stack 88.5.3 has no value alertmanager.secrets: the chart ignores it; "
            "did you mean alertmanager.alertmanagerSpec.secrets?",
            "severity": "error",
            "resourceRef": {
                "apiVersion": "observability.catinthehack.ca/v1alpha1",
                "kind": "ObservabilityConfig",
                "name": "observability",
            },
            "field": {"path": "spec.values.kube-prometheus-stack.alertmanager.secrets"},
            "tags": {"rule": "helm-values"},
        }
    ]
    assert outcome.exit_code != 0


# --- generated values -----------------------------------------------------------------------------------


def test_an_unknown_generated_path_is_reported_on_the_helmrelease_as_our_bug():
    ctx = context()
    release = next(i for i in ctx.generated if i.kind == "HelmRelease" and i.name == "loki")
    release.data["spec"]["values"]["singleBinary"]["persistence"]["storageClassName"] = "nfs"
    (found,) = check_values(ctx)
    assert found.resource.kind == "HelmRelease" and found.resource.name == "loki"
    assert found.field == "spec.values.singleBinary.persistence.storageClassName"
    assert "did you mean singleBinary.persistence.storageClass?" in found.message
    assert "generated by observability-fn: a bug" in found.message


# --- the user's own HelmReleases ------------------------------------------------------------------------

SEED_RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: kube-prometheus-stack
  namespace: monitoring
spec:
  interval: 30m
  chart:
    spec:
      chart: kube-prometheus-stack
      version: "82.18.0"
      sourceRef: {kind: HelmRepository, name: prometheus-community}
  values:
    prometheus:
      prometheusSpec:
        retention: 7d
        additionalPrometheusRulesMap:
          flux-rules: {groups: []}
    alertmanager:
      alertmanagerSpec:
        resources: {requests: {cpu: 10m}}
      secrets:
        - monitoring-secrets
    nodeExporter:
      resources: {requests: {cpu: 10m}}
"""

UNPINNED_RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: loki, namespace: monitoring}
spec:
  interval: 30m
  chart:
    spec:
      chart: loki
      version: "6.x"
      sourceRef: {kind: HelmRepository, name: grafana}
  values:
    monitoring: {lokiCanary: {enabled: false}}
"""


def test_the_seeds_helmrelease_is_caught_in_a_repository(tmp_path):
    write(tmp_path, {"kps.yaml": SEED_RELEASE, "loki.yaml": UNPINNED_RELEASE})
    proc = run_cli("check", str(tmp_path))
    out = [line.replace(f"{tmp_path}/", "") for line in proc.stdout.decode().splitlines()]
    assert proc.returncode == 1
    assert out == [
        "kps.yaml:17: error [helm-values] HelmRelease monitoring/kube-prometheus-stack "
        "spec.values.prometheus.prometheusSpec.additionalPrometheusRulesMap: kube-prometheus-stack 82.18.0 has no "
        "value prometheus.prometheusSpec.additionalPrometheusRulesMap: the chart ignores it; "
        "did you mean additionalPrometheusRulesMap?",
        "kps.yaml:22: error [helm-values] HelmRelease monitoring/kube-prometheus-stack "
        "spec.values.alertmanager.secrets: "
        "kube-prometheus-stack 82.18.0 has no value alertmanager.secrets: the chart ignores it; "
        "did you mean alertmanager.alertmanagerSpec.secrets?",
        "kps.yaml:25: error [helm-values] HelmRelease monitoring/kube-prometheus-stack "
        "spec.values.nodeExporter.resources: "
        "kube-prometheus-stack 82.18.0 has no value nodeExporter.resources: the chart ignores it; "
        "did you mean prometheus-node-exporter.resources?",
        "loki.yaml:9: info [helm-values] HelmRelease monitoring/loki spec.chart.spec.version: values not checked: "
        "loki 6.x is not a release observability-fn knows; pin an exact release from 6.55.0 to 18.11.0 to have them "
        "checked",
    ]


def test_helmreleases_of_other_charts_are_left_alone():
    other = SEED_RELEASE.replace("chart: kube-prometheus-stack", "chart: cert-manager")
    assert list(check_values(context({"other.yaml": other}, config=False))) == []


def test_a_key_another_release_has_says_since_when():
    gone = config_with(values={"loki": {"clusterLabelOverride": "x"}})
    (result,) = rule_run(check_values, config=gone)
    assert result.message == (
        "loki 18.11.0 has no value clusterLabelOverride: the chart ignores it "
        "(clusterLabelOverride was removed or renamed in loki 18.0.0); see the chart's values.yaml"
    )
    pinned = config_with(charts={"loki": {"version": "6.55.0"}}, values={"loki": {"clusterLabelOverride": "x"}})
    assert rule_run(check_values, config=pinned) == []


def test_a_newer_release_is_checked_against_the_newest_known_and_says_so():
    newer = config_with(
        charts={"kube-prometheus-stack": {"version": "89.0.0"}},
        values={"kube-prometheus-stack": {"alertmanager": {"secrets": []}}},
    )
    loaded, warnings = config_model.load(newer)
    assert loaded is not None and [w.rule for w in warnings] == ["chart-version"]
    generated = [Item.from_data(obj) for obj in components.generate(loaded)]
    (result,) = check_values(CheckContext(loaded, generated, [], sees_pipeline=True))
    assert result.message.startswith("kube-prometheus-stack 88.5.3 has no value alertmanager.secrets")
    assert result.message.endswith("(checked against 88.5.3, the newest known)")
