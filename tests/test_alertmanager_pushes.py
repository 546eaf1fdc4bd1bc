"""The alert path with the real Alertmanager: what reaches the phone, and what does not.

Alertmanager 0.28.1 (Debian trixie, installed by scripts/install-tools.sh) runs the generated
config; alerts are posted the way Prometheus and Flux's notification-controller post them; a
local TLS stand-in for api.pushover.net (tests/alertmanager_harness.py) captures the pushes.
"""

from __future__ import annotations

import datetime
import json
import os
import threading

import pytest
import yaml

from krm_fn import config as config_model
from krm_fn.config import Config
from tests import alertmanager_harness as harness
from tests.helpers import REPO, UPSTREAM, config_with
from tests.tools import tool

pytestmark = pytest.mark.e2e

KPS_VALUES = UPSTREAM / "charts" / "kube-prometheus-stack-82.18.0" / "values.yaml"
EXTERNAL_URL = "https://alertmanager.catinthehack.ca"
SECRET = "monitoring-secrets"
# No trailing newline: Alertmanager sends the files byte for byte (see the README).
USER_KEY = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
API_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def prometheus_alert(labels: dict, summary: str | None = None, ends_in: int = 300) -> dict:
    """As Prometheus posts to /api/v2/alerts: endsAt a few evaluation intervals ahead, a generatorURL."""
    alert = {
        "labels": {"cluster": "cloudlab", **labels},
        "annotations": {"summary": summary} if summary else {},
        "startsAt": stamp(now() - datetime.timedelta(minutes=10)),
        "endsAt": stamp(now() + datetime.timedelta(seconds=ends_in)),
        "generatorURL": "https://prometheus.catinthehack.ca/graph?g0.expr=up&g0.tab=1",
    }
    return alert


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


CRASH = {"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "apps", "pod": "web-0"}
NODE = {"alertname": "KubeNodeNotReady", "severity": "critical", "node": "n1"}


@pytest.fixture(scope="module")
def run_stack(tmp_path_factory: pytest.TempPathFactory):
    """Alertmanager with the default config (fast group timings, a heartbeat) and the stand-in."""
    work = tmp_path_factory.mktemp("alertmanager")
    ca, cert, key = harness.make_ca(work, tool("openssl"))
    stand_in = harness.StandIn(cert, key)
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    secrets = work / "secrets"
    (secrets / SECRET).mkdir(parents=True)
    (secrets / SECRET / "pushover-user-key").write_bytes(USER_KEY.encode())
    (secrets / SECRET / "pushover-api-token").write_bytes(API_TOKEN.encode())
    (secrets / SECRET / "heartbeat-url").write_bytes(f"{stand_in.url}/ping/5c1d".encode())
    config = config_with(alerting={"groupWait": "1s", "groupInterval": "2s", "heartbeat": {}})
    cfg, errors = config_model.load(config)
    assert cfg is not None, errors
    chart_values = yaml.safe_load(KPS_VALUES.read_text())
    runnable = harness.effective_config(cfg, chart_values, secrets, stand_in.url)
    config_file = work / "alertmanager.yaml"
    config_file.write_text(yaml.safe_dump(runnable, sort_keys=False))
    am = harness.start_alertmanager(tool("alertmanager"), config_file, work, ca, EXTERNAL_URL)
    try:
        am.post(
            [
                prometheus_alert(CRASH, "Pod apps/web-0 is crash looping."),
                prometheus_alert(NODE, "Node n1 is not ready."),
                prometheus_alert({"alertname": "Watchdog", "severity": "none"}),
                prometheus_alert({"alertname": "InfoInhibitor", "severity": "none", "namespace": "apps"}),
                prometheus_alert({"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": "apps"}, "x"),
            ]
        )
        am.post([flux_event()])
        got = stand_in.captured
        assert harness.wait_for(lambda: len(got.pushes) >= 3 and got.webhooks), (
            got.pushes,
            got.webhooks,
            (work / "alertmanager.log").read_text()[-4000:],
        )
        yield cfg, am, stand_in, work
    finally:
        am.process.terminate()
        try:
            am.process.wait(timeout=10)
        except Exception:
            am.process.kill()
        stand_in.shutdown()
        stand_in.server_close()


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


def test_critical_push(run_stack):
    _, _, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, "[cloudlab] KubeNodeNotReady")
    assert phone(push)["priority"] == "1"
    # Priority 1 carries no retry/expire of ours: Alertmanager sends its own defaults (1m, 1h), which
    # Pushover applies to emergency priority (2) only.
    assert (push["retry"], push["expire"]) == ("60", "3600")
    assert push["message"] == "Node n1 is not ready.\n node=n1"
    assert push["url"].startswith(f"{EXTERNAL_URL}/#/silences/new?filter=%7B")
    assert "node%3D%22n1%22" in push["url"]


def test_warning_push_shows_the_pod_and_a_silence_link(run_stack):
    _, _, stand_in, _ = run_stack
    (push,) = push_titled(stand_in, "[cloudlab] KubePodCrashLooping")
    assert phone(push) == {
        "token": API_TOKEN,
        "user": USER_KEY,
        "priority": "0",
        "title": "[cloudlab] KubePodCrashLooping",
        "message": "Pod apps/web-0 is crash looping.\n namespace=apps pod=web-0",
        "url": f"{EXTERNAL_URL}/#/silences/new?filter=%7Bcluster%3D%22cloudlab%22%2C%20namespace%3D%22apps%22%2C%20"
        "pod%3D%22web-0%22%2C%20severity%3D%22warning%22%2C%20alertname%3D%22KubePodCrashLooping%22%7D",
        "url_title": "Silence KubePodCrashLooping",
    }


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
    resolved = prometheus_alert(CRASH, "Pod apps/web-0 is crash looping.")
    resolved["endsAt"] = stamp(now() - datetime.timedelta(seconds=1))
    am.post([resolved])
    title = "[cloudlab] KubePodCrashLooping (resolved)"
    assert harness.wait_for(lambda: push_titled(stand_in, title)), (work / "alertmanager.log").read_text()[-3000:]
    (push,) = push_titled(stand_in, title)
    assert push["priority"] == "-1"
    assert push["message"] == "resolved: Pod apps/web-0 is crash looping.\n namespace=apps pod=web-0"


def test_the_proxy_is_test_only(run_stack):
    cfg, _, _, _ = run_stack
    from krm_fn.components import alerting

    text = json.dumps(alerting.alertmanager_config(cfg))
    assert "proxy_url" not in text and "http_config" not in text and "127.0.0.1" not in text


# --- the README's example, as the real Alertmanager sent it -----------------------------------

README = REPO / "README.md"
START, END = "<!-- push-example:start -->", "<!-- push-example:end -->"
# scripts/push_example.sh sets this to rewrite the README block instead of comparing it.
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


def test_readme_shows_what_the_real_alertmanager_sent(run_stack):
    _, _, stand_in, _ = run_stack
    shown = [
        *push_titled(stand_in, "[cloudlab] KubeNodeNotReady"),
        *push_titled(stand_in, "[cloudlab] KubePodCrashLooping"),
        *push_titled(stand_in, "[cloudlab] Kustomization"),
    ]
    shown = [p for p in shown if "(resolved)" not in p["title"]]
    block = example_markdown(shown)
    text = README.read_text()
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    assert rest, f"README.md has no {START} block"
    if WRITE:
        README.write_text(before + block + after)
        return
    assert block in text, "the README's push example is stale: run scripts/push_example.sh"
