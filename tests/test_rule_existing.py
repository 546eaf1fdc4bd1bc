"""`existing-monitoring`: the pipeline already runs what this stack installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn.checks.existing import check_existing
from krm_fn.checks.route_overlap import check_overlap
from krm_fn.gateway.chart_hosts import chart_hostnames
from krm_fn.results import Severity
from tests.helpers import FUNCTION, UPSTREAM, context, protected_config
from tests.helpers import rule_run as run
from tests.tools import tool


def helm_release(name: str, namespace: str, chart: str) -> str:
    return f"""
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 1h
  chart:
    spec:
      chart: {chart}
      sourceRef: {{kind: HelmRepository, name: charts, namespace: flux-system}}
"""


CHART_REF_RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: monitoring, namespace: observability}
spec:
  interval: 1h
  chartRef: {kind: OCIRepository, name: kps-chart}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: kps-chart, namespace: observability}
spec:
  interval: 1h
  url: oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack
"""

OPERATOR = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: prometheus-operator, namespace: default}
spec:
  selector: {matchLabels: {app: po}}
  template:
    metadata: {labels: {app: po}}
    spec:
      containers:
        - name: operator
          image: quay.io/prometheus-operator/prometheus-operator:v0.80.0
"""


@pytest.mark.parametrize(
    ("files", "what", "field"),
    [
        ({"kps.yaml": helm_release("kps", "observability", "kube-prometheus-stack")}, "kube-prometheus-stack", "chart"),
        ({"loki.yaml": helm_release("loki", "logging", "loki")}, "Loki", "chart"),
        ({"alloy.yaml": helm_release("alloy", "logging", "grafana/alloy")}, "Alloy", "chart"),
        ({"kps.yaml": CHART_REF_RELEASE}, "kube-prometheus-stack", "chartRef"),
    ],
)
def test_an_existing_release_of_a_stack_chart_is_a_warning_naming_it(files, what, field):
    results = run(check_existing, files)
    assert [(r.rule, r.severity, r.field) for r in results] == [
        ("existing-monitoring", Severity.WARNING, f"spec.{field}")
    ]
    assert f"already runs {what}" in results[0].message and "remove it once this stack runs" in results[0].message


def test_an_existing_prometheus_operator_deployment_is_a_warning():
    results = run(check_existing, {"po.yaml": OPERATOR})
    assert [(r.severity, str(r.resource)) for r in results] == [
        (Severity.WARNING, "Deployment default/prometheus-operator")
    ]
    assert "is a Prometheus Operator" in results[0].message


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"app.yaml": helm_release("app", "apps", "app-template")},
        {"po.yaml": OPERATOR.replace("prometheus-operator/prometheus-operator", "example/web")},
        {"chartref.yaml": CHART_REF_RELEASE.replace("kube-prometheus-stack", "podinfo")},
        {"subst.yaml": helm_release("x", "apps", "${CHART}")},
    ],
)
def test_other_releases_and_deployments_pass(files):
    assert run(check_existing, files) == []


def test_without_a_config_nothing_is_being_added():
    assert run(check_existing, {"kps.yaml": helm_release("kps", "o", "kube-prometheus-stack")}, config=False) == []


def test_the_stacks_own_release_is_not_existing_monitoring():
    own = helm_release("kube-prometheus-stack", "monitoring", "kube-prometheus-stack")
    assert run(check_existing, {"own.yaml": own}) == []


@pytest.mark.e2e
def test_through_kpt_fn_eval(tmp_path: Path):
    """The real kpt: a warning with the user's file, and the package still rendered (warnings do not fail)."""
    package = tmp_path / "pkg"
    (package / "observability").mkdir(parents=True)
    (package / "obs.yaml").write_text(yaml.safe_dump(protected_config(), sort_keys=False))
    shutil.copy(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml", package / "secret.enc.yaml")
    (package / "observability" / "kps.yaml").write_text(
        helm_release("kps", "observability", "kube-prometheus-stack").lstrip("\n")
    )
    proc = subprocess.run(
        [tool("kpt"), "fn", "eval", str(package), "--exec", FUNCTION, "--fn-config", str(package / "obs.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "observability/kps.yaml: warning [existing-monitoring] HelmRelease observability/kps spec.chart:" in output
    assert "name: kube-prometheus-stack\n" in (package / "generated" / "observability.yaml").read_text()  # rendered


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["kube-prometheus-stack", "loki"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "chart",
                    "spec",
                    "chartRef",
                    "name",
                    "route",
                    "ingress",
                    "hosts",
                    "host",
                    "hostnames",
                    "enabled",
                    "main",
                    "values",
                    "namespace",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(JSONISH)
def test_the_rule_and_the_values_reader_never_raise_on_any_spec(spec):
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "x"}}
    ctx = context({"r.yaml": yaml.safe_dump({**release, "spec": spec})})
    list(check_existing(ctx))
    list(check_overlap(ctx))
    for path, host in chart_hostnames(spec):
        assert isinstance(host, str) and path
