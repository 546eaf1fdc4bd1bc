"""The `ha-topology` rule: replicas, Loki's mode and replication factor, and spec.nodes agree."""

from __future__ import annotations

import pytest

from krm_fn.checks.topology import check_topology
from tests.helpers import config_with, context

STORE = {"endpoint": "minio.storage.svc:9000", "buckets": {"lokiChunks": "chunks", "lokiRuler": "ruler"}}


def findings(**spec) -> list[tuple[str, str | None]]:
    return [(r.severity.value, r.field) for r in check_topology(context(config=config_with(**spec)))]


def test_the_default_config_has_no_finding():
    assert list(check_topology(context())) == []


def test_the_ha_profile_on_three_nodes_passes():
    assert findings(profile="ha", nodes=3, objectStorage=STORE) == []


def test_ha_on_two_nodes_leaves_loki_pending_and_shares_alertmanager_nodes():
    assert findings(profile="ha", nodes=2, objectStorage=STORE) == [
        ("error", "spec.loki.replicas"),
        ("warning", "spec.alertmanager.replicas"),
    ]


def test_ha_on_two_nodes_fits_once_the_replicas_do():
    spec = {"profile": "ha", "nodes": 2, "objectStorage": STORE}
    assert findings(**spec, loki={"replicas": 2, "replicationFactor": 1}, alertmanager={"replicas": 2}) == []


def test_one_node_shares_thanos_and_prometheus_and_leaves_loki_pending():
    got = findings(profile="ha", nodes=1, objectStorage=STORE, loki={"replicas": 1, "replicationFactor": 1})
    assert got == [
        ("warning", "spec.prometheus.replicas"),
        ("warning", "spec.alertmanager.replicas"),
        ("warning", "spec.nodes"),  # Thanos Query x2
        ("warning", "spec.nodes"),  # Thanos Store Gateway x2
    ]
    assert findings(profile="ha", nodes=1, objectStorage=STORE, loki={"replicationFactor": 1})[0] == (
        "error",
        "spec.loki.replicas",
    )


def test_one_node_cannot_hold_the_loki_gateway_pair():
    got = findings(nodes=1, objectStorage=STORE, loki={"mode": "SimpleScalable", "replicas": 1})
    assert ("error", "spec.nodes") in got


@pytest.mark.parametrize(
    ("loki", "expected"),
    [
        ({"replicas": 2}, [("error", "spec.loki.replicas")]),
        ({"replicationFactor": 3}, [("error", "spec.loki.replicationFactor")]),
        ({"replicas": 1, "replicationFactor": 1}, []),
    ],
)
def test_single_binary(loki: dict, expected: list):
    assert findings(loki=loki) == expected


@pytest.mark.parametrize("mode", ["Monolithic", "SimpleScalable"])
@pytest.mark.parametrize(
    ("loki", "expected"),
    [
        ({"replicas": 3, "replicationFactor": 4}, [("error", "spec.loki.replicationFactor")]),
        ({"replicas": 3, "replicationFactor": 2}, [("warning", "spec.loki.replicationFactor")]),
        ({"replicas": 3, "replicationFactor": 3}, []),
        ({"replicas": 2}, []),  # the default replication factor is then 1
        ({"replicas": 5}, []),
    ],
)
def test_replication_factor_on_object_storage(mode: str, loki: dict, expected: list):
    deprecated = [("warning", "spec.loki.mode")] if mode == "SimpleScalable" else []
    assert findings(objectStorage=STORE, loki={"mode": mode, **loki}) == expected + deprecated


def test_simple_scalable_warns_of_its_removal_and_names_the_way_out():
    (result,) = check_topology(context(config=config_with(objectStorage=STORE, loki={"mode": "SimpleScalable"})))
    assert (result.severity.value, result.field) == ("warning", "spec.loki.mode")
    assert "removed in Loki 4" in result.message and "spec.loki.mode: Monolithic" in result.message
    assert "docs/ha.md" in result.message


