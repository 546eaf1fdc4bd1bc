"""The alert path with the real Alertmanager: what reaches the phone, and what does not.

Alertmanager 0.28.1 (Debian trixie, installed by scripts/install-tools.sh) runs the generated
config; a local TLS stand-in for api.pushover.net (tests/alertmanager_harness.py) captures the
pushes. The Prometheus alerts are kube-prometheus-stack's own rules firing under promtool
(tests/kps_firing.py), posted as Prometheus posts them; the Flux event as notification-controller
posts it.
"""

from __future__ import annotations

import datetime
import json
import os

import pytest
import yaml

from krm_fn import config as config_model
from krm_fn.components import alerting
from krm_fn.config import Config
from tests import alertmanager_harness as harness
from tests import kps_firing
from tests.helpers import REPO, UPSTREAM, config_with
from tests.helpers import run_tool as run
from tests.tools import tool

pytestmark = pytest.mark.e2e

KPS_VALUES = UPSTREAM / "charts" / "kube-prometheus-stack-82.18.0" / "values.yaml"
EXTERNAL_URL = "https://alertmanager.catinthehack.ca"
USER_KEY, API_TOKEN = harness.USER_KEY, harness.API_TOKEN

# What each push says under the description: the object's labels, not the scraper's.
OBJECT_LINES = {
    "KubePodCrashLooping": " namespace=apps pod=web-7c9d8f6b5-x2x9q container=web",
    "KubeDeploymentReplicasMismatch": " namespace=apps deployment=api",
    "NodeFilesystemAlmostOutOfSpace": " instance=192.168.1.21:9100 mountpoint=/var",
    "KubeNodeNotReady": " node=n2",
    "KubePersistentVolumeFillingUp": (
        " namespace=apps persistentvolumeclaim=data-postgres-0 node=n1 instance=192.168.1.21:10250"
    ),
}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def prometheus_alert(labels: dict, annotations: dict | None = None, ends_in: int = 300) -> dict:
    """As Prometheus posts to /api/v2/alerts: external label cluster, endsAt a few evaluations ahead, a generatorURL."""
    return {
        "labels": {**labels, "cluster": "cloudlab"},
        "annotations": annotations or {},
        "startsAt": stamp(now() - datetime.timedelta(minutes=10)),
        "endsAt": stamp(now() + datetime.timedelta(seconds=ends_in)),
        "generatorURL": "https://prometheus.catinthehack.ca/graph?g0.expr=up&g0.tab=1",
    }


def firing(alertname: str) -> dict:
    labels, annotations = kps_firing.FIRING[alertname]
    return prometheus_alert({**labels, "alertname": alertname}, annotations)


def flux_event() -> dict:
    """As notification-controller posts it (internal/notifier/alertmanager.go): status, startsAt, no endsAt."""
    return {
        "status": "firing",
        "labels": {
            "cluster": "cloudlab",  # the Alert's eventMetadata
            "revision": "main@sha1:0a1b2c3d",
            "alertname": "FluxKustomizationReconciliationFailed",
            "severity": "error",
            "reason": "ReconciliationFailed",
            "kind": "Kustomization",
            "name": "apps",
            "namespace": "flux-system",
            "reportingcontroller": "kustomize-controller",
        },
        "annotations": {"message": "kustomize build failed: accumulating resources from 'web'"},
        "startsAt": stamp(now()),
    }


