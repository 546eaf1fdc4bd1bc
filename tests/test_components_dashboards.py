"""Dashboards as code: the ConfigMaps the Grafana sidecar loads, the model Grafana reads, real PromQL."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.components import dashboards, loki
from krm_fn.config import Config
from tests.helpers import UPSTREAM, config_with, default_config
from tests.tools import tool

KPS_VALUES = UPSTREAM / "charts" / "kube-prometheus-stack-82.18.0" / "values.yaml"
# Grafana's template variables, replaced by what Grafana would interpolate, for promtool.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__auto": "1m"}


def load(config: dict) -> Config:
    cfg, errors = config_model.load(config)
    assert cfg is not None, [r.message for r in errors]
    return cfg


def config_maps(config: dict | None = None) -> list[dict]:
    objects = components.generate(load(config or default_config()))
    return [o for o in objects if o["kind"] == "ConfigMap" and "grafana_dashboard" in o["metadata"].get("labels", {})]


def models() -> list[dict]:
    return [json.loads(text) for cm in config_maps() for text in cm["data"].values()]


def provisioned_datasource_uids() -> set[str]:
    """The chart's default Prometheus datasource uid and the one our Loki datasource ConfigMap provisions."""
    kps = yaml.safe_load(KPS_VALUES.read_text())
    prometheus_uid = kps["grafana"]["sidecar"]["datasources"]["uid"]
    datasource = loki.datasource(load(default_config()))
    (text,) = datasource["data"].values()
    loki_uids = {d["uid"] for d in yaml.safe_load(text)["datasources"]}
    return {prometheus_uid, *loki_uids}


def test_config_maps_are_labelled_for_the_sidecar_with_a_folder():
    maps = config_maps()
    assert [m["metadata"]["name"] for m in maps] == ["dashboard-flux", "dashboard-logs"]
    for cm in maps:
        assert cm["metadata"]["namespace"] == "monitoring"
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["annotations"]["grafana_folder"] == "Observability"


def test_grafana_sidecar_reads_the_folder_annotation():
    cfg = load(default_config())
    (kps,) = [o for o in components.generate(cfg) if o["metadata"]["name"] == "kube-prometheus-stack"]
    sidecar = kps["spec"]["values"]["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {
        "folderAnnotation": "grafana_folder",
        "provider": {"foldersFromFilesStructure": True},
        "resource": "configmap",  # the stack's own namespace, ConfigMaps only (privilege.py)
        "searchNamespace": "monitoring",
    }


def test_dashboards_can_be_switched_off_or_moved():
    assert config_maps(config_with(dashboards={"enabled": False})) == []
    (first, _) = config_maps(config_with(dashboards={"folder": "Homelab"}))
    assert first["metadata"]["annotations"]["grafana_folder"] == "Homelab"


def test_the_model_is_what_grafana_loads():
    uids = provisioned_datasource_uids()
    assert uids == {"prometheus", "loki"}
    seen_uids = set()
    for model in models():
        assert model["schemaVersion"] == dashboards.SCHEMA_VERSION
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", model["uid"]), model["uid"]
        seen_uids.add(model["uid"])
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids)), ids
        for panel in model["panels"]:
            assert panel["datasource"]["uid"] in uids
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in uids
                assert target["refId"]
            assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for variable in model["templating"]["list"]:
            assert variable["datasource"]["uid"] in uids
    assert len(seen_uids) == 2


def test_logs_dashboard_filters_by_namespace_pod_and_container():
    (logs,) = [m for m in models() if m["uid"] == "observability-fn-logs"]
    assert [v["name"] for v in logs["templating"]["list"]] == ["namespace", "pod", "container"]
    (panel,) = [p for p in logs["panels"] if p["type"] == "logs"]
    for name in ("namespace", "pod", "container"):
        assert f'{name}=~"${name}"' in panel["targets"][0]["expr"]


def prometheus_expressions() -> list[str]:
    out = []
    for model in models():
        for panel in model["panels"]:
            out += [t["expr"] for t in panel["targets"] if t["datasource"]["type"] == "prometheus"]
    return out


def _interpolate(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, expr
    return expr


def _promtool_check(tmp_path: Path, expressions: list[str]) -> subprocess.CompletedProcess:
    rules = [{"record": f"dashboard:expr{i}", "expr": _interpolate(e)} for i, e in enumerate(expressions)]
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return subprocess.run(
        [tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.e2e
def test_promtool_parses_every_promql_expression(tmp_path: Path):
    expressions = prometheus_expressions()
    assert len(expressions) == 7
    proc = _promtool_check(tmp_path, expressions)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in proc.stdout


@pytest.mark.e2e
def test_promtool_check_can_fail(tmp_path: Path):
    """Control: a broken expression is refused, so the check above means something."""
    proc = _promtool_check(tmp_path, ["sum by (kind (rate(x[$__rate_interval]))"])
    assert proc.returncode != 0
