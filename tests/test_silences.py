"""spec.alerting.silences: the Silence objects, the `silences` rule (a passing and a failing case of each
check), and the silence as silence-operator creates it in the real Alertmanager."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request

import pytest
import yaml

from krm_fn import components, validation
from krm_fn.charts import alerts
from krm_fn.checks import silences as rule_module
from krm_fn.checks.silences import check_silences
from krm_fn.components import silences as silence_component
from tests import alertmanager_harness as harness
from tests.helpers import load, protected_config, rule_run
from tests.tools import tool

BACKUP = {
    "name": "nightly-backup",
    "matchers": [{"name": "alertname", "value": "KubeJobFailed"}, {"name": "namespace", "value": "backup"}],
    "comment": "the backup job fails while the NAS sleeps",
}


def config_with_silences(*silences: dict, **spec) -> dict:
    config = protected_config()
    config["spec"]["alerting"] = {"silences": list(silences)}
    config["spec"].update(spec)
    return config


def silence(name: str, *matchers: tuple, **extra) -> dict:
    out = [{"name": m[0], "value": m[1], **({"matchType": m[2]} if len(m) > 2 else {})} for m in matchers]
    return {"name": name, "matchers": out, "comment": "test", **extra}


def findings(*silences: dict, files: dict | None = None, **spec) -> list[tuple[str, str]]:
    results = rule_run(check_silences, files, config_with_silences(*silences, **spec))
    return [(r.severity.value, r.field or "") for r in results]


# --- the Silence objects -------------------------------------------------------------------------


def test_each_silence_is_a_silence_operator_object_with_its_comment_and_expiry():
    config = config_with_silences(BACKUP, {**silence("later", ("alertname", "Watchdog")), "expires": "2099-01-01"})
    objects = [o for o in components.generate(load(config)) if o["kind"] == "Silence"]
    assert [o["metadata"]["name"] for o in objects] == ["nightly-backup", "later"]
    backup, later = objects
    assert backup["apiVersion"] == "observability.giantswarm.io/v1alpha2"
    assert backup["metadata"]["namespace"] == "monitoring"
    assert backup["metadata"]["annotations"]["motivation"] == BACKUP["comment"]
    assert "valid-until" not in backup["metadata"]["annotations"]
    assert later["metadata"]["annotations"]["valid-until"] == "2099-01-01"
    assert backup["spec"] == {
        "matchers": [
            {"name": "alertname", "value": "KubeJobFailed", "matchType": "="},
            {"name": "namespace", "value": "backup", "matchType": "="},
        ]
    }
    for obj in objects:
        assert list(validation.validate(obj, "1.32")) == []


def test_no_silences_no_objects():
    assert not [o for o in components.generate(load(protected_config())) if o["kind"] == "Silence"]


# --- the rule -------------------------------------------------------------------------------------


def test_a_silence_of_a_default_alert_passes():
    assert findings(BACKUP) == []


@pytest.mark.parametrize(
    "matchers",
    [
        [("alertname", "KubeJobFaild")],  # a typo
        [("alertname", "KubeSchedulerDown")],  # off: spec.controlPlane leaves the scheduler unscraped
        [("alertname", "KubeJobFailed"), ("severity", "critical")],  # it is a warning
        [("alertname", "Kube.*Typo", "=~")],
    ],
)
def test_a_silence_that_matches_no_alert_is_an_error(matchers: list):
    assert findings(silence("s", *matchers)) == [("error", "spec.alerting.silences[0].matchers")]


def test_the_message_says_why():
    (typo,) = rule_run(check_silences, None, config_with_silences(silence("s", ("alertname", "KubeJobFaild"))))
    assert "no alert named KubeJobFaild (did you mean KubeJobFailed?)" in typo.message
    (off,) = rule_run(check_silences, None, config_with_silences(silence("s", ("alertname", "KubeSchedulerDown"))))
    assert "kubeScheduler.enabled: false" in off.message


def test_the_control_plane_alert_exists_once_it_is_scraped():
    spec = {"controlPlane": {"distribution": "kubeadm", "metricsExposed": True}}
    assert findings(silence("s", ("alertname", "KubeSchedulerDown")), **spec) == []


def test_an_alert_disabled_through_values_is_off():
    values = {"kube-prometheus-stack": {"defaultRules": {"disabled": {"KubeJobFailed": True}}}}
    assert findings(BACKUP, values=values) == [("error", "spec.alerting.silences[0].matchers")]


@pytest.mark.parametrize(
    "matchers",
    [
        [("alertname", "FluxResourceNotReady")],  # the stack's own rules
        [("alertname", "LokiVolumeFillingUp"), ("severity", "warning")],
        [("alertname", "FluxKustomizationReconciliationFailed")],  # a Flux event
        [("alertname", "FluxHelmRelease.*", "=~")],
        [("alertname", "Kube(Job|Pod).*", "=~"), ("namespace", "backup")],
        [("severity", "info")],
        [("alertname", "Watchdog", "!="), ("namespace", "dev")],  # negative: leaves alerts in
    ],
)
def test_alerts_from_every_source_can_be_silenced(matchers: list):
    assert findings(silence("s", *matchers)) == []


def test_a_flux_event_of_a_kind_not_sent_matches_nothing():
    assert findings(silence("s", ("alertname", "FluxImagePolicyReconciliationFailed"))) == [
        ("error", "spec.alerting.silences[0].matchers")
    ]


def test_external_silences_are_not_looked_up():
    assert findings(silence("s", ("alertname", "CephNodeDiskspaceWarning"), external=True)) == []


def test_a_prometheus_rule_in_the_pipeline_defines_alerts():
    rule = """
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: ceph, namespace: rook-ceph}
spec:
  groups:
    - name: ceph
      rules:
        - alert: CephNodeDiskspaceWarning
          expr: vector(1)
          labels: {severity: warning}
