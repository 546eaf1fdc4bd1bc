"""Grafana dashboards for what this stack adds: Flux state and the logs Alloy ships.

Each dashboard is a ConfigMap the Grafana sidecar of kube-prometheus-stack loads (label
`grafana_dashboard: "1"`, kube-prometheus-stack 82.18.0 values.yaml:1442-1445, in the stack namespace: privilege.py),
into the folder named by its `grafana_folder` annotation (the sidecar's folderAnnotation, set in
kube_prometheus_stack). Datasource uids are the provisioned ones: `prometheus` (the chart's
default datasource, values.yaml:1468) and `loki` (loki.DATASOURCE_UID). Uids are fixed so links
to a dashboard survive a re-install.
"""

from __future__ import annotations

import json

from krm_fn.components import flux_metrics_data, flux_operator, grafana_operator
from krm_fn.components.common import metadata
from krm_fn.components.loki import DATASOURCE_UID as LOKI_UID
from krm_fn.config import Config

PROMETHEUS_UID = "prometheus"
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
FOLDER_ANNOTATION = "grafana_folder"
SCHEMA_VERSION = 39

PROMETHEUS = {"type": "prometheus", "uid": PROMETHEUS_UID}
LOKI = {"type": "loki", "uid": LOKI_UID}

# gotk_resource_info (kube-state-metrics customResourceState, see flux_metrics) has no message:
# the table shows kind, object, readiness and revision; `flux get` shows the message.
# Kinds without a Ready condition (Alert and Provider of notification v1beta3) carry no `ready`
# label: `ready!="True"` would count every one of them as not ready.
NO_READY_KINDS = tuple(kind for _, _, kind, labels in flux_metrics_data.RESOURCES if "ready" not in dict(labels))
_WITH_READY = f'customresource_kind!~"{"|".join(NO_READY_KINDS)}"'
FLUX_BY_KIND_AND_READY = "count by (customresource_kind, ready) (gotk_resource_info)"
FLUX_NOT_READY_COUNT = (
    "count(max by (customresource_kind, exported_namespace, name) "
    f'(gotk_resource_info{{ready!="True", suspended!="true", {_WITH_READY}}})) or vector(0)'
)
FLUX_SUSPENDED_COUNT = (
    'count(max by (customresource_kind, exported_namespace, name) (gotk_resource_info{suspended="true"})) or vector(0)'
)
FLUX_NOT_READY_TABLE = (
    "max by (customresource_kind, exported_namespace, name, ready, suspended, revision) "
    f'(gotk_resource_info{{ready!="True", {_WITH_READY}}})'
)
FLUX_SUSPENDED_TABLE = (
    'max by (customresource_kind, exported_namespace, name, revision) (gotk_resource_info{suspended="true"})'
)
FLUX_DURATION_P95 = (
    "histogram_quantile(0.95, sum by (kind, le) (rate(gotk_reconcile_duration_seconds_bucket[$__rate_interval])))"
)
# The controllers' own metric names the object's namespace `namespace`; Prometheus' target label of the
# same name (the controller's namespace, flux-system) wins, and the object's becomes `exported_namespace`.
FLUX_SLOWEST = (
    "topk(10, sum by (kind, exported_namespace, name) (rate(gotk_reconcile_duration_seconds_sum[$__rate_interval]))"
    " / sum by (kind, exported_namespace, name) (rate(gotk_reconcile_duration_seconds_count[$__rate_interval])))"
)

LOG_SELECTOR = '{namespace=~"$namespace", pod=~"$pod", container=~"$container"}'
LOG_VOLUME = f"sum by (namespace) (count_over_time({LOG_SELECTOR} [$__auto]))"
LOG_ERRORS = f'sum by (namespace) (count_over_time({LOG_SELECTOR} |~ "(?i)(error|fatal|panic)" [$__auto]))'


def _panel(panel_id: int, title: str, kind: str, grid: tuple[int, int, int, int], targets: list[dict], **extra) -> dict:
    x, y, w, h = grid
    datasource = targets[0]["datasource"]
    return {
        "id": panel_id,
        "title": title,
        "type": kind,
        "datasource": datasource,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        **extra,
    }


def _prom(expr: str, ref: str = "A", *, instant: bool = False, table: bool = False, legend: str | None = None) -> dict:
    target: dict = {"datasource": PROMETHEUS, "refId": ref, "expr": expr}
    if instant:
        target.update({"instant": True, "range": False})
    if table:
        target["format"] = "table"
    if legend:
        target["legendFormat"] = legend
    return target


def _loki(expr: str, ref: str = "A", legend: str | None = None) -> dict:
    target: dict = {"datasource": LOKI, "refId": ref, "expr": expr}
    if legend:
        target["legendFormat"] = legend
    return target


def _table_columns(rename: dict[str, str]) -> list[dict]:
    """Keep the listed labels, renamed, and drop the rest (Time, Value, __name__...)."""
    return [
        {
            "id": "organize",
            "options": {
                "includeByName": dict.fromkeys(rename, True),
                "renameByName": rename,
                "indexByName": {name: i for i, name in enumerate(rename)},
            },
        }
    ]


