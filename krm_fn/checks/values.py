"""Rule `helm-values`: every Helm values path exists in the pinned chart version.

A chart silently ignores a values key it does not read (none of the pinned charts ships a
values schema that would reject it), which is how `alertmanager.secrets` or
`nodeExporter.resources` reach a cluster and do nothing. The known paths come from each chart
version's values.yaml, plus the keys its templates read with no default there (a key shown only in
a comment, like `alertmanagerSpec.configSecret`: third_party/upstream/charts/template-reads.yaml), in
krm_fn/charts/paths.py. Checked: the config's `spec.values` overrides
(reported on the config), the generated HelmReleases' values (reported on the HelmRelease: a bug
in observability-fn unless the path came from the overrides), and the user's own HelmReleases of
a chart version the package knows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from krm_fn import cache as validation_cache
from krm_fn.charts import former, paths
from krm_fn.checks.base import CheckContext, dotted, has_path, on_config, result, rule
from krm_fn.items import Item
from krm_fn.results import Result, Severity

RULE = "helm-values"


def chart_of(obj: dict) -> tuple[str, str] | None:
    """(chart, version) of a HelmRelease that names its chart inline, else None."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    chart = spec.get("chart") if isinstance(spec.get("chart"), dict) else {}
    chart_spec = chart.get("spec") if isinstance(chart.get("spec"), dict) else {}
    name, version = chart_spec.get("chart"), chart_spec.get("version")
    if not isinstance(name, str) or not name:
        return None
    return name, str(version) if version is not None else ""


def message(chart: str, version: str, unknown: paths.UnknownPath) -> str:
    if unknown.expected_map:
        return f"{chart} {version} expects a map at {unknown.dotted}, not a single value: the chart cannot read it"
    hint = f"; did you mean {unknown.suggestion}?" if unknown.suggestion else "; see the chart's values.yaml"
    instead = former.values_hint(chart, unknown.dotted)
    if instead:
        hint = f" (a value of the chart's former publisher): {instead}"
    history = _history(chart, version, unknown)
    return f"{chart} {version} has no value {unknown.dotted}: the chart ignores it{history}{hint}"


def _history(chart: str, version: str, unknown: paths.UnknownPath) -> str:
    """When another known release has the path: since when it is gone, or from when it exists."""
    having = paths.releases_with(chart, unknown.path)
    known = paths.known_versions(chart)
    if not having or version not in known:
        return ""
    here = paths.version_key(version)
    if paths.version_key(having[-1]) < here:
        gone = known[known.index(having[-1]) + 1]
        return f" ({unknown.dotted} was removed or renamed in {chart} {gone})"
    if paths.version_key(having[0]) > here:
        return f" ({unknown.dotted} exists from {chart} {having[0]})"
    return ""


def resolve(chart: str, version: str) -> tuple[str | None, str]:
    """The known release whose paths apply to `version`, and a note when it is not `version` itself."""
    applies = paths.applicable_release(chart, version)
    if applies is None or applies == version:
        return applies, ""
    return applies, f" (checked against {applies}, the newest release observability-fn knows)"


@rule(RULE, Severity.ERROR, "Helm values (generated and spec.values overrides) are paths the pinned chart reads")
def check_values(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is not None:
        for chart, overrides in sorted(config.values.items()):
            version = config.chart_data.get(chart, "")
            if not paths.has_data(chart, version):
                continue
            note = "" if version == config.charts.get(chart) else f" (checked against {version}, the newest known)"
            for unknown in paths.unknown_paths(chart, version, overrides):
                yield on_config(
                    RULE,
                    Severity.ERROR,
                    message(chart, version, unknown) + note,
                    config,
                    dotted(["spec", "values", chart, *unknown.path]),
                )
    for item in ctx.all_objects("HelmRelease"):
        yield from _check_release(ctx, item)


def _check_release(ctx: CheckContext, item: Item) -> Iterator[Result]:
    found = chart_of(item.obj)
    if found is None:
        return
    chart, version = found
    values = item.obj["spec"].get("values")
    if not isinstance(values, dict):
        return
    if item.generated and ctx.config is not None:
        data_version, note = ctx.config.chart_data.get(chart), ""
    else:
        data_version, note = resolve(chart, version)
    if data_version is None:
        known = paths.known_versions(chart)
        if known and not item.generated:
            yield result(
                RULE,
                Severity.INFO,
                f"values not checked: {chart} {version or '(no exact version)'} is not a release observability-fn "
                f"knows; pin an exact release from {known[0]} to {known[-1]} to have them checked",
                item,
                ["spec", "chart", "spec", "version"],
            )
        return
    version = data_version
    # The generated values rarely change between runs: a check that passed before is not made again
    # (it would build the release's path tree, ~5 ms a chart; start-up budget: docs/startup.md).
    key = None
    if item.generated:
        payload = json.dumps(values, sort_keys=True, default=str)
        key = validation_cache.digest(
            "helm-values", f"{chart}\0{version}\0{paths.data_fingerprint(chart)}\0{payload}".encode()
        )
        if validation_cache.passed_before(key):
            return
    overrides = ctx.config.values.get(chart, {}) if (item.generated and ctx.config is not None) else None
    found = False
    for unknown in paths.unknown_paths(chart, version, values):
        if overrides is not None and has_path(overrides, unknown.path):
            found = True  # reported on the config, where the user can fix it
            continue
        found = True
        text = message(chart, version, unknown) + note
        if item.generated:
            text += " (generated by observability-fn: a bug, please report it)"
        yield result(RULE, Severity.ERROR, text, item, ["spec", "values", *unknown.path])
    if key is not None and not found:
        validation_cache.remember(key)