"""
    assert findings(silence("s", ("alertname", "CephNodeDiskspaceWarning")), files={"r.yaml": rule}) == []


def test_matchers_that_all_match_the_empty_string_are_refused():
    got = findings(silence("s", ("namespace", ".*", "=~"), ("alertname", "Watchdog", "!=")))
    assert got == [("error", "spec.alerting.silences[0].matchers")]


def test_an_expired_silence_is_a_warning():
    assert findings({**BACKUP, "expires": "2020-01-01"}) == [("warning", "spec.alerting.silences[0].expires")]
    assert findings({**BACKUP, "expires": "2020-01-01T08:00:00Z"}) == [("warning", "spec.alerting.silences[0].expires")]
    assert findings({**BACKUP, "expires": "2099-01-01"}) == []


def test_a_date_ends_at_eight_utc_as_silence_operator_ends_it():
    assert rule_module._expiry("2026-09-01") == datetime.datetime(2026, 9, 1, 8, tzinfo=datetime.UTC)
    assert rule_module._expiry("2026-09-01T10:00:00+02:00") == datetime.datetime(2026, 9, 1, 8, tzinfo=datetime.UTC)


def test_two_silences_of_one_name_are_an_error():
    assert findings(BACKUP, BACKUP) == [("error", "spec.alerting.silences[1].name")]


SILENCE_OPERATOR = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: silence-operator, namespace: monitoring}}
spec:
  chartRef: {{kind: OCIRepository, name: silence-operator}}
  interval: 1h
  values:
    alertmanagerAddress: {address}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {{name: silence-operator, namespace: monitoring}}
spec:
  interval: 15m
  url: oci://gsoci.azurecr.io/charts/giantswarm/silence-operator
  ref: {{tag: 0.20.1}}
"""


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("http://alertmanager-operated.monitoring.svc.cluster.local:9093", True),
        ("http://kube-prometheus-stack-alertmanager.monitoring.svc:9093", True),
        ("http://alertmanager-operated.o11y.svc.cluster.local:9093", False),
        ("http://alertmanager.monitoring.svc:9093", False),
    ],
)
def test_silence_operator_points_at_this_alertmanager(address: str, ok: bool):
    got = findings(files={"so.yaml": SILENCE_OPERATOR.format(address=address)})
    assert got == ([] if ok else [("warning", "spec.values.alertmanagerAddress")])


