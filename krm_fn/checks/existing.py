"""Rule `existing-monitoring`: the pipeline already runs what this stack installs.

A repository that already has kube-prometheus-stack, Loki or Alloy (a HelmRelease of that chart
in any namespace) or a Prometheus Operator Deployment would get a second one without a word: two
operators reconcile every ServiceMonitor and PrometheusRule, and the charts install the same
CRDs and cluster-wide objects. The chart a HelmRelease installs is read from
spec.chart.spec.chart, or through spec.chartRef (its name, and the URL of the OCIRepository it
names when that is in the pipeline). The stack's own HelmReleases (same identity as generated
ones) are not counted: a copy of one is the engine's resource-conflict.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dig, result, rule
from krm_fn.items import Item
from krm_fn.placeholders import has_placeholder
from krm_fn.results import Result, Severity

RULE = "existing-monitoring"

# chart name -> (what it runs, what a second copy does)
KNOWN_CHARTS: dict[str, tuple[str, str]] = {
    "kube-prometheus-stack": (
        "kube-prometheus-stack",
        "a second Prometheus Operator would reconcile the same ServiceMonitors and PrometheusRules, and both "
        "releases install the same CRDs, webhooks and node-exporter DaemonSet",
    ),
    "loki": ("Loki", "a second Loki would store every log twice, and Grafana and Alloy would point at only one"),
    "loki-stack": ("Loki (loki-stack)", "a second Loki would store every log twice"),
    "alloy": ("Alloy", "a second Alloy DaemonSet would collect and ship every log twice"),
}
OPERATOR_IMAGE = "prometheus-operator/prometheus-operator"
OPERATOR_NAME_LABEL = "app.kubernetes.io/name"
FIX = (
    "to move to this stack, remove it once this stack runs (keep one release per chart); "
    "to keep it, leave observability-fn out of this cluster's kustomization"
)


def chart_of(release: Item, oci_urls: dict[tuple[str | None, str], str]) -> str | None:
    """The chart name a HelmRelease installs, when its values say it."""
    spec = release.obj.get("spec")
    if not isinstance(spec, dict):
        return None
    chart = dig(spec, ("chart", "spec", "chart"))
    if isinstance(chart, str) and chart:
        return chart.rsplit("/", 1)[-1]
    ref = spec.get("chartRef")
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        return None
    namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else release.namespace
    url = oci_urls.get((namespace, ref["name"])) or oci_urls.get((None, ref["name"]))
    if url:
        return url.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]
    return ref["name"]


def oci_repository_urls(ctx: CheckContext) -> dict[tuple[str | None, str], str]:
    urls: dict[tuple[str | None, str], str] = {}
    for repo in ctx.user_objects("OCIRepository"):
        url = dig(repo.obj, ("spec", "url"))
        if repo.name and isinstance(url, str):
            urls[(repo.namespace, repo.name)] = url
    return urls


def _is_operator(deployment: Item) -> bool:
    labels = dig(deployment.obj, ("metadata", "labels"))
    if isinstance(labels, dict) and labels.get(OPERATOR_NAME_LABEL) == "prometheus-operator":
        return True
    containers = dig(deployment.obj, ("spec", "template", "spec", "containers"))
    return any(
        isinstance(c, dict) and isinstance(c.get("image"), str) and OPERATOR_IMAGE in c["image"]
        for c in (containers if isinstance(containers, list) else [])
    )


@rule(
    RULE,
    Severity.WARNING,
    "the pipeline does not already run kube-prometheus-stack, Loki, Alloy or a Prometheus Operator",
)
def check_existing(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return  # `check` without a config: no stack is being added
    ours = {item.identity for item in ctx.generated}
    oci_urls = oci_repository_urls(ctx)
    for release in ctx.user_objects("HelmRelease"):
        if release.identity in ours:
            continue
        chart = chart_of(release, oci_urls)
        if chart is None or has_placeholder(chart) or chart not in KNOWN_CHARTS:
            continue
        what, why = KNOWN_CHARTS[chart]
        yield result(
            RULE,
            Severity.WARNING,
            f"already runs {what} (chart {chart}), and ObservabilityConfig {config.name} installs it again in "
            f"namespace {config.namespace}: {why}; {FIX}",
            release,
            ["spec", "chart"] if "chart" in release.obj.get("spec", {}) else ["spec", "chartRef"],
        )
    for deployment in ctx.pipeline:  # only Deployments that mention the operator are parsed
        if deployment.kind != "Deployment" or not deployment.mentions("prometheus-operator"):
            continue
        if deployment.parse_error() is not None or deployment.identity in ours or not _is_operator(deployment):
            continue
        yield result(
            RULE,
            Severity.WARNING,
            f"is a Prometheus Operator, and ObservabilityConfig {config.name} installs another one with "
            f"kube-prometheus-stack in namespace {config.namespace}: two operators reconcile the same Prometheus, "
            f"ServiceMonitor and PrometheusRule objects; {FIX}",
            deployment,
        )
