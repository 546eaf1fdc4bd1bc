"""Rule `flux-operator`: monitoring a Flux that the Flux Operator runs.

- spec.flux.distribution: flux-operator writes a ServiceMonitor for the operator. The operator's
  chart has one of its own (`serviceMonitor.create`, controlplaneio-fluxcd/charts
  charts/flux-operator/templates/servicemonitor.yaml: the same Service, targetPort 8080, /metrics):
  with both, two scrape pools write the same series (job = the Service name, same instance and
  endpoint), which Prometheus counts as duplicate or out-of-order samples (kube-prometheus-stack's
  PrometheusDuplicateTimestamps and PrometheusOutOfOrderTimestamps). A warning names the value.
- With `auto` and Flux Operator objects in the pipeline (fluxcd.controlplane.io), one info line
  says what `distribution: flux-operator` gives: the stack cannot pick it by itself, as what it
  generates must not depend on what else a build holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dig, on_config, result, rule
from krm_fn.checks.existing import chart_of, oci_repository_urls
from krm_fn.checks.schemas import FLUX_OPERATOR_GROUP
from krm_fn.components import flux_operator
from krm_fn.results import Result, Severity

RULE = "flux-operator"
CHART = "flux-operator"


@rule(
    RULE,
    Severity.WARNING,
    "Flux Operator: its chart's own ServiceMonitor is off when the stack scrapes it (else every sample twice); "
    "with distribution auto, an info line when the pipeline runs the operator",
)
def check_flux_operator(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    if config.flux.distribution == "auto":
        found = next((i for i in ctx.pipeline if (i.api_version or "").startswith(FLUX_OPERATOR_GROUP + "/")), None)
        if found is not None:
            yield on_config(
                RULE,
                Severity.INFO,
                f"the pipeline runs Flux Operator ({found.kind} {found.name}); set spec.flux.distribution: "
                "flux-operator to alert on its flux_resource_info (with the Ready reason) and flux_instance_info, "
                "scrape it and use its dashboards (docs/guides/flux-operator.md)",
                config,
                "spec.flux.distribution",
            )
        return
    if not flux_operator.enabled(config):
        return
    oci_urls = oci_repository_urls(ctx)
    for release in ctx.user_objects("HelmRelease"):
        if chart_of(release, oci_urls) != CHART:
            continue
        if dig(release.obj, ("spec", "values", "serviceMonitor", "create")) is True:
            yield result(
                RULE,
                Severity.WARNING,
                f"creates a ServiceMonitor for the Flux Operator, and the stack has its own "
                f"({config.namespace}/{flux_operator.SERVICEMONITOR_NAME}): Prometheus would scrape the operator "
                "twice into the same series and report duplicate and out-of-order samples "
                "(PrometheusDuplicateTimestamps); set serviceMonitor.create: false",
                release,
                ["spec", "values", "serviceMonitor", "create"],
            )