def test_the_alerts_are_what_the_real_rules_fire(tmp_path):
    """promtool runs kube-prometheus-stack 88.5.3's rules on the input series: each fires exactly as posted below."""
    tests_file = tmp_path / "tests.yaml"
    tests_file.write_text(yaml.safe_dump(kps_firing.unit_tests(), sort_keys=False))
    proc = run(tool("promtool"), "test", "rules", str(tests_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def run_stack(tmp_path_factory: pytest.TempPathFactory):
    """Alertmanager with the default config (fast group timings, a heartbeat) and the stand-in."""
    work = tmp_path_factory.mktemp("alertmanager")
    config = config_with(alerting={"groupWait": "1s", "groupInterval": "2s", "heartbeat": {}})
    cfg, errors = config_model.load(config)
    assert cfg is not None, errors
    chart_values = yaml.safe_load(KPS_VALUES.read_text())
    with harness.running(cfg, chart_values, work, tool("openssl"), tool("alertmanager"), EXTERNAL_URL) as (
        am,
        stand_in,
    ):
        am.post(
            [
                *(firing(name) for name in kps_firing.FIRING),
                prometheus_alert({"alertname": "Watchdog", "severity": "none"}),
                prometheus_alert({"alertname": "InfoInhibitor", "severity": "none", "namespace": "apps"}),
                prometheus_alert({"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": "apps"}),
            ]
        )
        am.post([flux_event()])
        got = stand_in.captured
        assert harness.wait_for(lambda: len(got.pushes) >= len(kps_firing.FIRING) + 1 and got.webhooks), (
            got.pushes,
            got.webhooks,
            (work / "alertmanager.log").read_text()[-4000:],
        )
        yield cfg, am, stand_in, work


def phone(push: dict) -> dict:
    """What the phone shows, and who gets it."""
    keys = ("token", "user", "priority", "title", "message", "url", "url_title")
    return {k: push.get(k) for k in keys}


def push_titled(stand_in: harness.StandIn, prefix: str) -> list[dict]:
    return [p for p in stand_in.captured.pushes if p.get("title", "").startswith(prefix)]


def test_each_push_goes_to_the_user_with_the_token_read_from_the_files(run_stack):
    _, _, stand_in, _ = run_stack
    assert stand_in.captured.pushes
    for push in stand_in.captured.pushes:
        assert push["_path"] == "/1/messages.json"
        assert (push["token"], push["user"]) == (API_TOKEN, USER_KEY)
    assert set(stand_in.captured.hosts) == {"api.pushover.net:443"}


@pytest.mark.parametrize("alertname", sorted(OBJECT_LINES))
def test_a_real_alert_push_names_the_object(run_stack, alertname: str):
    """The description (not the static summary), without the empty cluster, then the object's own labels."""
    _, _, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, f"[cloudlab] {alertname}")
    description = kps_firing.FIRING[alertname][1]["description"].replace(" on cluster .", ".")
    assert push["message"] == f"{description}\n{OBJECT_LINES[alertname]}"
    assert push["url_title"] == f"Silence {alertname}"


@pytest.mark.parametrize("alertname", sorted(OBJECT_LINES))
def test_every_silence_link_fits_and_opens_a_filter_alertmanager_matches_to_the_alert(run_stack, alertname: str):
    _, am, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, f"[cloudlab] {alertname}")
    assert len(push["url"]) <= alerting.PUSHOVER_URL_MAX
    matchers = harness.silence_matchers(push["url"], EXTERNAL_URL)
    assert matchers and matchers["alertname"] == alertname
    # Alertmanager parses each matcher of the filter, and they select exactly this alert.
    found = harness.get_alerts(am, *(f'{name}="{value}"' for name, value in matchers.items()))
    assert [a["labels"]["alertname"] for a in found] == [alertname]


def test_the_silence_link_of_a_flux_event_names_the_object(run_stack):
    _, am, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, "[cloudlab] Kustomization")
    matchers = harness.silence_matchers(push["url"], EXTERNAL_URL)
    assert matchers == {
        "alertname": "FluxKustomizationReconciliationFailed",
        "namespace": "flux-system",
        "name": "apps",
        "kind": "Kustomization",
    }
    assert len(harness.get_alerts(am, *(f'{k}="{v}"' for k, v in matchers.items()))) == 1


def test_critical_push(run_stack):
    _, _, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, "[cloudlab] KubePersistentVolumeFillingUp")
    assert phone(push)["priority"] == "1"
    # Priority 1 carries no retry/expire of ours: Alertmanager sends its own defaults (1m, 1h), which
    # Pushover applies to emergency priority (2) only.
    assert (push["retry"], push["expire"]) == ("60", "3600")


