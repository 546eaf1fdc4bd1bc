"""kube-state-metrics values that export the state of Flux objects as `gotk_resource_info`.

Flux controllers stopped emitting `gotk_reconcile_condition` (docs/reference/charts.md#8-flux-metrics); readiness
and suspension now come from kube-state-metrics' customResourceState, fed by the RBAC rule and
per-kind label paths in `flux_metrics_data` (derived from the Flux monitoring example by
scripts/gen_flux_metrics.py). The standard kube-state-metrics collectors stay on: the example's
`collectors: []` / `--custom-resource-state-only` are not carried over.
"""

from __future__ import annotations

from krm_fn.components import flux_metrics_data as data

METRIC_PREFIX = "gotk"
METRIC_NAME = "resource_info"  # -> gotk_resource_info, the series the Flux alert rule reads


def rbac_rules() -> list[dict]:
    """`kube-state-metrics.rbac.extraRules`: list/watch on the Flux kinds."""
    return [
        {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
        for groups, resources, verbs in data.RBAC_RULES
    ]


def _resource(group: str, version: str, kind: str, labels: tuple[tuple[str, str], ...]) -> dict:
    return {
        "groupVersionKind": {"group": group, "version": version, "kind": kind},
        "metricNamePrefix": METRIC_PREFIX,
        "metrics": [
            {
                "name": METRIC_NAME,
                "help": f"Readiness and suspension of each Flux {kind}.",
                "each": {"type": "Info", "info": {"labelsFromPath": {"name": ["metadata", "name"]}}},
                "labelsFromPath": {label: path.split("/") for label, path in labels},
            }
        ],
    }


def custom_resource_state() -> dict:
    """`kube-state-metrics.customResourceState`: enabled, with one Info metric per Flux kind."""
    return {
        "enabled": True,
        "config": {"spec": {"resources": [_resource(*entry) for entry in data.RESOURCES]}},
    }
