"""One push per Flux incident, with the real Alertmanager 0.28.1, time scaled down.

notification-controller posts an event without `endsAt` (internal/notifier/alertmanager.go) each
time a failing object is reconciled again: Alertmanager ends it `resolve_timeout` after the last
post. With the resolve_timeout shorter than the time between two events (the 5m default against a
Kustomization's 10m retry), each event is a new alert and a new push; with our default (2h, longer
than any usual interval) the incident pushes once. Scaled here: events every 3 s against a
resolve_timeout of 20 s (ours), and, as the control, a resolve_timeout of 3 s with each event posted
once Alertmanager has ended the previous one (the old ratio). And the metric alert about the same object
(FluxResourceNotReady, from gotk_resource_info) is held back while the event is active; under the Flux
Operator, so are FluxResourceNotReady and FluxInstanceNotReady on its metrics (the last section).
"""

from __future__ import annotations

import datetime
import time

import pytest
import yaml

from krm_fn import config as config_model
from krm_fn.components import prometheus_rules
from tests import alertmanager_harness as harness
from tests.helpers import UPSTREAM, config_with, promtool_test
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


def flux_event(
    name: str = "apps",
    kind: str = "Kustomization",
    controller: str = "kustomize-controller",
    namespace: str = "flux-system",
) -> dict:
    """As notification-controller posts an object's failure (internal/notifier/alertmanager.go): status firing,
    startsAt, no endsAt; the object as kind/namespace/name."""
    return {
        "status": "firing",
        "labels": {
            "cluster": "cloudlab",
            "revision": "main@sha1:0a1b2c3d",
            "alertname": f"Flux{kind}ReconciliationFailed",
            "severity": "error",
            "reason": "ReconciliationFailed",
            "kind": kind,
            "name": name,
            "namespace": namespace,
            "reportingcontroller": controller,
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


def run(tmp_path, resolve_timeout: str, posts, flux: dict | None = None) -> list[dict]:
    config = config_with(alerting={"groupWait": "1s", "groupInterval": "1s", "resolveTimeout": resolve_timeout})
    if flux is not None:
        config["spec"]["flux"] = flux
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


def events_after_each_ended(am: harness.Alertmanager) -> None:
    """The same events, each posted once Alertmanager has ended the previous one (its resolve_timeout
    passed) and flushed its group: waiting on Alertmanager, not on the clock, so that a loaded machine
    cannot make an event join the previous, not yet flushed, alert."""
    for _ in range(EVENTS):
        am.post([flux_event()])
        deadline = time.monotonic() + 60
        while harness.get_alerts(am, 'name="apps"'):  # resolved alerts are not listed
            assert time.monotonic() < deadline, "Alertmanager never ended the event"
            time.sleep(0.2)
        time.sleep(SPACING_SECONDS)  # group_interval 1 s: the flush clears the notification log


def test_with_a_resolve_timeout_shorter_than_the_events_every_event_pushes(tmp_path):
    """Control, the bug as reported: each event arrives after the previous one ended."""
    # 3 s: longer than group_wait (1 s), so each event is still firing when its group is first flushed
    # even on a loaded machine; shorter than the 20 s that holds one incident together.
    pushes = run(tmp_path, "3s", events_after_each_ended)
    assert {p["title"] for p in pushes} == {"[cloudlab] Kustomization flux-system/apps"}
    # More than one push for one incident: each event that arrives after the previous one ended pushes again.
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


# --- under the Flux Operator (spec.flux.distribution: flux-operator) ------------------------------------
#
# The alerts read flux_resource_info and flux_instance_info, where the object's namespace is
# `exported_namespace` and `namespace` is the operator's own (where Prometheus scraped it). promtool proves
# the rules fire labelled kind/namespace/name like the object's event; the real Alertmanager then holds
# each back while that event is active. Control: labelled as before the merge (exported_namespace, no
# namespace), the same alerts are not held back, and one failing object pushes twice.

OPERATOR = {"distribution": "flux-operator"}
# alertname -> (the series that makes it fire, the object, its annotations at 16m), one object per alert.
OPERATOR_FIRING = {
    ("FluxResourceNotReady", "apps"): (
        'flux_resource_info{uid="u1", kind="Kustomization", name="apps", exported_namespace="flux-system", '
        'ready="False", reason="BuildFailed", suspended="False", job="flux-operator", namespace="flux-system"}',
        {"kind": "Kustomization", "namespace": "flux-system", "name": "apps"},
        {
            "summary": "Flux Kustomization flux-system/apps is not ready: BuildFailed",
            "description": "Kustomization flux-system/apps has reported Ready=False (BuildFailed) for more than 10m. "
            "Run: flux events --for Kustomization/apps -n flux-system",
        },
    ),
    ("FluxResourceNotReady", "web"): (  # no event: a namespace outside the Alert's event sources
        'flux_resource_info{uid="u2", kind="HelmRelease", name="web", exported_namespace="apps", ready="False", '
        'reason="InstallFailed", suspended="False", job="flux-operator", namespace="flux-system"}',
        {"kind": "HelmRelease", "namespace": "apps", "name": "web"},
        {
            "summary": "Flux HelmRelease apps/web is not ready: InstallFailed",
            "description": "HelmRelease apps/web has reported Ready=False (InstallFailed) for more than 10m. "
            "Run: flux events --for HelmRelease/web -n apps",
        },
    ),
    ("FluxInstanceNotReady", "flux"): (
        'flux_instance_info{uid="u3", kind="FluxInstance", name="flux", exported_namespace="flux-system", '
        'ready="False", reason="HealthCheckFailed", suspended="False", registry="ghcr.io/fluxcd", revision="v2.7.0", '
        'job="flux-operator", namespace="flux-system"}',
        {"kind": "FluxInstance", "namespace": "flux-system", "name": "flux"},
        {
            "summary": "FluxInstance flux-system/flux is not ready: HealthCheckFailed",
            "description": "FluxInstance flux-system/flux has not been Ready (HealthCheckFailed) for 15m: the Flux "
            "controllers may be missing or failing to upgrade. Run: kubectl -n flux-system events --for "
            "fluxinstance/flux",
        },
    ),
}
SEVERITY = {"FluxResourceNotReady": "warning", "FluxInstanceNotReady": "critical"}


def operator_alerts(tmp_path) -> list[dict]:
    """The Flux Operator alerts as Prometheus posts them; promtool first proves the rules fire with exactly
    these labels and annotations."""
    tmp_path.mkdir()
    config = config_with(flux=OPERATOR)
    expected: dict[str, list[dict]] = {}
    for (alertname, _), (_, labels, said) in OPERATOR_FIRING.items():
        exp = {"exp_labels": {"severity": SEVERITY[alertname], **labels}, "exp_annotations": said}
        expected.setdefault(alertname, []).append(exp)
    case = {
        "interval": "1m",
        "input_series": [{"series": series, "values": "1x20"} for series, _, _ in OPERATOR_FIRING.values()],
        "alert_rule_test": [{"eval_time": "16m", "alertname": a, "exp_alerts": e} for a, e in expected.items()],
    }
    proc = promtool_test(tmp_path, "flux-rules", {"evaluation_interval": "1m", "tests": [case]}, config)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [
        {
            "labels": {"alertname": alertname, "severity": SEVERITY[alertname], "cluster": "cloudlab", **labels},
            "annotations": said,
            "startsAt": stamp(now() - datetime.timedelta(minutes=16)),
            "endsAt": stamp(now() + datetime.timedelta(minutes=5)),
            "generatorURL": "https://prometheus.catinthehack.ca/graph?g0.expr=x",
        }
        for (alertname, _), (_, labels, said) in OPERATOR_FIRING.items()
    ]


def operator_events() -> list[dict]:
    """The failures' own events: the Kustomization's, and the FluxInstance's, which the Flux Operator sends."""
    return [flux_event("apps"), flux_event("flux", kind="FluxInstance", controller="flux-operator")]


def test_flux_operator_alerts_about_an_object_with_an_event_are_held_back(tmp_path):
    alerts = operator_alerts(tmp_path / "promtool")
    seen: dict[str, dict] = {}

    def posts(am: harness.Alertmanager) -> None:
        am.post(operator_events())
        time.sleep(SPACING_SECONDS)
        am.post(alerts)
        time.sleep(SPACING_SECONDS)
        for name in ("apps", "flux", "web"):
            (seen[name],) = harness.get_alerts(am, f'name="{name}"', 'alertname=~"Flux(Resource|Instance)NotReady"')

    pushes = run(tmp_path, "20s", posts, flux=OPERATOR)
    assert seen["apps"]["status"]["state"] == seen["flux"]["status"]["state"] == "suppressed"
    assert seen["web"]["status"]["state"] == "active"
    assert sorted(p["title"] for p in pushes) == [
        "[cloudlab] FluxInstance flux-system/flux",
        "[cloudlab] FluxResourceNotReady",
        "[cloudlab] Kustomization flux-system/apps",
    ]
    # The one metric push: its description first, then the object's labels; its silence link names the object.
    (metric,) = [p for p in pushes if p["title"] == "[cloudlab] FluxResourceNotReady"]
    assert metric["message"].startswith("HelmRelease apps/web has reported Ready=False (InstallFailed)")
    assert metric["message"].endswith("\n namespace=apps name=web")
    matchers = harness.silence_matchers(metric["url"], EXTERNAL_URL)
    assert matchers == {"alertname": "FluxResourceNotReady", "namespace": "apps", "name": "web", "kind": "HelmRelease"}


def test_flux_operator_alerts_labelled_by_exported_namespace_would_push_twice(tmp_path):
    """Control: the labels the Flux Operator alerts had before (exported_namespace, no namespace) do not
    equal the event's, so nothing is held back: two pushes for each of the two failing objects."""
    alerts = operator_alerts(tmp_path / "promtool")
    for alert in alerts:
        alert["labels"]["exported_namespace"] = alert["labels"].pop("namespace")

    def posts(am: harness.Alertmanager) -> None:
        am.post(operator_events())
        time.sleep(SPACING_SECONDS)
        am.post(alerts)
        time.sleep(SPACING_SECONDS)

    pushes = run(tmp_path, "20s", posts, flux=OPERATOR)
    titles = sorted(p["title"] for p in pushes)
    assert (
        "[cloudlab] FluxInstance flux-system/flux" in titles and "[cloudlab] Kustomization flux-system/apps" in titles
    )
    # The metric alerts push too, the two with an event among them (grouped by alertname, in one or two pushes).
    messages = "".join(p["message"] for p in pushes if p["title"].startswith("[cloudlab] Flux"))
    assert "Kustomization flux-system/apps has reported" in messages
    assert "FluxInstance flux-system/flux has not been Ready" in messages


def test_the_inhibit_rule_lists_the_object_alerts_of_each_distribution():
    from krm_fn.components import alerting

    def targets(flux: dict) -> list[str]:
        cfg, errors = config_model.load(config_with(flux=flux))
        assert cfg is not None, errors
        return alerting.flux_inhibit_rule(cfg)["target_matchers"]

    assert targets({"distribution": "upstream"}) == ['alertname =~ "FluxResourceNotReady|FluxResourceStuck"']
    assert targets(OPERATOR) == ['alertname =~ "FluxResourceNotReady|FluxResourceStuck|FluxInstanceNotReady"']
