"""The Thanos alerts, run through the real promtool: a firing and a quiet case for each.

Series carry the labels the scrapes give them: the job names come from the rendered ServiceMonitors
(tests/test_ha_rendered.py checks them), the pod label from the operator's pod discovery. Metric names
are those of thanos v0.42.4 (krm_fn/components/thanos_rules.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import alert_case as case
from tests.helpers import config_with, promtool_test, rule_groups
from tests.helpers import expected_alert as alert
from tests.helpers import series as s

pytestmark = pytest.mark.e2e

KEY = "thanos-rules"
NS = "monitoring"
STORE = {"endpoint": "minio.storage.svc:9000", "buckets": {"lokiChunks": "loki-chunks", "lokiRuler": "loki-ruler"}}
CONFIG = config_with(profile="ha", objectStorage=STORE)
QUERY, STORE_GW, COMPACT = "thanos-query", "thanos-store-gateway", "thanos-compact"
SIDECAR = "kube-prometheus-stack-thanos-discovery"


def connections(pod: str, store_type: str, external: str, value: str) -> tuple[str, str]:
    labels = {"job": QUERY, "pod": pod, "store_type": store_type, "external_labels": external}
    return s("thanos_store_nodes_grpc_connections", **labels), value


def missing(pod: str, seen: int, of: int, what: str, then: str) -> dict:
    return alert(
        {"namespace": NS, "pod": pod},
        f"Thanos Query {pod} reaches {seen} of {of} {what}",
        f"Thanos Query pod {NS}/{pod} has been connected to {seen} of the {of} {then}",
    )


SIDECARS_THEN = (
    "Prometheus sidecars for 15 minutes: the last hours of metrics come from fewer replicas than run, "
    f"or from none. Check the Prometheus pods and the Service {SIDECAR}."
)
STORES_THEN = (
    "Thanos Store Gateways for 15 minutes: history older than Prometheus' own retention may be missing from dashboards."
)

CASES = {
    "ThanosQueryMissingSidecars": case(
        [
            *[(s("up", job=QUERY, pod=f"thanos-query-{p}"), "1x30") for p in "abc"],
            connections("thanos-query-a", "sidecar", "replica-0", "1x30"),
            connections("thanos-query-a", "sidecar", "replica-1", "1x30"),  # a sees both
            connections("thanos-query-b", "sidecar", "replica-0", "1x30"),  # b sees one
            connections("thanos-query-c", "store", "blocks", "2x30"),  # c sees no sidecar at all
            (s("up", job=QUERY, pod="thanos-query-d"), "0x30"),  # d is down: TargetDown's business
        ],
        "ThanosQueryMissingSidecars",
        "14m",
        "16m",
        [
            missing("thanos-query-b", 1, 2, "Prometheus sidecars", SIDECARS_THEN),
            missing("thanos-query-c", 0, 2, "Prometheus sidecars", SIDECARS_THEN),
        ],
    ),
    "ThanosQueryMissingStoreGateways": case(
        [
            *[(s("up", job=QUERY, pod=f"thanos-query-{p}"), "1x30") for p in "ab"],
            connections("thanos-query-a", "store", "blocks", "2x30"),  # both gateways share their label sets
            connections("thanos-query-b", "store", "blocks", "1x30"),
            connections("thanos-query-b", "sidecar", "replica-0", "1x30"),
        ],
        "ThanosQueryMissingStoreGateways",
        "14m",
        "16m",
        [missing("thanos-query-b", 1, 2, "Store Gateways", STORES_THEN)],
    ),
    "ThanosQueryErrors": case(
        [
            (s("http_requests_total", job=QUERY, pod="thanos-query-a", handler="query", code="200"), "0+100x30"),
            (s("http_requests_total", job=QUERY, pod="thanos-query-a", handler="query", code="503"), "0+10x30"),
            # 1% of query_range fails: under the 5%.
            (s("http_requests_total", job=QUERY, pod="thanos-query-a", handler="query_range", code="200"), "0+99x30"),
            (s("http_requests_total", job=QUERY, pod="thanos-query-a", handler="query_range", code="500"), "0+1x30"),
        ],
        "ThanosQueryErrors",
        "5m",
        "15m",
        [
            alert(
                {"namespace": NS, "handler": "query"},
                "Thanos Query fails 9.091% of query requests",
                f"More than 5% of Thanos Query's query requests in {NS} have failed with a 5xx for 10 minutes: "
                "Grafana's metric panels show errors. Check the thanos-query pods' logs.",
            )
        ],
    ),
    "ThanosSidecarNoUpload": case(
        [
            # Uploads a block every 2h.
            (s("thanos_shipper_uploads_total", job=SIDECAR, pod="prometheus-0"), "0x119 1x119 2x119"),
            (s("process_start_time_seconds", job=SIDECAR, pod="prometheus-0"), "0x359"),
            # Has uploaded nothing since it started, at the start of the test.
            (s("thanos_shipper_uploads_total", job=SIDECAR, pod="prometheus-1"), "0x359"),
            (s("process_start_time_seconds", job=SIDECAR, pod="prometheus-1"), "0x359"),
            # Started 2h in: no block is due yet.
            (s("thanos_shipper_uploads_total", job=SIDECAR, pod="prometheus-2"), "_x120 0x239"),
            (s("process_start_time_seconds", job=SIDECAR, pod="prometheus-2"), "_x120 7200x239"),
        ],
        "ThanosSidecarNoUpload",
        "4h50m",
        "5h10m",
        [
            alert(
                {"namespace": NS, "pod": "prometheus-1"},
                "Thanos sidecar in prometheus-1 uploads no blocks",
                f"The Thanos sidecar of Prometheus {NS}/prometheus-1 has uploaded no block to the bucket in the "
                "last 4h (one is cut every 2h): metrics older than Prometheus' retention will be lost. Check the "
                "sidecar's logs (container thanos-sidecar) and the Secret key thanos-objstore.yaml.",
            )
        ],
    ),
    "ThanosStoreBucketErrors": case(
        [
            (s("thanos_objstore_bucket_operations_total", job=STORE_GW, pod="gw-0"), "0+100x40"),
            (s("thanos_objstore_bucket_operation_failures_total", job=STORE_GW, pod="gw-0"), "0+20x40"),
            (s("thanos_objstore_bucket_operations_total", job=STORE_GW, pod="gw-1"), "0+100x40"),
            (s("thanos_objstore_bucket_operation_failures_total", job=STORE_GW, pod="gw-1"), "0x40"),
        ],
        "ThanosStoreBucketErrors",
        "10m",
        "20m",
        [
            alert(
                {"namespace": NS},
                "Thanos Store Gateway fails 10% of bucket operations",
                f"More than 5% of the Thanos Store Gateways' operations on the bucket in {NS} have failed for 15 "
                "minutes: history from the bucket is missing or slow. Check the object storage and the Secret key "
                "thanos-objstore.yaml.",
            )
        ],
    ),
    "ThanosCompactHalted": case(
        [
            (s("thanos_compact_halted", job=COMPACT, pod="thanos-compact-0"), "0x3 1x20"),
            (s("thanos_compact_halted", job=COMPACT, pod="thanos-compact-1"), "0x23"),
        ],
        "ThanosCompactHalted",
        "7m",
        "10m",
        [
            alert(
                {"namespace": NS, "pod": "thanos-compact-0"},
                "Thanos Compactor thanos-compact-0 has halted",
                f"Thanos Compactor {NS}/thanos-compact-0 stopped after an error it cannot retry: retention and "
                "downsampling no longer run and the bucket keeps growing. Its logs name the block; see the Thanos "
                "runbook (ThanosCompactHalted).",
            )
        ],
    ),
    "ThanosCompactNotRunning": case(
        [
            (s("thanos_compact_iterations_total", job=COMPACT, pod="thanos-compact-0"), "0x479"),
            (s("process_start_time_seconds", job=COMPACT, pod="thanos-compact-0"), "0x479"),
            # A healthy one: a run every 5 minutes.
            (s("thanos_compact_iterations_total", job=COMPACT, pod="thanos-compact-1"), "0+0.2x479"),
            (s("process_start_time_seconds", job=COMPACT, pod="thanos-compact-1"), "0x479"),
        ],
        "ThanosCompactNotRunning",
        "6h50m",
        "7h10m",
        [
            alert(
                {"namespace": NS, "pod": "thanos-compact-0"},
                "Thanos Compactor thanos-compact-0 has not finished a run in 6h",
                f"Thanos Compactor {NS}/thanos-compact-0 is up but has completed no compaction run in 6h (it "
                "starts one every 5 minutes): retention is not applied. Check its logs.",
            )
        ],
    ),
}

DOWN = {
    "ThanosQueryDown": (
        QUERY,
        "Thanos Query",
        "Grafana's default Prometheus datasource is Thanos Query, so metric panels fail.",
    ),
    "ThanosStoreGatewayDown": (
        STORE_GW,
        "Thanos Store Gateway",
        "metrics older than Prometheus' own retention cannot be read.",
    ),
    "ThanosCompactDown": (
        COMPACT,
        "Thanos Compactor",
        "retention and downsampling do not run and the bucket keeps growing.",
    ),
}


def test_every_thanos_alert_has_a_case():
    (group,) = rule_groups(CONFIG)[KEY]["groups"]
    assert {r["alert"] for r in group["rules"]} == set(CASES) | set(DOWN)


@pytest.mark.parametrize("name", sorted(CASES))
def test_alert_fires_only_when_it_should(tmp_path: Path, name: str):
    proc = promtool_test(tmp_path, KEY, CASES[name], CONFIG)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", sorted(DOWN))
def test_a_component_that_is_gone_alerts_and_one_that_runs_does_not(tmp_path: Path, name: str):
    job, what, then = DOWN[name]
    expected = alert(
        {"namespace": NS, "job": job},
        f"{what} is not running",
        f"No {what} pod of {NS} has been scraped for 15 minutes: {then} "
        f"Run: kubectl -n {NS} get pods -l app.kubernetes.io/instance=thanos",
    )
    # Up for 10 minutes, then its targets are gone; another component's targets stay.
    series = [(s("up", job=job, pod=f"{job}-0"), "1x10"), (s("up", job="other", pod="x"), "1x40")]
    proc = promtool_test(tmp_path, KEY, case(series, name, "25m", "35m", [expected]), CONFIG)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrong_expectation_fails(tmp_path: Path):
    """Control: expecting the healthy compactor to alert makes promtool fail."""
    wrong = case(
        [(s("thanos_compact_halted", job=COMPACT, pod="thanos-compact-1"), "0x23")],
        "ThanosCompactHalted",
        "7m",
        "10m",
        [alert({"namespace": NS, "pod": "thanos-compact-1"}, "x", "y")],
    )
    proc = promtool_test(tmp_path, KEY, wrong, CONFIG)
    assert proc.returncode != 0


def test_the_sidecar_count_follows_the_prometheus_replicas():
    rules = rule_groups(config_with(profile="ha", objectStorage=STORE, prometheus={"replicas": 3}))[KEY]
    (rule,) = [r for r in rules["groups"][0]["rules"] if r["alert"] == "ThanosQueryMissingSidecars"]
    assert rule["expr"].endswith("< 3")
    assert KEY not in rule_groups(config_with(profile="ha", objectStorage=STORE, thanos={"enabled": False}))
