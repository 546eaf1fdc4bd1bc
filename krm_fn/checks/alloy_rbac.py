"""Rule `alloy-rbac`: every Alloy component in the pipeline has the Kubernetes permissions it needs.

The generated Alloy gets only what its own pipeline needs (components/alloy.py). A pipeline
written through `spec.values.alloy.alloy.configMap.content` (or a user's own Alloy HelmRelease
with its own `rbac.rules`) can use a component those rules do not cover; Alloy then logs
`forbidden` errors and the component stays unhealthy. Only known components are checked
(components/alloy_rbac.py); rules left at the chart's defaults grant every one of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dig, dotted, has_path, on_config, result, rule
from krm_fn.checks.values import chart_of
from krm_fn.components import alloy_rbac
from krm_fn.items import Item
from krm_fn.results import Result, Severity

RULE = "alloy-rbac"
CHART = "alloy"

# The chart's default clusterRules (alloy 1.11.1 values.yaml:214-229), used when only `rules` is set.
DEFAULT_CLUSTER_RULES = [
    {"apiGroups": [""], "resources": ["nodes", "nodes/pods", "nodes/metrics"], "verbs": ["get", "list", "watch"]},
]


@rule(RULE, Severity.WARNING, "every Alloy component in the pipeline is granted the Kubernetes permissions it needs")
def check_alloy_rbac(ctx: CheckContext) -> Iterator[Result]:
    for item in ctx.all_objects("HelmRelease"):
        found = chart_of(item.obj)
        if found is None or found[0] != CHART:
            continue
        values = dig(item.obj, ("spec", "values"))
        if isinstance(values, dict):
            yield from _check(ctx, item, values)


def _report(ctx: CheckContext, item: Item, severity: Severity, message: str, path: list) -> Result:
    """On the config for the generated Alloy (the pipeline or rules came from spec.values), else on the HelmRelease."""
    config = ctx.config
    if item.generated and config is not None:
        return on_config(RULE, severity, message, config, dotted(["spec", "values", CHART, *path]))
    return result(RULE, severity, message, item, ["spec", "values", *path])


def _check(ctx: CheckContext, item: Item, values: dict) -> Iterator[Result]:
    if dig(values, ("rbac", "create"), True) is False:
        return  # the user brings their own ServiceAccount and RBAC
    rules = dig(values, ("rbac", "rules"))
    cluster_rules = dig(values, ("rbac", "clusterRules"), DEFAULT_CLUSTER_RULES)
    namespaces = dig(values, ("rbac", "namespaces"))
    if not has_path(values, ("rbac", "rules")) or not isinstance(rules, list):
        return  # the chart's default rules grant every component we know
    if not namespaces and isinstance(cluster_rules, list) and (not rules) != (not cluster_rules):
        empty = "rules" if not rules else "clusterRules"
        yield _report(
            ctx,
            item,
            Severity.ERROR,
            f"rbac.{empty} is empty while the other list is not: alloy 1.11.1 renders the empty one as a "
            "stray `[]` inside the ClusterRole's rules and the install fails; give it a rule or empty both",
            ["rbac", empty],
        )
    grants = alloy_rbac.granted(rules)
    if not namespaces and isinstance(cluster_rules, list):
        grants |= alloy_rbac.granted(cluster_rules)  # with rbac.namespaces the chart writes Roles only
    content = dig(values, ("alloy", "configMap", "content"))
    if not isinstance(content, str) or not content.strip():
        return
    for component in alloy_rbac.components(content):
        needed = alloy_rbac.needs(component)
        if not needed:
            continue
        missing = {need for need in needed if not alloy_rbac.allows(grants, need)}
        if missing:
            yield _report(
                ctx,
                item,
                Severity.WARNING,
                f"Alloy component {component!r} needs permissions that rbac.rules does not grant; "
                f"add {alloy_rbac.as_rule(missing)} to rbac.rules",
                ["rbac", "rules"],
            )