def test_flux_push_shows_the_object_revision_and_message(run_stack):
    _, _, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, "[cloudlab] Kustomization")
    assert push["title"] == "[cloudlab] Kustomization flux-system/apps"
    assert push["priority"] == "0"
    assert push["message"] == (
        "Kustomization flux-system/apps at main@sha1:0a1b2c3d\n"
        "ReconciliationFailed: kustomize build failed: accumulating resources from 'web'"
    )


def test_no_push_for_watchdog_infoinhibitor_or_info(run_stack):
    _, _, stand_in, _ = run_stack
    titles = [p["title"] for p in stand_in.captured.pushes]
    assert not [t for t in titles if "Watchdog" in t or "InfoInhibitor" in t or "CPUThrottlingHigh" in t], titles


def test_watchdog_pings_the_heartbeat_url_read_from_the_secret(run_stack):
    _, _, stand_in, _ = run_stack
    assert "/ping/5c1d" in stand_in.captured.webhooks


def test_resolved_push_rings_quieter(run_stack):
    cfg, am, stand_in, work = run_stack
    assert isinstance(cfg, Config)
    resolved = firing("KubeDeploymentReplicasMismatch")
    resolved["endsAt"] = stamp(now() - datetime.timedelta(seconds=1))
    am.post([resolved])
    title = "[cloudlab] KubeDeploymentReplicasMismatch (resolved)"
    assert harness.wait_for(lambda: push_titled(stand_in, title)), (work / "alertmanager.log").read_text()[-3000:]
    (push,) = push_titled(stand_in, title)
    assert push["priority"] == "-1"
    assert push["message"].startswith("resolved: Deployment apps/api has not matched")
    assert push["message"].endswith("\n namespace=apps deployment=api")


def test_the_proxy_is_test_only(run_stack):
    cfg, _, _, _ = run_stack
    from krm_fn.components import alerting

    text = json.dumps(alerting.alertmanager_config(cfg))
    assert "proxy_url" not in text and "http_config" not in text and "127.0.0.1" not in text


# --- the example in docs/operations/pushover.md, as the real Alertmanager sent it ------------------

PAGE = REPO / "docs" / "operations" / "pushover.md"
START, END = "<!-- push-example:start -->", "<!-- push-example:end -->"
# scripts/push_example.sh sets this to rewrite the block instead of comparing it.
WRITE = os.environ.get("WRITE_PUSH_EXAMPLE") == "1"


def example_markdown(pushes: list[dict]) -> str:
    """The pushes as a phone would show them, in a fixed order (tokens and user keys left out)."""
    lines = [START, "<!-- written by scripts/push_example.sh from tests/test_alertmanager_pushes.py -->"]
    for push in sorted(pushes, key=lambda p: p["title"]):
        lines += [
            "```text",
            f"{push['title']}    (priority {push['priority']})",
            push["message"],
            f"[{push['url_title']}] {push['url']}",
            "```",
        ]
    return "\n".join([*lines, END])


SHOWN_EXAMPLE = (
    "KubeDeploymentReplicasMismatch",
    "KubePodCrashLooping",
    "NodeFilesystemAlmostOutOfSpace",
    "Kustomization",
)


def test_the_docs_show_what_the_real_alertmanager_sent(run_stack):
    _, _, stand_in, _ = run_stack
    shown = [push for name in SHOWN_EXAMPLE for push in push_titled(stand_in, f"[cloudlab] {name}")]
    shown = [p for p in shown if "(resolved)" not in p["title"]]
    block = example_markdown(shown)
    text = PAGE.read_text()
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    assert rest, f"{PAGE.name} has no {START} block"
    if WRITE:
        PAGE.write_text(before + block + after)
        return
    assert block in text, "the push example of docs/operations/pushover.md is stale: run scripts/push_example.sh"
