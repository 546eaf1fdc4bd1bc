"""`observability-fn render --summary` and docs/ha.md's topology block, both from krm_fn.summary."""

from __future__ import annotations

import importlib.util

import pytest

from krm_fn import config as config_model
from krm_fn import summary
from tests.helpers import DEFAULT_CONFIG_FILE, REPO, config_with, run_cli

HA_CONFIG = REPO / "tests" / "golden" / "ha" / "config.yaml"
STORE = {"endpoint": "minio:9000", "buckets": {"lokiChunks": "c", "lokiRuler": "r"}}


def load(config: dict) -> config_model.Config:
    loaded, errors = config_model.load(config)
    assert loaded is not None, errors
    return loaded


@pytest.mark.parametrize(
    ("text", "value"), [("100m", 0.1), ("2", 2.0), ("256Mi", 256 * 1024**2), ("1.5Gi", 1.5 * 1024**3)]
)
def test_quantity(text: str, value: float):
    assert summary.quantity(text) == value


def test_single_node_totals_add_up():
    proc = run_cli("render", "--summary", str(DEFAULT_CONFIG_FILE))
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("profile single-node")
    total = next(line for line in lines if line.startswith("total"))
    # 100m+10m+50m+10m+10m+50m+20m of CPU; 512+32+128+32+32+256+128 Mi of memory
    assert total.split() == ["total", "7", "250m", "1120Mi", "-", "2496Mi"]


def test_ha_counts_replicas_and_daemonsets_per_declared_node():
    proc = run_cli("render", "--summary", str(HA_CONFIG))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = {line.split()[0]: line.split() for line in proc.stdout.decode().splitlines()[2:] if line[:1].isalpha()}
    assert rows["prometheus"][1:3] == ["2", "200m"]
    assert rows["alertmanager"][1] == "3"
    assert rows["grafana"][1] == "2"  # the golden gives Grafana a shared database
    assert rows["loki"][1:4] == ["3", "150m", "768Mi"]
    assert rows["alloy"][1] == "1"  # one StatefulSet replica reads every container, whatever the nodes
    assert rows["node-exporter"][3] == "3"  # "node-exporter (per node)": 3 nodes
    assert [rows[c][1] for c in ("thanos-query", "thanos-store-gateway", "thanos-compact")] == ["2", "2", "1"]
    assert "not sized" not in proc.stdout.decode()


def test_simple_scalable_counts_its_targets_and_the_unsized_gateway():
    rows = {r.name: r for r in summary.rows(load(config_with(objectStorage=STORE, loki={"mode": "SimpleScalable"})))}
    assert [rows[f"loki-{t}"].pods for t in ("write", "read", "backend", "gateway")] == [1, 1, 1, 2]
    assert rows["loki-gateway"].workload is None


def test_replicas_change_the_totals():
    base = sum(r.pods for r in summary.rows(load(config_with(profile="ha", objectStorage=STORE))))
    more = sum(
        r.pods for r in summary.rows(load(config_with(profile="ha", objectStorage=STORE, prometheus={"replicas": 4})))
    )
    assert more - base == 2


def test_an_invalid_config_is_one_line_per_problem_and_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_CONFIG_FILE.read_text().replace("spec:\n", "spec:\n  profile: huge\n", 1))
    proc = run_cli("render", "--summary", str(bad))
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert b"spec.profile" in proc.stderr and b"'huge' is not one of: single-node, ha" in proc.stderr


def test_the_diagram_shows_what_the_profile_generates():
    single = summary.diagram(load(config_with()))
    many = summary.diagram(load(config_with(profile="ha", objectStorage=STORE)))
    plain = summary.diagram(load(config_with(profile="ha", objectStorage=STORE, thanos={"enabled": False})))
    scalable = summary.diagram(load(config_with(objectStorage=STORE, loki={"mode": "SimpleScalable"})))
    assert "thanos" not in single and "bucket" not in single and "grafana --> prometheus" in single
    assert "grafana --> thanos_query" in many and "loki --> bucket" in many and "loki_gateway" not in many
    assert "thanos" not in plain and "grafana --> prometheus" in plain and "loki --> bucket" in plain
    assert "loki_gateway --> loki_write" in scalable


def test_ha_page_block_is_current():
    spec = importlib.util.spec_from_file_location("scaling_diagram", REPO / "scripts" / "scaling_diagram.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.block() in (REPO / "docs" / "ha.md").read_text(), "run scripts/scaling_diagram.py --write"