def _dashboard(uid: str, title: str, panels: list[dict], variables: list[dict], tags: list[str]) -> dict:
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "timezone": "",
        "templating": {"list": variables},
        "panels": panels,
    }


def flux_dashboard() -> dict:
    """Flux resources by kind and readiness, what is not ready or suspended, reconcile durations."""
    columns = {
        "customresource_kind": "Kind",
        "exported_namespace": "Namespace",
        "name": "Name",
        "ready": "Ready",
        "suspended": "Suspended",
        "revision": "Revision",
    }
    panels = [
        _panel(1, "Not ready", "stat", (0, 0, 4, 4), [_prom(FLUX_NOT_READY_COUNT, instant=True)]),
        _panel(2, "Suspended", "stat", (4, 0, 4, 4), [_prom(FLUX_SUSPENDED_COUNT, instant=True)]),
        _panel(
            3,
            "Resources by kind and readiness",
            "bargauge",
            (8, 0, 16, 8),
            [_prom(FLUX_BY_KIND_AND_READY, instant=True, legend="{{customresource_kind}} ready={{ready}}")],
            options={"displayMode": "basic", "orientation": "horizontal"},
        ),
        _panel(
            4,
            "Not ready (run `flux get all -A --status-selector ready=false` for the message)",
            "table",
            (0, 8, 24, 8),
            [_prom(FLUX_NOT_READY_TABLE, instant=True, table=True)],
            transformations=_table_columns(columns),
        ),
        _panel(
            5,
            "Suspended resources",
            "table",
            (0, 16, 24, 6),
            [_prom(FLUX_SUSPENDED_TABLE, instant=True, table=True)],
            transformations=_table_columns({k: v for k, v in columns.items() if k not in ("ready", "suspended")}),
        ),
        _panel(
            6,
            "Reconcile duration p95 by kind",
            "timeseries",
            (0, 22, 12, 8),
            [_prom(FLUX_DURATION_P95, legend="{{kind}}")],
            fieldConfig={"defaults": {"unit": "s"}, "overrides": []},
        ),
        _panel(
            7,
            "Slowest reconciles (mean duration)",
            "timeseries",
            (12, 22, 12, 8),
            [_prom(FLUX_SLOWEST, legend="{{kind}} {{exported_namespace}}/{{name}}")],
            fieldConfig={"defaults": {"unit": "s"}, "overrides": []},
        ),
    ]
    return _dashboard("observability-fn-flux", "Flux", panels, [], ["flux", "observability-fn"])


def _loki_variable(name: str, query: str) -> dict:
    return {
        "name": name,
        "label": name,
        "type": "query",
        "datasource": LOKI,
        "query": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        # LogQL needs one matcher that cannot match the empty string.
        "allValue": ".+",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def logs_dashboard() -> dict:
    """Log volume by namespace, errors over time, and the logs, filtered by namespace/pod/container."""
    variables = [
        _loki_variable("namespace", "label_values(namespace)"),
        _loki_variable("pod", 'label_values({namespace=~"$namespace"}, pod)'),
        _loki_variable("container", 'label_values({namespace=~"$namespace", pod=~"$pod"}, container)'),
    ]
    panels = [
        _panel(1, "Log volume by namespace", "timeseries", (0, 0, 12, 8), [_loki(LOG_VOLUME, legend="{{namespace}}")]),
        _panel(
            2,
            "Errors over time (lines matching error, fatal or panic)",
            "timeseries",
            (12, 0, 12, 8),
            [_loki(LOG_ERRORS, legend="{{namespace}}")],
        ),
        _panel(
            3,
            "Logs",
            "logs",
            (0, 8, 24, 16),
            [_loki(LOG_SELECTOR)],
            options={"showTime": True, "wrapLogMessage": True, "sortOrder": "Descending"},
        ),
    ]
    return _dashboard("observability-fn-logs", "Logs", panels, variables, ["logs", "observability-fn"])


def _config_map(config: Config, name: str, dashboard: dict) -> dict:
    meta = metadata(name, config.namespace)
    meta["labels"] = {**meta.get("labels", {}), **DASHBOARD_LABEL}
    meta["annotations"] = {**meta.get("annotations", {}), FOLDER_ANNOTATION: config.dashboards.folder}
    text = json.dumps(dashboard, indent=2, sort_keys=True) + "\n"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {f"{name}.json": text}}


def dashboards(config: Config | None = None) -> dict[str, dict]:
    """ConfigMap name -> dashboard model; under Flux Operator, its dashboards in place of our Flux one."""
    if config is not None and flux_operator.enabled(config):
        return {**flux_operator.dashboards(), "dashboard-logs": logs_dashboard()}
    return {"dashboard-flux": flux_dashboard(), "dashboard-logs": logs_dashboard()}


def resources(config: Config) -> list[dict]:
    """One ConfigMap per dashboard (a GrafanaDashboard in grafana-operator mode), when spec.dashboards.enabled."""
    if not config.dashboards.enabled:
        return []
    if config.grafana_operator is not None:
        return [grafana_operator.dashboard(config, name, model) for name, model in dashboards(config).items()]
    return [_config_map(config, name, model) for name, model in dashboards(config).items()]