def test_a_second_grafana_without_a_database_warns_and_with_one_passes():
    (result,) = check_topology(context(config=config_with(grafana={"replicas": 2})))
    assert (result.severity.value, result.field) == ("warning", "spec.grafana.replicas")
    assert "sessions" in result.message and "spec.grafana.database.urlKey" in result.message
    database = {"replicas": 2, "database": {"urlKey": "grafana-database-url"}}
    assert findings(grafana=database) == []
    assert findings(profile="ha", nodes=3, objectStorage=STORE, grafana={"database": database["database"]}) == []
    one_node = findings(profile="ha", nodes=1, objectStorage=STORE, grafana=database, loki={"replicas": 1})
    assert ("warning", "spec.grafana.replicas") in one_node  # two Grafanas on one node


@pytest.mark.parametrize(
    "spec",
    [
        {"profile": "ha", "nodes": 3, "objectStorage": STORE},
        {"grafana": {"replicas": 2, "database": {"urlKey": "grafana-database-url"}}},
        {"grafana": {"database": {"urlKey": "grafana-database-url"}}},
    ],
    ids=["ha", "replicas", "database"],
)
def test_a_grafana_volume_where_grafana_runs_stateless_is_refused(spec: dict):
    grafana = {**spec.get("grafana", {}), "persistence": True}
    (result,) = check_topology(context(config=config_with(**{**spec, "grafana": grafana})))
    assert (result.severity.value, result.field) == ("error", "spec.grafana.persistence")
    assert "delete persistence: true" in result.message and "spec.grafana.database" in result.message


def test_a_grafana_volume_on_its_own_passes():
    assert findings(grafana={"persistence": True}) == []


def test_monolithic_replicas_beyond_the_nodes_stay_pending():
    assert findings(nodes=2, objectStorage=STORE, loki={"mode": "Monolithic", "replicas": 3}) == [
        ("error", "spec.loki.replicas")
    ]
    assert findings(nodes=3, objectStorage=STORE, loki={"mode": "Monolithic", "replicas": 3}) == []


def test_undeclared_nodes_are_not_guessed():
    assert findings(profile="ha", objectStorage=STORE, prometheus={"replicas": 7}) == []


# --- stateful-volumes ---------------------------------------------------------------------------

from krm_fn.checks.topology import check_volumes  # noqa: E402 - grouped with its tests


def volume_findings(**spec) -> list[tuple[str, str | None]]:
    return [(r.severity.value, r.field) for r in check_volumes(context(config=config_with(**spec)))]


def test_generated_volumes_pass_in_both_profiles():
    assert volume_findings() == []
    assert volume_findings(profile="ha", objectStorage=STORE) == []


def test_loki_single_binary_without_a_volume_warns():
    got = volume_findings(values={"loki": {"singleBinary": {"persistence": {"enabled": False}}}})
    assert got == [("warning", "spec.values.loki.singleBinary.persistence.enabled")]


def test_loki_write_without_claims_warns_in_simple_scalable_only():
    values = {"loki": {"write": {"persistence": {"volumeClaimsEnabled": False}}}}
    scalable = {"loki": {"mode": "SimpleScalable"}, "objectStorage": STORE}
    assert volume_findings(profile="ha", values=values, **scalable) == [
        ("warning", "spec.values.loki.write.persistence.volumeClaimsEnabled")
    ]
    assert volume_findings(values=values) == []  # no write target in SingleBinary
    assert volume_findings(profile="ha", objectStorage=STORE, values=values) == []  # nor in Monolithic


def test_loki_monolithic_without_a_volume_warns_of_its_write_ahead_log():
    values = {"loki": {"singleBinary": {"persistence": {"enabled": False}}}}
    (result,) = check_volumes(context(config=config_with(profile="ha", objectStorage=STORE, values=values)))
    assert result.field == "spec.values.loki.singleBinary.persistence.enabled"
    assert "write-ahead log" in result.message


def test_prometheus_on_an_empty_dir_warns():
    values = {"kube-prometheus-stack": {"prometheus": {"prometheusSpec": {"storageSpec": {"emptyDir": {}}}}}}
    (result,) = check_volumes(context(config=config_with(profile="ha", objectStorage=STORE, values=values)))
    assert result.field == "spec.values.kube-prometheus-stack.prometheus.prometheusSpec.storageSpec"
    assert "2h" in result.message
