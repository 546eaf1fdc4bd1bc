"""The generated Alertmanager config and Prometheus rules, run through the real amtool and promtool.

amtool is Debian trixie's 0.28.1 (0.25 rejects user_key_file/token_file,
docs/reference/consumers.md#6-promtool-and-amtool);
promtool comes from the same suite. Both are installed into .tools/bin by scripts/install-tools.sh.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krm_fn.components import alerting
from krm_fn.components.common import deep_merge
from tests import alertmanager_harness as harness
from tests.helpers import UPSTREAM, config_with, default_config, load, promtool_test, rule_groups
from tests.helpers import run_tool as run
from tests.tools import tool

pytestmark = pytest.mark.e2e

KPS_VALUES = UPSTREAM / "charts" / "kube-prometheus-stack-82.18.0" / "values.yaml"
HEARTBEAT = {"repeatInterval": "1m"}

CONFIGS = {
    "default": default_config(),
    "pushover-off": config_with(alerting={"pushover": {"enabled": False}}),
    "heartbeat": config_with(alerting={"heartbeat": HEARTBEAT}),
    "pushover-off-heartbeat": config_with(alerting={"pushover": {"enabled": False}, "heartbeat": HEARTBEAT}),
    "flux-info-emergency": config_with(
        flux={"eventSeverity": "info"},
        alerting={"pushover": {"critical": {"priority": 2, "retry": "60s", "expire": "2h", "sound": "siren"}}},
    ),
}


def effective_config(config: dict) -> dict:
    """What Alertmanager gets: the chart's default `alertmanager.config` coalesced with ours, as Helm does."""
    chart_default = yaml.safe_load(KPS_VALUES.read_text())["alertmanager"]["config"]
    return deep_merge(chart_default, alerting.alertmanager_config(load(config)))


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(effective_config(config), sort_keys=False))
    return path


# --- amtool check-config ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_amtool_accepts_the_config(tmp_path: Path, name: str):
    proc = run(tool("amtool"), "check-config", str(write_config(tmp_path, CONFIGS[name])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_amtool_rejects_a_broken_config(tmp_path: Path):
    """Control: a route to a receiver that does not exist fails check-config."""
    broken = effective_config(default_config())
    broken["route"]["routes"].append({"receiver": "nowhere", "matchers": ["severity = page"]})
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    proc = run(tool("amtool"), "check-config", str(path))
    assert proc.returncode != 0
    assert "nowhere" in proc.stdout + proc.stderr


# --- routing, decided by amtool's own route matching ----------------------------------------


def route(config_file: Path, *labels: str) -> str:
    proc = run(tool("amtool"), "config", "routes", "test", f"--config.file={config_file}", *labels)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


FLUX_EVENT = ("alertname=FluxKustomizationReconciliationFailed", "reportingcontroller=kustomize-controller")
ROUTING = {
    # config name -> [(labels, receiver)]
    "default": [
        (("alertname=Watchdog", "severity=none"), "null"),
        (("alertname=InfoInhibitor", "severity=none"), "null"),
        (("alertname=CPUThrottlingHigh", "severity=info"), "null"),
        (("alertname=Anything", "severity=none"), "null"),
        ((*FLUX_EVENT, "severity=error"), "pushover-flux"),
        ((*FLUX_EVENT, "severity=info"), "null"),
        (("alertname=KubePodCrashLooping", "severity=critical"), "pushover-critical"),
        (("alertname=FluxResourceNotReady", "severity=warning"), "pushover-warning"),
        (("alertname=ThirdParty", "severity=error"), "pushover-warning"),  # not a Flux event
        (("alertname=NoSeverity",), "pushover-warning"),
    ],
    "heartbeat": [
        (("alertname=Watchdog", "severity=none"), "heartbeat"),
        (("alertname=InfoInhibitor", "severity=none"), "null"),
        (("alertname=KubePodCrashLooping", "severity=critical"), "pushover-critical"),
    ],
    "pushover-off": [
        (("alertname=Watchdog", "severity=none"), "null"),
        ((*FLUX_EVENT, "severity=error"), "null"),
        (("alertname=KubePodCrashLooping", "severity=critical"), "null"),
    ],
    "pushover-off-heartbeat": [
        (("alertname=Watchdog", "severity=none"), "heartbeat"),
        (("alertname=KubePodCrashLooping", "severity=critical"), "null"),
    ],
    "flux-info-emergency": [
        ((*FLUX_EVENT, "severity=info"), "pushover-flux"),
        ((*FLUX_EVENT, "severity=error"), "pushover-flux"),
        (("alertname=CPUThrottlingHigh", "severity=info"), "null"),
    ],
}


@pytest.mark.parametrize("name", sorted(ROUTING))
def test_alerts_reach_the_right_receiver(tmp_path: Path, name: str):
    config_file = write_config(tmp_path, CONFIGS[name])
    got = [(labels, route(config_file, *labels)) for labels, _ in ROUTING[name]]
    assert got == ROUTING[name]


# --- templates, rendered by amtool ----------------------------------------------------------


def template_data(alerts: list[dict], common_labels: dict, common_annotations: dict) -> dict:
    """Alertmanager's template.Data for one notification."""
    return {
        "receiver": "pushover-warning",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": a["labels"],
                "annotations": a["annotations"],
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "0",
            }
            for a in alerts
        ],
        "groupLabels": {"alertname": common_labels["alertname"]},
        "commonLabels": common_labels,
        "commonAnnotations": common_annotations,
        "externalURL": "http://alertmanager",
    }


