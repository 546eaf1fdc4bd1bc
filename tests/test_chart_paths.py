"""Known values paths per pinned chart version (scripts/gen_chart_paths.py, krm_fn/charts/paths.py)."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys

import pytest
import yaml

from krm_fn import config
from krm_fn.charts import paths
from tests.helpers import REPO, UPSTREAM

KPS = ("kube-prometheus-stack", "82.18.0")
LOKI = ("loki", "6.55.0")
ALLOY = ("alloy", "1.11.1")


def _generator():
    spec = importlib.util.spec_from_file_location("gen_chart_paths", REPO / "scripts" / "gen_chart_paths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unknown(chart: tuple[str, str], values: dict) -> list[tuple[str, str | None]]:
    return [(u.dotted, u.suggestion) for u in paths.unknown_paths(*chart, values)]


def test_checked_in_data_is_what_the_script_generates():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_chart_paths.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_the_default_versions_are_the_newest_known_and_the_seed_pins_the_oldest():
    charts = config.schema()["properties"]["spec"]["properties"]["charts"]["properties"]
    for name, pin in (KPS, LOKI, ALLOY):
        known = paths.known_versions(name)
        assert charts[name]["properties"]["version"]["default"] == known[-1]
        assert known[0] == pin
    assert not paths.has_data("kube-prometheus-stack", "82.2.1")


def test_data_is_one_small_file_per_chart():
    sizes = {p.name: p.stat().st_size for p in (REPO / "krm_fn" / "charts" / "data").glob("*.json")}
    assert set(sizes) == {"kube-prometheus-stack.json", "loki.json", "alloy.json", "thanos.json"}
    releases = sum(len(paths.known_versions(name)) for name in ("kube-prometheus-stack", "loki", "alloy"))
    assert releases > 250 and sum(sizes.values()) < 400_000, sizes  # ~1 KB per release


# --- the seed's defects ----------------------------------------------------------------------
# docs/reference/charts.md#4-kube-prometheus-stack-audit, docs/reference/charts.md#6-loki-audit,
# docs/reference/charts.md#7-alloy-audit


@pytest.mark.parametrize(
    ("chart", "values", "path", "suggestion"),
    [
        (
            KPS,
            {"alertmanager": {"secrets": ["monitoring-secrets"]}},
            "alertmanager.secrets",
            "alertmanager.alertmanagerSpec.secrets",
        ),
        (
            KPS,
            {"nodeExporter": {"resources": {"requests": {"cpu": "10m"}}}},
            "nodeExporter.resources",
            "prometheus-node-exporter.resources",
        ),
        (
            KPS,
            {"prometheus": {"prometheusSpec": {"additionalPrometheusRulesMap": {"flux-rules": {"groups": []}}}}},
            "prometheus.prometheusSpec.additionalPrometheusRulesMap",
            "additionalPrometheusRulesMap",
        ),
        (LOKI, {"monitoring": {"lokiCanary": {"enabled": False}}}, "monitoring.lokiCanary", "lokiCanary"),
        (ALLOY, {"alloy": {"config": 'logging { level = "info" }'}}, "alloy.config", "alloy.configMap.content"),
        (ALLOY, {"resources": {"requests": {"cpu": "20m"}}}, "resources", "alloy.resources"),
    ],
)
def test_seed_defects_are_caught_with_the_right_place(chart, values, path, suggestion):
    assert _unknown(chart, values) == [(path, suggestion)]


def test_the_corrected_seed_values_are_all_known():
    corrected = {
        "additionalPrometheusRulesMap": {"flux-rules": {"groups": []}},
        "alertmanager": {"alertmanagerSpec": {"secrets": ["monitoring-secrets"]}},
        "prometheus-node-exporter": {"resources": {"requests": {"cpu": "10m"}}},
    }
    assert _unknown(KPS, corrected) == []
    assert _unknown(LOKI, {"lokiCanary": {"enabled": False}, "test": {"enabled": False}}) == []
    assert _unknown(ALLOY, {"alloy": {"configMap": {"content": "x"}, "resources": {}}}) == []


@pytest.mark.parametrize(
    ("chart", "values", "expected"),
    [
        (
            KPS,
            {"prometheus": {"prometheusSpec": {"retension": "7d"}}},
            ("prometheus.prometheusSpec.retension", "prometheus.prometheusSpec.retention"),
        ),
        (KPS, {"grafana": {"persistance": {"size": "1Gi"}}}, ("grafana.persistance", "grafana.persistence")),
        (
            KPS,
            {"grafana": {"storageClassName": "nfs"}},
            ("grafana.storageClassName", "grafana.persistence.storageClassName"),
        ),
        (LOKI, {"limits_config": {"retention_period": "168h"}}, ("limits_config", "loki.limits_config")),
        (
            LOKI,
            {"singleBinary": {"persistence": {"storageClassName": "nfs"}}},
            ("singleBinary.persistence.storageClassName", "singleBinary.persistence.storageClass"),
        ),
    ],
)
def test_misspelt_and_misplaced_keys_get_the_nearest_known_path(chart, values, expected):
    assert _unknown(chart, values) == [expected]


def test_nothing_close_gives_no_suggestion():
    assert _unknown(ALLOY, {"zzqqxx": {"a": 1}}) == [("zzqqxx", None)]


def test_only_the_first_unknown_key_of_a_branch_is_reported():
    assert _unknown(KPS, {"nodeExporter": {"resources": {"requests": {"cpu": "1"}, "limits": {}}}}) == [
        ("nodeExporter.resources", "prometheus-node-exporter.resources")
    ]


# --- what is accepted --------------------------------------------------------------------------


def test_subcharts_are_known_under_their_keys():
    for path in (
        ("grafana", "admin", "existingSecret"),  # grafana 11.3.7 values.yaml
        ("grafana", "sidecar", "datasources", "enabled"),
        ("kube-state-metrics", "customResourceState", "enabled"),  # kube-state-metrics 7.2.2
        ("kube-state-metrics", "rbac", "extraRules"),
        ("prometheus-node-exporter", "resources"),  # prometheus-node-exporter 4.53.0
        ("global", "imagePullSecrets"),
    ):
        assert paths.is_known(*KPS, path), path


@pytest.mark.parametrize(
    ("chart", "path"),
    [
        (KPS, ("alertmanager", "config", "route", "routes")),  # Alertmanager's own config (freeform.yaml)
        (KPS, ("grafana", "grafana.ini", "auth.anonymous", "enabled")),
        (KPS, ("kube-state-metrics", "customResourceState", "config", "spec", "resources")),  # default {}
        (KPS, ("prometheus", "prometheusSpec", "externalLabels", "cluster")),  # default {}
        (KPS, ("prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec", "accessModes")),
        (KPS, ("prometheus-windows-exporter", "anything")),  # subchart not vendored
        (KPS, ("grafana", "deploymentStrategy", "rollingUpdate", "maxSurge")),  # a Kubernetes object (by_name)
        (LOKI, ("loki", "limits_config", "retention_period")),
        (LOKI, ("loki", "compactor", "delete_request_store")),
        (LOKI, ("minio", "persistence", "size")),  # subchart not vendored
        (ALLOY, ("alloy", "securityContext", "runAsUser")),
    ],
)
def test_free_form_maps_accept_anything_below(chart, path):
    assert paths.is_known(*chart, path)
    assert paths.node_at(*chart, path) == paths.FREE


def test_commented_out_key_the_templates_read_is_known_as_a_value():
    assert paths.node_at(*KPS, ("grafana", "persistence", "storageClassName")) == paths.VALUE
    assert _unknown(KPS, {"grafana": {"persistence": {"storageClassName": {"oops": 1}}}}) == [
        ("grafana.persistence.storageClassName.oops", None)
    ]


def test_lists_are_accepted_whole_and_null_removes_a_default():
    values = {
        "alertmanager": {"alertmanagerSpec": {"secrets": [{"weird": "item"}]}},
        "grafana": {"persistence": None},
    }
    assert _unknown(KPS, values) == []


def test_a_value_where_the_chart_reads_a_map_is_reported():
    found = paths.unknown_paths(*KPS, {"grafana": {"persistence": True}})
    assert found == [paths.UnknownPath(("grafana", "persistence"), None, expected_map=True)]


def test_unknown_chart_version_raises():
    with pytest.raises(LookupError):
        paths.unknown_paths("kube-prometheus-stack", "1.0.0", {})


# --- the data against the values.yaml files, read independently --------------------------------


def _leaves(node: object, prefix: tuple = ()) -> list[tuple]:
    if isinstance(node, dict) and node:
        return [leaf for key, child in node.items() for leaf in _leaves(child, (*prefix, str(key)))]
    return [prefix] if prefix else []


@pytest.mark.parametrize(
    ("chart", "directory", "key"),
    [
        (KPS, "kube-prometheus-stack-82.18.0", ()),
        (KPS, "grafana-11.3.7", ("grafana",)),
        (KPS, "kube-state-metrics-7.2.2", ("kube-state-metrics",)),
        (KPS, "prometheus-node-exporter-4.53.0", ("prometheus-node-exporter",)),
        (LOKI, "loki-6.55.0", ()),
        (ALLOY, "alloy-1.11.1", ()),
    ],
)
def test_every_path_of_the_values_yaml_is_known(chart, directory, key):
    defaults = yaml.safe_load((UPSTREAM / "charts" / directory / "values.yaml").read_text())
    if key:
        defaults.pop("global", None)  # a subchart's globals are merged into the parent's
    leaves = _leaves(defaults)
    assert len(leaves) > 50
    missing = [leaf for leaf in leaves if not paths.is_known(*chart, (*key, *leaf))]
    assert missing == []


# --- freeform.yaml evidence is checked -----------------------------------------------------------


@pytest.fixture
def freeform() -> dict:
    return yaml.safe_load((REPO / "krm_fn" / "charts" / "freeform.yaml").read_text())


@pytest.mark.parametrize(
    ("section", "entry", "complaint"),
    [
        ("freeform", {"path": "alertmanager.nosuch", "line": 543, "source": "x"}, "not a map of the chart"),
        ("freeform", {"path": "alertmanager.config", "line": 1, "source": "x"}, "does not show"),
        ("freeform", {"path": "additionalPrometheusRulesMap", "line": 328, "source": "x"}, "already free-form"),
        ("freeform", {"path": "alertmanager.config", "line": 543}, "no `source`"),
        ("commented", {"path": "alertmanager.tplConfig", "line": 599, "source": "x"}, "not a missing key"),
        (
            "moved",
            {"from": "alertmanager.alertmanagerSpec", "to": "alertmanager", "line": 1, "source": "x"},
            "not hold",
        ),
    ],
)
def test_a_stale_or_unsupported_entry_is_refused(freeform, section, entry, complaint):
    gen = _generator()
    broken = copy.deepcopy(freeform)
    broken["charts"]["kube-prometheus-stack"][section] = [entry]
    with pytest.raises(gen.EvidenceError, match=complaint):
        gen.build(KPS[0], broken)
    gen.build(KPS[0], freeform)  # the checked-in file builds


def test_data_format_is_paths_with_release_ranges():
    doc = json.loads((REPO / "krm_fn" / "charts" / "data" / "alloy.json").read_text())
    assert doc["chart"] == "alloy" and doc["releases"] == [["1.11.1", "grafana"]]
    assert [["alloy", "configMap", "content"], paths.VALUE, [[0, 0]]] in doc["paths"]
    assert doc["moved"] == [["alloy.config", "alloy.configMap.content", [[0, 0]]]]
    assert paths.node_at("alloy", "1.11.1", ["alloy", "configMap", "content"]) == paths.VALUE
