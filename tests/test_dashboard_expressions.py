"""The Flux dashboard's PromQL on healthy and failing series, through `promtool test rules`.

Series carry the labels the real scrapes give them: gotk_resource_info from kube-state-metrics
(the object's namespace in `exported_namespace`, no `ready` label for kinds without a Ready
condition: Alert, Provider), gotk_reconcile_duration_seconds from the controllers through the
Flux PodMonitor (the object's namespace becomes `exported_namespace`, `namespace` is the
controller's). Each case has a control: the expression as it was gets it wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from krm_fn.components import dashboards
from tests.helpers import run_tool as run
from tests.tools import tool

pytestmark = pytest.mark.e2e

RATE_INTERVAL = "5m"  # what Grafana puts for $__rate_interval at a 1m scrape


def info(kind: str, ns: str, name: str, **labels: str) -> str:
    """gotk_resource_info as Prometheus stores it from kube-state-metrics."""
    all_labels = {"customresource_kind": kind, "exported_namespace": ns, "name": name, "namespace": "monitoring"}
    all_labels.update(labels)
    return "gotk_resource_info{" + ", ".join(f'{k}="{v}"' for k, v in all_labels.items()) + "}"


def duration(metric: str, kind: str, ns: str, name: str) -> str:
    """A controller's reconcile histogram series, scraped in flux-system."""
    return (
        f'gotk_reconcile_duration_seconds_{metric}{{kind="{kind}", name="{name}", exported_namespace="{ns}", '
        'namespace="flux-system", pod="kustomize-controller-5d9c7", job="flux-system/flux-system"}'
    )


HEALTHY = [
    (info("Kustomization", "flux-system", "flux-system", ready="True", revision="main@sha1:1"), "1x20"),
    (info("GitRepository", "flux-system", "flux-system", ready="True"), "1x20"),
    # No Ready condition: no `ready` label at all.
    (info("Alert", "flux-system", "flux-alerts"), "1x20"),
    (info("Provider", "flux-system", "alertmanager"), "1x20"),
]
FAILING = [
    *HEALTHY,
    (info("HelmRelease", "apps", "web", ready="False", revision="1.2.0"), "1x20"),
    (info("Kustomization", "apps", "paused", ready="False", suspended="true"), "1x20"),
]
# Two objects named `web` in two namespaces: 2 s and 8 s per reconcile.
DURATIONS = [
    (duration("sum", "Kustomization", "apps", "web"), "0+2x20"),
    (duration("count", "Kustomization", "apps", "web"), "0+1x20"),
    (duration("sum", "Kustomization", "infra", "web"), "0+8x20"),
    (duration("count", "Kustomization", "infra", "web"), "0+1x20"),
]


def expr_test(series: list[tuple[str, str]], expr: str, samples: list[tuple[str, float]]) -> dict:
    return {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [
            {
                "expr": expr.replace("$__rate_interval", RATE_INTERVAL),
                "eval_time": "15m",
                "exp_samples": [{"labels": labels, "value": value} for labels, value in samples],
            }
        ],
    }


def promtool(tmp_path: Path, tests: list[dict]) -> tuple[int, str]:
    (tmp_path / "rules.yaml").write_text("groups: []\n")
    path = tmp_path / "tests.yaml"
    path.write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}, sort_keys=False))
    proc = run(tool("promtool"), "test", "rules", str(path))
    return proc.returncode, proc.stdout + proc.stderr


NOT_READY_ROW = (
    '{customresource_kind="HelmRelease", exported_namespace="apps", name="web", ready="False", revision="1.2.0"}'
)
CASES = {
    "not ready count, healthy": expr_test(HEALTHY, dashboards.FLUX_NOT_READY_COUNT, [("{}", 0)]),
    "not ready count, failing": expr_test(FAILING, dashboards.FLUX_NOT_READY_COUNT, [("{}", 1)]),
    "not ready table, healthy": expr_test(HEALTHY, dashboards.FLUX_NOT_READY_TABLE, []),
    "not ready table, failing": expr_test(
        FAILING,
        dashboards.FLUX_NOT_READY_TABLE,
        [
            (NOT_READY_ROW, 1),
            (
                '{customresource_kind="Kustomization", exported_namespace="apps", name="paused", ready="False", '
                'suspended="true"}',
                1,
            ),
        ],
    ),
    "suspended count": expr_test(FAILING, dashboards.FLUX_SUSPENDED_COUNT, [("{}", 1)]),
    "suspended table": expr_test(
        FAILING,
        dashboards.FLUX_SUSPENDED_TABLE,
        [('{customresource_kind="Kustomization", exported_namespace="apps", name="paused"}', 1)],
    ),
    "by kind and readiness": expr_test(
        HEALTHY,
        dashboards.FLUX_BY_KIND_AND_READY,
        [
            ('{customresource_kind="Kustomization", ready="True"}', 1),
            ('{customresource_kind="GitRepository", ready="True"}', 1),
            ('{customresource_kind="Alert"}', 1),
            ('{customresource_kind="Provider"}', 1),
        ],
    ),
    "slowest reconciles, per object": expr_test(
        DURATIONS,
        dashboards.FLUX_SLOWEST,
        [
            ('{kind="Kustomization", exported_namespace="infra", name="web"}', 8),
            ('{kind="Kustomization", exported_namespace="apps", name="web"}', 2),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_flux_dashboard_expression(tmp_path: Path, name: str):
    code, output = promtool(tmp_path, [CASES[name]])
    assert code == 0, output


# The expressions as they were: each control must fail where the new one passes.
OLD_NOT_READY_COUNT = (
    "count(max by (customresource_kind, exported_namespace, name) "
    '(gotk_resource_info{ready!="True", suspended!="true"})) or vector(0)'
)
OLD_SLOWEST = (
    "topk(10, sum by (kind, namespace, name) (rate(gotk_reconcile_duration_seconds_sum[$__rate_interval]))"
    " / sum by (kind, namespace, name) (rate(gotk_reconcile_duration_seconds_count[$__rate_interval])))"
)


def test_control_the_old_not_ready_count_counts_alerts_and_providers(tmp_path: Path):
    code, output = promtool(tmp_path, [expr_test(HEALTHY, OLD_NOT_READY_COUNT, [("{}", 0)])])
    assert code != 0 and "got: {} 2E+00" in output, output


def test_control_the_old_slowest_reconciles_merge_namespaces(tmp_path: Path):
    samples = CASES["slowest reconciles, per object"]["promql_expr_test"][0]["exp_samples"]
    wrong = expr_test(DURATIONS, OLD_SLOWEST, [(s["labels"], s["value"]) for s in samples])
    code, _ = promtool(tmp_path, [wrong])
    assert code != 0


def test_every_flux_dashboard_expression_has_a_case():
    exprs = {case["promql_expr_test"][0]["expr"] for case in CASES.values()}
    prometheus = {
        t["expr"].replace("$__rate_interval", RATE_INTERVAL)
        for panel in dashboards.flux_dashboard()["panels"]
        for t in panel["targets"]
    }
    assert prometheus - exprs == {dashboards.FLUX_DURATION_P95.replace("$__rate_interval", RATE_INTERVAL)}
