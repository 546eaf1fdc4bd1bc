"""grafana-operator mode (spec.grafana.mode: operator): your Grafana instance, the stack's dashboards and datasources.

What kube-prometheus-stack and grafana-operator read (evidence: docs/reference/operators.md#2-grafana-operator):
- the chart's Grafana off, its dashboards kept: `grafana.enabled: false`, `forceDeployDashboards: true`
  and `grafana.operator.dashboardsConfigMapRefEnabled: true` make the chart render each dashboard
  ConfigMap plus a GrafanaDashboard pointing at it (configMapRef), for the instances
  `grafana.operator.matchLabels` selects, in the folder `grafana.operator.folderRef` names (only one
  of folder, folderUID and folderRef may be set, so the chart's `folder: General` is nulled);
  kube-prometheus-stack 82.18.0 and 88.5.3 values.yaml `grafana.operator`, templates/grafana/dashboards-1.14/*.yaml;
- datasources as the chart's sidecar provisions them (name, uid, URL, jsonData: 88.5.3 values.yaml
  `grafana.sidecar.datasources`, templates/grafana/configmaps-datasources.yaml), plus Loki;
- GrafanaDashboard, GrafanaDatasource and GrafanaFolder (grafana.integreatly.org/v1beta1, grafana-operator
  v5.24.0 CRDs): `instanceSelector` required; `allowCrossNamespaceImport: true`, as the chart's own
  GrafanaDashboards set it, so an instance in another namespace imports them too; `folderRef` names a
  GrafanaFolder of the same namespace (controllers/controller_shared.go getFolderUID).
"""

from __future__ import annotations

import json

from krm_fn.charts import UI_SERVICES
from krm_fn.components import profile
from krm_fn.components.common import metadata, service_url
from krm_fn.components.loki import DATASOURCE_UID as LOKI_UID
from krm_fn.config import Config, GrafanaOperator

API_VERSION = "grafana.integreatly.org/v1beta1"
FOLDER_NAME = "observability-fn"
PROMETHEUS_UID = "prometheus"
ALERTMANAGER_UID = "alertmanager"
SCRAPE_INTERVAL = "30s"  # the chart's default datasource timeInterval (prometheusSpec.scrapeInterval unset)


def _operator(config: Config) -> GrafanaOperator:
    assert config.grafana_operator is not None
    return config.grafana_operator


def chart_values(config: Config) -> dict:
    """kube-prometheus-stack's `grafana` values: its Grafana off, its dashboards as GrafanaDashboards."""
    return {
        "enabled": False,
        "forceDeployDashboards": True,
        "operator": {
            "dashboardsConfigMapRefEnabled": True,
            "matchLabels": dict(_operator(config).match_labels),
            "folder": None,  # the chart's default, General; it allows one of folder, folderUID, folderRef
            "folderRef": FOLDER_NAME,
        },
    }


def _spec(config: Config, **fields: object) -> dict:
    return {
        "instanceSelector": {"matchLabels": dict(_operator(config).match_labels)},
        "allowCrossNamespaceImport": True,
        **fields,
    }


def _object(config: Config, kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata(name, config.namespace), "spec": spec}


def prometheus_url(config: Config) -> str:
    """Grafana's Prometheus: Thanos Query (deduplicated) where the profile runs it, else Prometheus."""
    service = profile.THANOS_QUERY_SERVICE if config.topology.thanos else UI_SERVICES["prometheus"]
    return service_url(service, config.namespace)


def datasources(config: Config) -> list[dict]:
    """Prometheus (the default), Alertmanager and Loki, with the uids the dashboards name."""
    prometheus = {
        "name": "Prometheus",
        "type": "prometheus",
        "uid": PROMETHEUS_UID,
        "access": "proxy",
        "url": prometheus_url(config),
        "isDefault": True,
        "jsonData": {"httpMethod": "POST", "timeInterval": SCRAPE_INTERVAL},
    }
    alertmanager = {
        "name": "Alertmanager",
        "type": "alertmanager",
        "uid": ALERTMANAGER_UID,
        "access": "proxy",
        "url": service_url(UI_SERVICES["alertmanager"], config.namespace),
        "jsonData": {"handleGrafanaManagedAlerts": False, "implementation": "prometheus"},
    }
    loki = {
        "name": "Loki",
        "type": "loki",
        "uid": LOKI_UID,
        "access": "proxy",
        "url": service_url(profile.loki_service(config), config.namespace),
        "isDefault": False,
    }
    return [
        _object(config, "GrafanaDatasource", name, _spec(config, datasource=body))
        for name, body in (("prometheus", prometheus), ("alertmanager", alertmanager), ("loki", loki))
    ]


def folder(config: Config) -> dict:
    """The folder of every dashboard of the stack, the chart's included (spec.dashboards.folder)."""
    return _object(config, "GrafanaFolder", FOLDER_NAME, _spec(config, title=config.dashboards.folder))


def dashboard(config: Config, name: str, model: dict) -> dict:
    """One of the stack's dashboards as a GrafanaDashboard, its model inline."""
    text = json.dumps(model, indent=2, sort_keys=True) + "\n"
    return _object(config, "GrafanaDashboard", name, _spec(config, folderRef=FOLDER_NAME, json=text))


def resources(config: Config) -> list[dict]:
    """The datasources and the folder, in operator mode (the dashboards come from krm_fn.components.dashboards)."""
    if config.grafana_operator is None:
        return []
    return [*datasources(config), folder(config)]