PROMETHEUS_ALERT = template_data(
    [
        {
            "labels": {"alertname": "KubePodCrashLooping", "cluster": "cloudlab", "severity": "warning"},
            "annotations": {"summary": "Pod apps/web is crash looping.", "description": "long text"},
        }
    ],
    {"alertname": "KubePodCrashLooping", "cluster": "cloudlab", "severity": "warning"},
    {"summary": "Pod apps/web is crash looping."},
)
FLUX_ALERT = template_data(
    [
        {
            "labels": {"alertname": "FluxKustomizationReconciliationFailed", "cluster": "cloudlab"},
            "annotations": {"message": "kustomize build failed: accumulating resources"},
        }
    ],
    {"alertname": "FluxKustomizationReconciliationFailed", "cluster": "cloudlab", "severity": "error"},
    {"message": "kustomize build failed: accumulating resources"},
)


def render(tmp_path: Path, text: str, data: dict) -> str:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    proc = run(
        tool("amtool"),
        "template",
        "render",
        "--template.glob=/dev/null",
        f"--template.text={text}",
        f"--template.data={data_file}",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def pushover_entry() -> dict:
    conf = alerting.alertmanager_config(load(default_config()))
    return conf["receivers"][1]["pushover_configs"][0]


def test_title_renders_cluster_and_alertname(tmp_path: Path):
    assert render(tmp_path, pushover_entry()["title"], PROMETHEUS_ALERT) == "[cloudlab] KubePodCrashLooping"
    resolved = dict(PROMETHEUS_ALERT, status="resolved")
    assert render(tmp_path, pushover_entry()["title"], resolved) == "[cloudlab] KubePodCrashLooping (resolved)"


def test_message_renders_the_description_of_a_prometheus_alert_first(tmp_path: Path):
    """kube-prometheus-stack's summaries are static ("Pod is crash looping."); its descriptions name the object."""
    assert render(tmp_path, pushover_entry()["message"], PROMETHEUS_ALERT) == "long text\n"
    no_description = json.loads(json.dumps(PROMETHEUS_ALERT))
    del no_description["alerts"][0]["annotations"]["description"]
    assert render(tmp_path, pushover_entry()["message"], no_description) == "Pod apps/web is crash looping.\n"


def test_the_empty_cluster_of_kube_prometheus_stack_descriptions_is_dropped(tmp_path: Path):
    """Prometheus renders "on cluster {{ $labels.cluster }}" before it adds the external label: "on cluster ."."""
    data = json.loads(json.dumps(PROMETHEUS_ALERT))
    data["alerts"][0]["annotations"]["description"] = "n1 has been unready for more than 15 minutes on cluster ."
    assert render(tmp_path, pushover_entry()["message"], data) == "n1 has been unready for more than 15 minutes.\n"
    data["alerts"][0]["annotations"]["description"] = "Deployment apps/web is down on cluster home."
    assert render(tmp_path, pushover_entry()["message"], data) == "Deployment apps/web is down on cluster home.\n"


def test_message_falls_back_to_the_flux_message(tmp_path: Path):
    out = render(tmp_path, pushover_entry()["message"], FLUX_ALERT)
    assert out == "kustomize build failed: accumulating resources\n"
    assert "{{" not in out


def pushover_of(receiver: str, config: dict | None = None) -> dict:
    conf = alerting.alertmanager_config(load(config or default_config()))
    (found,) = [r for r in conf["receivers"] if r["name"] == receiver]
    return found["pushover_configs"][0]


POD_ALERT = template_data(
    [
        {
            "labels": {
                "alertname": "KubePodCrashLooping",
                "cluster": "cloudlab",
                "severity": "warning",
                "namespace": "apps",
                "pod": "web-0",
                "container": "web",
            },
            "annotations": {"summary": "Pod apps/web-0 is crash looping."},
        }
    ],
    {"alertname": "KubePodCrashLooping", "cluster": "cloudlab", "severity": "warning", "namespace": "apps"},
    {},
)


def test_message_shows_the_key_labels_of_each_alert(tmp_path: Path):
    out = render(tmp_path, pushover_of("pushover-warning")["message"], POD_ALERT)
    assert out == "Pod apps/web-0 is crash looping.\n namespace=apps pod=web-0 container=web\n"
    resolved = dict(POD_ALERT, status="resolved", alerts=[dict(POD_ALERT["alerts"][0], status="resolved")])
    assert render(tmp_path, pushover_of("pushover-warning")["message"], resolved).startswith("resolved: Pod apps/web-0")


def test_resolved_pushes_ring_quieter(tmp_path: Path):
    priority = pushover_of("pushover-critical")["priority"]
    assert render(tmp_path, priority, POD_ALERT) == "1"
    assert render(tmp_path, priority, dict(POD_ALERT, status="resolved")) == "-1"


def test_silence_link_is_prefilled_with_the_group_labels(tmp_path: Path):
    entry = pushover_of("pushover-warning")
    url = render(tmp_path, entry["url"], POD_ALERT)
    # alertname and the object labels the group shares; not cluster, severity or revision
    assert (
        url
        == "http://alertmanager/#/silences/new?filter=%7Balertname%3D%22KubePodCrashLooping%22%2C%20namespace%3D%22apps%22%7D"
    )
    assert render(tmp_path, entry["url_title"], POD_ALERT) == "Silence KubePodCrashLooping"


def test_source_link_opens_prometheus_or_falls_back_to_alertmanager(tmp_path: Path):
    entry = pushover_of("pushover-warning", config_with(alerting={"pushover": {"link": "source"}}))
    with_source = dict(POD_ALERT, alerts=[dict(POD_ALERT["alerts"][0], generatorURL="https://prom.example/graph?g0")])
    assert render(tmp_path, entry["url"], with_source) == "https://prom.example/graph?g0"
    assert render(tmp_path, entry["url_title"], with_source) == "Open in Prometheus"
    assert render(tmp_path, entry["url"], POD_ALERT) == "http://alertmanager/#/alerts?receiver=pushover-warning"


def test_flux_push_shows_kind_object_revision_and_message(tmp_path: Path):
    labels = {
        "alertname": "FluxKustomizationReconciliationFailed",
        "cluster": "cloudlab",
        "severity": "error",
        "kind": "Kustomization",
        "namespace": "flux-system",
        "name": "apps",
        "reason": "ReconciliationFailed",
        "revision": "main@sha1:0a1b2c",
    }
    data = template_data([{"labels": labels, "annotations": {"message": "kustomize build failed"}}], labels, {})
    entry = pushover_of("pushover-flux")
    assert render(tmp_path, entry["title"], data) == "[cloudlab] Kustomization flux-system/apps"
    assert render(tmp_path, entry["message"], data) == (
        "Kustomization flux-system/apps at main@sha1:0a1b2c\nReconciliationFailed: kustomize build failed\n"
    )


def test_the_seed_helm_escaped_title_would_arrive_literally(tmp_path: Path):
    """Control: the seed's escaped template renders to literal braces, which our output never has."""
    seed_title = '{{ "{{" }} .CommonLabels.alertname {{ "}}" }}'
    assert render(tmp_path, seed_title, PROMETHEUS_ALERT) == "{{ .CommonLabels.alertname }}"


# --- Prometheus rules -----------------------------------------------------------------------


CERT_MANAGER = config_with(alerting={"certManager": True})


@pytest.mark.parametrize(("key", "count"), [("flux-rules", 2), ("cert-manager-rules", 1)])
def test_promtool_accepts_every_rule_group(tmp_path: Path, key: str, count: int):
    path = tmp_path / f"{key}.yaml"
    path.write_text(yaml.safe_dump(rule_groups(CERT_MANAGER)[key], sort_keys=False))
    proc = run(tool("promtool"), "check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {count} rules found" in proc.stdout


def test_promtool_rejects_the_seed_rule_placement(tmp_path: Path):
    """Control: a PrometheusRule-shaped file (not a rule file) fails, so the check above means something."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [{"alert": "A", "expr": "up ==="}]}]}))
    proc = run(tool("promtool"), "check", "rules", str(path))
    assert proc.returncode != 0


FLUX_DESCRIPTION = (
    "{kind} {ns}/{name} has reported Ready=False for more than 10m. Run: flux get all -A --status-selector ready=false"
)


def flux_alert(kind: str, ns: str, name: str) -> dict:
    return {
        # kind/namespace/name like the object's own Flux event, which inhibits this alert (alerting.flux_inhibit_rule)
        "exp_labels": {"severity": "warning", "kind": kind, "namespace": ns, "name": name},
        "exp_annotations": {
            "summary": f"Flux {kind} {ns}/{name} is not ready",
            "description": FLUX_DESCRIPTION.format(kind=kind, ns=ns, name=name),
        },
    }


def series(kind: str, ns: str, name: str, values: str, **labels: str) -> dict:
    """One gotk_resource_info series, as kube-state-metrics exports it and Prometheus scrapes it (its own namespace)."""
    all_labels = {"customresource_kind": kind, "exported_namespace": ns, "name": name, "namespace": "monitoring"}
    all_labels.update(labels)
    inner = ", ".join(f'{k}="{v}"' for k, v in all_labels.items())
    return {"series": f"gotk_resource_info{{{inner}}}", "values": values}


FLUX_TESTS = {
    "evaluation_interval": "1m",
    "tests": [
        {
            "interval": "1m",
            "input_series": [
                series("HelmRelease", "apps", "web", "1x30", ready="False", revision="1.0.0"),
                # Suspended: never alerts, although not ready.
                series("Kustomization", "apps", "paused", "1x30", ready="False", suspended="true"),
                # Explicitly not suspended: alerts like an object without the label.
                series("Kustomization", "infra", "base", "1x30", ready="False", suspended="false"),
                series("GitRepository", "flux-system", "flux-system", "1x30", ready="True"),
                # A new revision replaces the series; `max by` keeps the for: timer running.
                series("HelmRelease", "apps", "api", "1x5", ready="False", revision="1"),
                series("HelmRelease", "apps", "api", "_x5 1x25", ready="False", revision="2"),
                # Reconciling: Unknown for 30 minutes, which FluxResourceNotReady ignores.
                series("HelmRelease", "apps", "slow", "1x30", ready="Unknown"),
            ],
            "alert_rule_test": [
                {"eval_time": "9m", "alertname": "FluxResourceNotReady", "exp_alerts": []},
                {
                    "eval_time": "11m",
                    "alertname": "FluxResourceNotReady",
                    "exp_alerts": [
                        flux_alert("HelmRelease", "apps", "api"),
                        flux_alert("HelmRelease", "apps", "web"),
                        flux_alert("Kustomization", "infra", "base"),
                    ],
                },
            ],
        }
    ],
}

CERT_TESTS = {
    "evaluation_interval": "1m",
    "tests": [
        {
            "interval": "1m",
            "input_series": [
                # Expires one day after the test's epoch: inside the 7-day window from the start.
                {
                    "series": 'certmanager_certificate_expiration_timestamp_seconds{name="web-tls", namespace="apps"}',
                    "values": "86400x70",
                },
                {
                    "series": "certmanager_certificate_expiration_timestamp_seconds"
                    '{name="api-tls", exported_namespace="certs", namespace="cert-manager"}',
                    "values": "86400x70",
                },
                # Expires in about a year: never alerts.
                {
                    "series": 'certmanager_certificate_expiration_timestamp_seconds{name="ok-tls", namespace="apps"}',
                    "values": "31536000x70",
                },
            ],
            "alert_rule_test": [
                {"eval_time": "59m", "alertname": "CertManagerCertExpirySoon", "exp_alerts": []},
                {
                    "eval_time": "61m",
                    "alertname": "CertManagerCertExpirySoon",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "name": "api-tls",
                                "exported_namespace": "certs",
                                "namespace": "cert-manager",
                            },
                            "exp_annotations": {
                                "summary": "Certificate certs/api-tls expires in less than 7 days",
                                "description": "Certificate certs/api-tls expires in 22h 59m 0s.",
                            },
                        },
                        {
                            "exp_labels": {"severity": "warning", "name": "web-tls", "namespace": "apps"},
                            "exp_annotations": {
                                "summary": "Certificate apps/web-tls expires in less than 7 days",
                                "description": "Certificate apps/web-tls expires in 22h 59m 0s.",
                            },
                        },
                    ],
                },
            ],
        }
    ],
}


def test_flux_alert_fires_after_its_for_and_never_for_suspended_objects(tmp_path: Path):
    proc = promtool_test(tmp_path, "flux-rules", FLUX_TESTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_promtool_unit_test_can_fail(tmp_path: Path):
    """Control: expecting the suspended object to alert makes promtool fail."""
    wrong = json.loads(json.dumps(FLUX_TESTS))
    wrong["tests"][0]["alert_rule_test"][1]["exp_alerts"].append(flux_alert("Kustomization", "apps", "paused"))
    proc = promtool_test(tmp_path, "flux-rules", wrong)
    assert proc.returncode != 0


def test_cert_manager_alert_fires_within_a_week_of_expiry(tmp_path: Path):
    proc = promtool_test(tmp_path, "cert-manager-rules", CERT_TESTS, CERT_MANAGER)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def stuck_alert(kind: str, ns: str, name: str, after: str) -> dict:
    return {
        "exp_labels": {"severity": "warning", "kind": kind, "namespace": ns, "name": name},
        "exp_annotations": {
            "summary": f"Flux {kind} {ns}/{name} has been reconciling for more than {after}",
            "description": f"{kind} {ns}/{name} has reported Ready=Unknown (reconciliation in progress) for more "
            f"than {after}. Run: flux get all -A --status-selector ready=unknown",
        },
    }


def stuck_tests(after: str, before_minutes: int, after_minutes: int) -> dict:
    return {
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    series("HelmRelease", "apps", "stuck", "1x120", ready="Unknown"),
                    # Unknown for 15 minutes, then done: a normal reconcile never alerts.
                    series("HelmRelease", "apps", "slow", "1x15", ready="Unknown"),
                    series("HelmRelease", "apps", "slow", "_x15 1x105", ready="True"),
                    series("Kustomization", "apps", "paused", "1x120", ready="Unknown", suspended="true"),
                ],
                "alert_rule_test": [
                    {"eval_time": f"{before_minutes}m", "alertname": "FluxResourceStuck", "exp_alerts": []},
                    {
                        "eval_time": f"{after_minutes}m",
                        "alertname": "FluxResourceStuck",
                        "exp_alerts": [stuck_alert("HelmRelease", "apps", "stuck", after)],
                    },
                    # Unknown is not False: the ten-minute alert stays quiet.
                    {"eval_time": f"{after_minutes}m", "alertname": "FluxResourceNotReady", "exp_alerts": []},
                ],
            }
        ],
    }


def test_flux_alert_fires_on_ready_unknown_after_the_longer_delay(tmp_path: Path):
    proc = promtool_test(tmp_path, "flux-rules", stuck_tests("1h", 59, 61))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ready_unknown_delay_is_configurable(tmp_path: Path):
    config = config_with(flux={"unknownFor": "20m"})
    proc = promtool_test(tmp_path, "flux-rules", stuck_tests("20m", 19, 21), config)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = promtool_test(tmp_path, "flux-rules", stuck_tests("20m", 19, 21))  # control: the default 1h does not fire
    assert proc.returncode != 0


# --- the silence link: at most 512 characters, always a whole filter ------------------------------

k8s_name = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?\Z", fullmatch=True)
label_sets = st.fixed_dictionaries(
    {"alertname": st.sampled_from(["KubePodCrashLooping", "NodeFilesystemAlmostOutOfSpace", "X" * 120])},
    optional={
        "namespace": st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z", fullmatch=True),
        "pod": k8s_name,
        "container": k8s_name,
        "deployment": k8s_name,
        "persistentvolumeclaim": k8s_name,
        "node": k8s_name,
        "mountpoint": st.from_regex(r"\A/[a-z0-9/._-]{0,200}\Z", fullmatch=True),
        "instance": st.from_regex(r"\A[a-z0-9.-]{1,200}:9100\Z", fullmatch=True),
    },
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=label_sets, host=st.from_regex(r"\A[a-z]{1,63}(\.[a-z]{1,63}){0,3}\Z", fullmatch=True))
def test_every_silence_link_fits_pushover_and_is_a_whole_filter(tmp_path: Path, labels: dict, host: str):
    """Long names and hostnames: the link drops labels (last first) rather than being cut by Alertmanager."""
    external_url = f"https://{host}"
    data = template_data([{"labels": {**labels, "severity": "warning"}, "annotations": {}}], labels, {})
    data["externalURL"] = external_url
    url = render(tmp_path, pushover_of("pushover-warning")["url"], data)
    assert len(url) <= alerting.PUSHOVER_URL_MAX
    matchers = harness.silence_matchers(url, external_url)
    assert matchers is not None and matchers["alertname"] == labels["alertname"]
    assert all(labels[name] == value for name, value in matchers.items())  # it silences this alert
