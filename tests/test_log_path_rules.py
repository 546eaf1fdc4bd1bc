"""The log-path alerts (Alloy -> Loki -> volume), run through the real promtool, one unit test per alert.

Series carry the labels the real exporters give them (metric names: krm_fn/components/prometheus_rules.py).
Each test has an evaluation where the alert must not fire (too early, or a look-alike series) and one where it must.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.helpers import alert_case as case
from tests.helpers import expected_alert as alert
from tests.helpers import promtool_test, rule_groups
from tests.helpers import run_tool as run
from tests.helpers import series as m
from tests.tools import tool

pytestmark = pytest.mark.e2e

KEY = "log-path-rules"
NS = "monitoring"
LOKI_JOB = f"{NS}/loki"


CASES = {
    "AlloyUnhealthyComponents": case(
        [
            (
                m("alloy_component_controller_running_components", pod="alloy-a", health_type="healthy"),
                "4x30",
            ),
            (
                m("alloy_component_controller_running_components", pod="alloy-a", health_type="unhealthy"),
                "1x30",
            ),
            # Another node's Alloy: all healthy, the unhealthy gauge at 0.
            (
                m("alloy_component_controller_running_components", pod="alloy-b", health_type="unhealthy"),
                "0x30",
            ),
        ],
        "AlloyUnhealthyComponents",
        "14m",
        "16m",
        [
            alert(
                {"namespace": NS, "pod": "alloy-a"},
                "Alloy alloy-a has unhealthy components",
                f"1 component(s) of Alloy pod {NS}/alloy-a are not healthy: the logs it tails may not be shipped. "
                "Open the Alloy UI (component graph) or its logs for the error.",
            )
        ],
    ),
    "AlloyLokiEntriesDropped": case(
        [
            # Dropping lines every minute from minute 11: lost lines that keep coming.
            (
                m(
                    "loki_write_dropped_entries_total",
                    pod="alloy-a",
                    host="loki.monitoring.svc:3100",
                    tenant="",
                    reason="rate_limited",
                ),
                "0x10 10+10x30",
            ),
            # One burst at minute 11 (a restart re-read, Loki's 400 for lines too far behind): rides it out.
            (
                m(
                    "loki_write_dropped_entries_total",
                    pod="alloy-b",
                    host="loki.monitoring.svc:3100",
                    tenant="",
                    reason="ingester_error",
                ),
                "0x10 500x30",
            ),
        ],
        "AlloyLokiEntriesDropped",
        "20m",
        "27m",
        [
            alert(
                {"namespace": NS, "pod": "alloy-a", "reason": "rate_limited"},
                "Alloy alloy-a is dropping log lines (rate_limited)",
                f"Alloy pod {NS}/alloy-a has been giving up on log lines for 15m (reason rate_limited): they are "
                "lost. rate_limited/stream_limited: Loki's limits_config; ingester_error: Loki is failing.",
            )
        ],
    ),
    "AlloyLokiWriteErrors": case(
        [
            (
                m("loki_write_request_duration_seconds_count", pod="alloy-a", status_code="500"),
                "0+6x40",
            ),
            (
                m("loki_write_request_duration_seconds_count", pod="alloy-a", status_code="204"),
                "0+6x40",
            ),
            # 1 failure in 100 pushes: under the 10% threshold.
            (
                m("loki_write_request_duration_seconds_count", pod="alloy-b", status_code="429"),
                "0+1x40",
            ),
            (
                m("loki_write_request_duration_seconds_count", pod="alloy-b", status_code="204"),
                "0+99x40",
            ),
        ],
        "AlloyLokiWriteErrors",
        "10m",
        "25m",
        [
            alert(
                {"namespace": NS, "pod": "alloy-a"},
                "Alloy alloy-a fails to push logs to Loki",
                f"More than 10% of the pushes of Alloy pod {NS}/alloy-a to Loki failed for 15m; Alloy retries, "
                "then drops. Check the loki pod.",
            )
        ],
    ),
    "LokiDiscardingLogs": case(
        [
            (
                m("loki_discarded_samples_total", tenant="fake", reason="rate_limited"),
                "0x10 10+10x20",
            ),
            # Week-old lines re-read after a restart: refused by design, never an alert.
            (
                m("loki_discarded_samples_total", tenant="fake", reason="greater_than_max_sample_age"),
                "0+10x30",
            ),
            # One re-read burst at minute 11 (a restart that lost its positions): under the for:, quiet.
            (
                m("loki_discarded_samples_total", tenant="fake", reason="too_far_behind"),
                "0x10 300x20",
            ),
        ],
        "LokiDiscardingLogs",
        "20m",
        "27m",
        [
            alert(
                {"namespace": NS, "reason": "rate_limited"},
                "Loki rejects log lines (rate_limited)",
                "Loki has been discarding log lines for 15m (reason rate_limited): they are lost. rate_limited, "
                "per_stream_rate_limit, stream_limit: raise limits_config (spec.values.loki); line_too_long: "
                "max_line_size; too_far_behind: a log re-read from the start (Alloy lost its positions).",
            )
        ],
    ),
    "LokiRequestErrors": case(
        [
            (
                m("loki_request_duration_seconds_count", job=LOKI_JOB, route="loki_api_v1_push", status_code="500"),
                "0+6x40",
            ),
            (
                m("loki_request_duration_seconds_count", job=LOKI_JOB, route="loki_api_v1_push", status_code="204"),
                "0+6x40",
            ),
            # Client errors are not Loki's failures.
            (
                m("loki_request_duration_seconds_count", job=LOKI_JOB, route="ready", status_code="404"),
                "0+6x40",
            ),
        ],
        "LokiRequestErrors",
        "10m",
        "25m",
        [
            alert(
                {"namespace": NS, "job": f"{NS}/loki", "route": "loki_api_v1_push"},
                "Loki answers loki_api_v1_push with errors",
                "More than 10% of Loki's loki_api_v1_push requests failed with a 5xx for 15m. "
                "Check the loki pod's logs.",
            )
        ],
    ),
    "LokiVolumeFillingUp": case(
        [
            (
                m("kubelet_volume_stats_available_bytes", persistentvolumeclaim="storage-loki-0"),
                "1x60",
            ),
            (
                m("kubelet_volume_stats_capacity_bytes", persistentvolumeclaim="storage-loki-0"),
                "10x60",
            ),
            # The ha profile's write replica claim (SimpleScalable), as full.
            (
                m("kubelet_volume_stats_available_bytes", persistentvolumeclaim="data-loki-write-1"),
                "1x60",
            ),
            (
                m("kubelet_volume_stats_capacity_bytes", persistentvolumeclaim="data-loki-write-1"),
                "10x60",
            ),
            # ... and its backend claim, with room left.
            (
                m("kubelet_volume_stats_available_bytes", persistentvolumeclaim="data-loki-backend-0"),
                "5x60",
            ),
            (
                m("kubelet_volume_stats_capacity_bytes", persistentvolumeclaim="data-loki-backend-0"),
                "10x60",
            ),
            # Another claim in the namespace, as full: the generic KubePersistentVolumeFillingUp covers it.
            (
                m("kubelet_volume_stats_available_bytes", persistentvolumeclaim="prometheus-db-0"),
                "1x60",
            ),
            (
                m("kubelet_volume_stats_capacity_bytes", persistentvolumeclaim="prometheus-db-0"),
                "10x60",
            ),
        ],
        "LokiVolumeFillingUp",
        "29m",
        "31m",
        [
            alert(
                {"namespace": NS, "persistentvolumeclaim": claim},
                f"Loki's volume {claim} is almost full",
                f"Only 10% of Loki's volume {claim} is free; when it is full Loki stops ingesting. Lower "
                "spec.loki.retention (now 168h) or raise spec.loki.storageSize. (On NFS the kubelet reports the "
                "whole export, not the claim.)",
            )
            for claim in ("data-loki-write-1", "storage-loki-0")
        ],
    ),
}


def test_every_log_path_alert_has_a_unit_test():
    names = {rule["alert"] for group in rule_groups()[KEY]["groups"] for rule in group["rules"]}
    assert names == set(CASES)


def test_promtool_accepts_the_group(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rule_groups()[KEY], sort_keys=False))
    proc = run(tool("promtool"), "check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(CASES)} rules found" in proc.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_alert_fires_when_it_should_and_not_before(tmp_path: Path, name: str):
    proc = promtool_test(tmp_path, KEY, CASES[name])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_the_unit_tests_can_fail(tmp_path: Path):
    """Control: expecting the volume alert for Prometheus' claim too makes promtool fail."""
    wrong = copy.deepcopy(CASES["LokiVolumeFillingUp"])
    extra = copy.deepcopy(wrong["tests"][0]["alert_rule_test"][1]["exp_alerts"][0])
    extra["exp_labels"]["persistentvolumeclaim"] = "prometheus-db-0"
    wrong["tests"][0]["alert_rule_test"][1]["exp_alerts"].append(extra)
    assert promtool_test(tmp_path, KEY, wrong).returncode != 0
