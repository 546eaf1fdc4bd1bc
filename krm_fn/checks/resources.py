"""Rule `resources`: container resources of the config that Kubernetes refuses or that are below a documented minimum.

A request above its limit is refused by the API server (the Pod or StatefulSet never starts;
ValidateResourceRequirements: "must be less than or equal to ... limit"). A memory limit below
the minimum a project documents gets the container OOM-killed under ordinary use. Documented
minimums (the pinned charts' values.yaml document none; these are the projects' own pages):
- Grafana: "Minimum recommended memory: 512 MB" (grafana.com/docs/grafana/v12.4/setup-grafana/installation/,
  Hardware recommendations; the pinned chart runs Grafana 12.4.2).
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, rule
from krm_fn.config import Config, Workload
from krm_fn.quantity import quantity
from krm_fn.results import Result, Severity

RULE = "resources"

# spec field -> (documented minimum memory limit, where it is documented)
MEMORY_MINIMUMS = {
    "grafana": (
        "512Mi",
        "Grafana 12.4's documented minimum (grafana.com/docs/grafana/v12.4/setup-grafana/installation)",
    ),
}


def _workloads(config: Config) -> dict[str, Workload]:
    return {
        "prometheus": config.prometheus,
        "alertmanager": config.alertmanager,
        "grafana": config.grafana,
        "nodeExporter": config.node_exporter,
        "kubeStateMetrics": config.kube_state_metrics,
        "loki": config.loki,
        "alloy": config.alloy,
    }


@rule(RULE, Severity.WARNING, "resource requests fit their limits, and memory limits meet documented minimums")
def check_resources(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    for name, workload in _workloads(config).items():
        requests, limits = workload.resources.requests, workload.resources.limits
        for resource in sorted(set(requests) & set(limits)):
            if quantity(requests[resource]) > quantity(limits[resource]):
                yield on_config(
                    RULE,
                    Severity.ERROR,
                    f"{resource} request {requests[resource]} is above its limit {limits[resource]}: "
                    f"Kubernetes refuses the pod; lower spec.{name}.resources.requests.{resource} or raise the limit",
                    config,
                    f"spec.{name}.resources.requests.{resource}",
                )
        minimum = MEMORY_MINIMUMS.get(name)
        limit = limits.get("memory")
        if minimum and limit and quantity(limit) < quantity(minimum[0]):
            yield on_config(
                RULE,
                Severity.WARNING,
                f"memory limit {limit} is below {minimum[0]}, {minimum[1]}: expect OOM kills; raise it to at least "
                f"{minimum[0]}",
                config,
                f"spec.{name}.resources.limits.memory",
            )