def test_the_catalog_knows_every_supported_release():
    assert "KubeJobFailed" in alerts.catalog("82.18.0")
    assert "KubeAPIInstanceUnreachable" not in alerts.catalog("82.18.0")
    assert "KubeAPIInstanceUnreachable" in alerts.catalog("88.5.3")
    assert alerts.catalog("99.0.0") == alerts.catalog("88.5.3")  # newer than the data: its newest


# --- the real Alertmanager ------------------------------------------------------------------------


def _as_silence_operator_posts(obj: dict, created: datetime.datetime) -> dict:
    """What silence-operator v0.20.1 sends for a Silence (internal/controller/silence_v2_controller.go
    getSilenceFromCR, pkg/alertmanager SilenceEndsAt)."""
    kinds = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}
    matchers = []
    for m in obj["spec"]["matchers"]:
        regex, equal = kinds[m.get("matchType", "=")]
        matchers.append({"name": m["name"], "value": m["value"], "isRegex": regex, "isEqual": equal})
    until = obj["metadata"].get("annotations", {}).get(silence_component.VALID_UNTIL)
    ends = rule_module._expiry(until) if until else created + datetime.timedelta(days=36500)
    meta = obj["metadata"]
    return {
        "comment": f"silence-operator-{meta['namespace']}-{meta['name']}",
        "createdBy": "silence-operator",
        "startsAt": created.isoformat(),
        "endsAt": ends.isoformat(),
        "matchers": matchers,
    }


def _post(url: str, body: object) -> tuple[int, str]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with harness.DIRECT.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.e2e
def test_the_generated_silence_silences_its_alert_in_the_real_alertmanager(tmp_path):
    config_file = tmp_path / "alertmanager.yaml"
    config_file.write_text(yaml.safe_dump({"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}))
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    am = harness.start_alertmanager(tool("alertmanager"), config_file, tmp_path, ca, "http://127.0.0.1")
    try:
        now = datetime.datetime.now(datetime.UTC)
        (obj,) = [o for o in components.generate(load(config_with_silences(BACKUP))) if o["kind"] == "Silence"]
        status, text = _post(f"{am.url}/api/v2/silences", _as_silence_operator_posts(obj, now))
        assert status == 200, text
        labels = {"alertname": "KubeJobFailed", "namespace": "backup", "job_name": "nas-backup", "severity": "warning"}
        other = {**labels, "namespace": "apps"}
        ends = (now + datetime.timedelta(minutes=10)).isoformat()
        am.post([{"labels": labels, "endsAt": ends}, {"labels": other, "endsAt": ends}])

        def states() -> dict[str, str]:
            with harness.DIRECT.open(f"{am.url}/api/v2/alerts", timeout=10) as response:
                return {a["labels"]["namespace"]: a["status"]["state"] for a in json.loads(response.read())}

        assert harness.wait_for(lambda: states() == {"backup": "suppressed", "apps": "active"}), states()

        # What the rule says Alertmanager refuses, it refuses: every matcher matching "", and an end in the past.
        empty = config_with_silences(silence("s", ("namespace", ".*", "=~")))
        (obj,) = [o for o in components.generate(load(empty)) if o["kind"] == "Silence"]
        status, text = _post(f"{am.url}/api/v2/silences", _as_silence_operator_posts(obj, now))
        assert status == 400 and "empty" in text, text
        expired = config_with_silences({**BACKUP, "expires": "2020-01-01"})
        (obj,) = [o for o in components.generate(load(expired)) if o["kind"] == "Silence"]
        status, text = _post(f"{am.url}/api/v2/silences", _as_silence_operator_posts(obj, now))
        assert status == 400 and "start time must be before end time" in text, text
    finally:
        am.process.kill()
        am.process.wait(timeout=10)
