"""One push per Flux incident, with the real Alertmanager 0.28.1, time scaled down.

notification-controller posts an event without `endsAt` (internal/notifier/alertmanager.go) each
time a failing object is reconciled again: Alertmanager ends it `resolve_timeout` after the last
post. With the resolve_timeout shorter than the time between two events (the 5m default against a
Kustomization's 10m retry), each event is a new alert and a new push; with our default (2h, longer
than any usual interval) the incident pushes once. Scaled here: events every 3 s, resolve_timeout
1 s (the old ratio) against 20 s (ours). And the metric alert about the same object
(FluxResourceNotReady, from gotk_resource_info) is held back while the event is active.
"""

from __future__ import annotations

import datetime
import time

import pytest
import yaml

from krm_fn import config as config_model
from krm_fn.components import prometheus_rules
from tests import alertmanager_harness as harness
from tests.helpers import UPSTREAM, config_with
from tests.tools import tool

pytestmark = pytest.mark.e2e

KPS_VALUES = UPSTREAM / "charts" / "kube-prometheus-stack-82.18.0" / "values.yaml"
EXTERNAL_URL = "https://alertmanager.catinthehack.ca"
EVENTS = 4
SPACING_SECONDS = 3.0


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def flux_event(name: str = "apps") -> dict:
    """As notification-controller posts a Kustomization's failure: status firing, startsAt, no endsAt."""
    return {
        "status": "firing",
        "labels": {
            "cluster": "cloudlab",
            "revision": "main@sha1:0a1b2c3d",
            "alertname": "FluxKustomizationReconciliationFailed",
            "severity": "error",
            "reason": "ReconciliationFailed",
            "kind": "Kustomization",
            "name": name,
            "namespace": "flux-system",
            "reportingcontroller": "kustomize-controller",
        },
        "annotations": {"message": "kustomize build failed: accumulating resources from 'web'"},
        "startsAt": stamp(now()),
    }


def not_ready(name: str) -> dict:
    """FluxResourceNotReady as Prometheus posts it: the rule's labels (tests/test_alerting_real_tools.py proves
    them with promtool), the external label, an endsAt a few evaluations ahead."""
    return {
        "labels": {
            "alertname": "FluxResourceNotReady",
            "severity": "warning",
            "cluster": "cloudlab",
            "kind": "Kustomization",
            "namespace": "flux-system",
            "name": name,
        },
        "annotations": {"summary": f"Flux Kustomization flux-system/{name} is not ready"},
        "startsAt": stamp(now() - datetime.timedelta(minutes=10)),
        "endsAt": stamp(now() + datetime.timedelta(minutes=5)),
        "generatorURL": "https://prometheus.catinthehack.ca/graph?g0.expr=x",
    }


def run(tmp_path, resolve_timeout: str, posts) -> list[dict]:
    config = config_with(alerting={"groupWait": "1s", "groupInterval": "1s", "resolveTimeout": resolve_timeout})
    cfg, errors = config_model.load(config)
    assert cfg is not None, errors
    chart_values = yaml.safe_load(KPS_VALUES.read_text())
    with harness.running(cfg, chart_values, tmp_path, tool("openssl"), tool("alertmanager"), EXTERNAL_URL) as (
        am,
        stand_in,
    ):
        posts(am)
        time.sleep(SPACING_SECONDS)  # the last group_wait and flush
        return list(stand_in.captured.pushes)


def repeated_events(am: harness.Alertmanager) -> None:
    for _ in range(EVENTS):
        am.post([flux_event()])
        time.sleep(SPACING_SECONDS)


def test_a_still_failing_object_pushes_once(tmp_path):
    pushes = run(tmp_path, "20s", repeated_events)
    assert [p["title"] for p in pushes] == ["[cloudlab] Kustomization flux-system/apps"]


def test_with_a_resolve_timeout_shorter_than_the_events_every_event_pushes(tmp_path):
    """Control, the bug as reported: each event arrives after the previous one ended."""
    pushes = run(tmp_path, "1s", repeated_events)
    assert {p["title"] for p in pushes} == {"[cloudlab] Kustomization flux-system/apps"}
    # More than one push for one incident: each event that arrives after the previous one ended pushes
    # again. Not necessarily one per event: an event that arrives while Alertmanager has not yet flushed
    # the ended alert out of its group joins it without a push (under load this happens more than once).
    assert 1 < len(pushes) <= EVENTS


def test_the_metric_alert_about_the_same_object_is_held_back(tmp_path):
    def posts(am: harness.Alertmanager) -> None:
        am.post([flux_event("apps")])
        time.sleep(SPACING_SECONDS)
        # 10 minutes later Prometheus fires for apps (inhibited) and for infra, which sent no event
        # (a namespace outside the Alert's event sources, or notification-controller down).
        am.post([not_ready("apps"), not_ready("infra")])
        time.sleep(SPACING_SECONDS)
        (inhibited,) = harness.get_alerts(am, 'name="apps"', 'alertname="FluxResourceNotReady"')
        assert inhibited["status"]["state"] == "suppressed" and inhibited["status"]["inhibitedBy"]

    pushes = run(tmp_path, "20s", posts)
    assert sorted(p["title"] for p in pushes) == [
        "[cloudlab] FluxResourceNotReady",
        "[cloudlab] Kustomization flux-system/apps",
    ]
    (metric,) = [p for p in pushes if p["title"] == "[cloudlab] FluxResourceNotReady"]
    assert "name=infra" in metric["message"] and "apps" not in metric["message"]
    assert prometheus_rules.FLUX_OBJECT_ALERTS[0] == "FluxResourceNotReady"
