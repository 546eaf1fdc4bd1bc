"""The alerts kube-prometheus-stack's default rules define, for a release and the values it is given.

Data: krm_fn/charts/kube-prometheus-stack-alerts.json, written by scripts/gen_kps_alerts.py from
the chart's rule templates at each supported release: per run of releases, each alert's default
severity and the values paths its `{{ if }}` blocks require, with their defaults. An alert is on
when every such path is true in the values (the default where the values leave it out), and
`defaultRules.disabled.<alert>` is not; `customRules.<alert>.severity` replaces its severity (the
templates' `dig "<alert>" "severity" "<default>" .Values.customRules`).
Evidence and the test against real helm: docs/reference/operators.md#6-the-alerts-kube-prometheus-stack-defines.
"""

from __future__ import annotations

import json
import os
from functools import cache

from krm_fn.charts.paths import version_key

# Next to this module (package data; krm_fn/charts/data/ is scripts/gen_chart_paths.py's own).
DATA_FILE = os.path.join(os.path.dirname(os.path.realpath(__file__)), "kube-prometheus-stack-alerts.json")
_MISSING = object()


@cache
def _sets() -> list[dict]:
    with open(DATA_FILE, encoding="utf-8") as handle:
        return json.load(handle)["sets"]


def _value(values: dict, path: str) -> object:
    node: object = values
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def catalog(version: str) -> dict[str, list]:
    """alert -> [default severity, [[values path, default], ...] or None] of a release (past the data: the newest)."""
    key = version_key(version)
    for entry in _sets():
        if version_key(entry["first"]) <= key <= version_key(entry["last"]):
            return entry["alerts"]
    return _sets()[-1]["alerts"] if key > version_key(_sets()[-1]["last"]) else _sets()[0]["alerts"]


def default_alerts(version: str, values: dict) -> dict[str, str]:
    """alert -> severity, for the default rules these HelmRelease values leave on."""
    out = {}
    for alert, (severity, gates) in catalog(version).items():
        if _value(values, f"defaultRules.disabled.{alert}") not in (_MISSING, None, False):
            continue
        on = all(
            bool(default if (value := _value(values, path)) is _MISSING else value) for path, default in gates or ()
        )
        if not on:
            continue
        custom = _value(values, f"customRules.{alert}.severity")
        out[alert] = custom if isinstance(custom, str) else severity
    return out
