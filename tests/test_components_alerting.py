"""The Alertmanager configuration: inhibit rules, routing order, receivers, templates.

Facts: docs/reference/charts.md#5-alertmanager-config.
"""

from __future__ import annotations

import yaml

from krm_fn import config as config_model
from krm_fn.components import alerting, privilege
from tests.helpers import UPSTREAM, config_with, default_config, load

KPS_VALUES = UPSTREAM / "charts" / "kube-prometheus-stack-82.18.0" / "values.yaml"
HEARTBEAT = {"heartbeat": {"repeatInterval": "2m"}}


def am(config: dict | None = None) -> dict:
    return alerting.alertmanager_config(load(config or default_config()))


def route_table(conf: dict) -> list[tuple[str, tuple[str, ...]]]:
    return [(r["receiver"], tuple(r["matchers"])) for r in conf["route"]["routes"]]


def receiver(conf: dict, name: str) -> dict:
    (found,) = [r for r in conf["receivers"] if r["name"] == name]
    return found


def test_inhibit_rules_are_the_chart_defaults_written_out_then_the_flux_one():
    chart_default = yaml.safe_load(KPS_VALUES.read_text())["alertmanager"]["config"]["inhibit_rules"]
    *chart, flux = am()["inhibit_rules"]
    assert chart == chart_default
    # a Flux object's own error event holds back the metric alerts about the same object
    assert flux == {
        "source_matchers": ["severity = error", 'reportingcontroller =~ ".+"'],
        "target_matchers": ['alertname =~ "FluxResourceNotReady|FluxResourceStuck"'],
        "equal": ["kind", "namespace", "name"],
    }


def test_global_and_grouping_from_the_config():
    config = config_with(
        alerting={
            "groupBy": ["alertname", "cluster"],
            "groupWait": "10s",
            "groupInterval": "2m",
            "repeatInterval": "4h",
            "resolveTimeout": "1h",
        }
    )
    conf = am(config)
    assert conf["global"] == {"resolve_timeout": "1h"}
    route = conf["route"]
    assert route["group_by"] == ["alertname", "cluster"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("10s", "2m", "4h")


def test_seed_defaults():
    route = am()["route"]
    assert route["group_by"] == ["alertname", "namespace"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "12h")
    # Flux events carry no endsAt: resolve_timeout outlasts the time between two events of a failing object
    assert am()["global"] == {"resolve_timeout": "2h"}


def test_routes_in_order_and_default_receiver():
    conf = am()
    assert conf["route"]["receiver"] == "pushover-warning"
    assert route_table(conf) == [
        ("null", ('alertname = "Watchdog"',)),
        ("null", ('alertname = "InfoInhibitor"',)),
        ("null", ('severity =~ "info|none"',)),
        ("pushover-flux", ("severity = error", 'reportingcontroller =~ ".+"')),
        ("pushover-critical", ("severity = critical",)),
        ("pushover-warning", ("severity = warning",)),
    ]


def test_flux_info_events_are_delivered_when_asked_for():
    conf = am(config_with(flux={"eventSeverity": "info"}))
    table = route_table(conf)
    flux_info = ("pushover-flux", ("severity = info", 'reportingcontroller =~ ".+"'))
    assert flux_info in table
    assert table.index(flux_info) < table.index(("null", ('severity =~ "info|none"',)))


def test_heartbeat_turns_watchdog_into_a_dead_mans_switch():
    conf = am(config_with(alerting=HEARTBEAT))
    watchdog = conf["route"]["routes"][0]
    assert watchdog == {
        "receiver": "heartbeat",
        "matchers": ['alertname = "Watchdog"'],
        "group_wait": "0s",
        "group_interval": "2m",
        "repeat_interval": "2m",
    }
    assert receiver(conf, "heartbeat") == {
        "name": "heartbeat",
        "webhook_configs": [
            {"url_file": "/etc/alertmanager/secrets/monitoring-secrets/heartbeat-url", "send_resolved": False}
        ],
    }


def test_heartbeat_token_key_sends_a_bearer_token_read_from_the_secret():
    """A Gatus external endpoint takes a push only with its token (Authorization: Bearer)."""
    conf = am(config_with(alerting={"heartbeat": {"tokenKey": "gatus-token"}}))
    (webhook,) = receiver(conf, "heartbeat")["webhook_configs"]
    assert webhook["http_config"] == {
        "authorization": {
            "type": "Bearer",
            "credentials_file": "/etc/alertmanager/secrets/monitoring-secrets/gatus-token",
        }
    }
    # the token's key is mounted with the others (a nested *_file)
    cfg = load(config_with(alerting={"heartbeat": {"tokenKey": "gatus-token"}}))
    expected = ["gatus-token", "heartbeat-url", "pushover-api-token", "pushover-user-key"]
    assert privilege.alertmanager_keys(cfg) == expected


def test_heartbeat_url_key_names_the_secret_key_and_mounts_the_secret_without_pushover():
    cfg = load(config_with(alerting={"pushover": {"enabled": False}, "heartbeat": {"urlKey": "hc"}}))
    (webhook,) = receiver(alerting.alertmanager_config(cfg), "heartbeat")["webhook_configs"]
    assert webhook["url_file"] == "/etc/alertmanager/secrets/monitoring-secrets/hc"
    assert privilege.alertmanager_keys(cfg) == ["hc"]
    assert privilege.alertmanager_keys(load(config_with(alerting={"pushover": {"enabled": False}}))) == []


def test_a_heartbeat_url_in_the_config_is_an_error_that_says_how_to_move_it():
    cfg, errors = config_model.load(config_with(alerting={"heartbeat": {"url": "https://hc-ping.com/0f0e"}}))
    assert cfg is None
    (error,) = errors
    assert error.field == "spec.alerting.heartbeat.url"
    assert "heartbeat-url" in error.message and "sops edit" in error.message
    assert "hc-ping.com" not in error.message  # the secret is not echoed back


def test_without_heartbeat_watchdog_goes_to_null_and_no_webhook():
    conf = am()
    assert conf["route"]["routes"][0]["receiver"] == "null"
    assert all("webhook_configs" not in r for r in conf["receivers"])


def test_pushover_receivers_read_credential_files_from_the_mounted_secret():
    conf = am(config_with(secret={"name": "creds"}))
    for name in ("pushover-critical", "pushover-warning", "pushover-flux"):
        (entry,) = receiver(conf, name)["pushover_configs"]
        assert entry["user_key_file"] == "/etc/alertmanager/secrets/creds/pushover-user-key"
        assert entry["token_file"] == "/etc/alertmanager/secrets/creds/pushover-api-token"
        assert "user_key" not in entry and "token" not in entry


def test_pushover_levels_from_the_config():
    config = config_with(
        alerting={
            "pushover": {
                "critical": {"priority": 2, "retry": "60s", "expire": "1h", "sound": "siren"},
                "warning": {"priority": -1},
                "flux": {"priority": 1, "sound": "bike"},
            }
        }
    )
    conf = am(config)
    critical = receiver(conf, "pushover-critical")["pushover_configs"][0]
    assert (critical["priority"], critical["retry"], critical["expire"], critical["sound"]) == (
        '{{ if eq .Status "firing" }}2{{ else }}-1{{ end }}',
        "60s",
        "1h",
        "siren",
    )
    warning = receiver(conf, "pushover-warning")["pushover_configs"][0]
    assert warning["priority"] == '{{ if eq .Status "firing" }}-1{{ else }}-1{{ end }}'
    assert not {"retry", "expire", "sound", "ttl"} & set(warning)
    flux = receiver(conf, "pushover-flux")["pushover_configs"][0]
    assert (flux["priority"], flux["sound"]) == ("1", "bike")


def test_default_priorities_mean_what_pushover_means():
    """Critical is priority 1 (high, bypasses quiet hours) without retry/expire: Pushover applies those to 2 only."""
    conf = am()
    critical = receiver(conf, "pushover-critical")["pushover_configs"][0]
    firing_then_resolved = '{{ if eq .Status "firing" }}%s{{ else }}-1{{ end }}'
    assert critical["priority"] == firing_then_resolved % 1
    assert "retry" not in critical and "expire" not in critical
    assert receiver(conf, "pushover-warning")["pushover_configs"][0]["priority"] == firing_then_resolved % 0


def test_emergency_priority_carries_retry_and_expire():
    conf = am(config_with(alerting={"pushover": {"critical": {"priority": 2, "retry": "60s", "expire": "2h"}}}))
    critical = receiver(conf, "pushover-critical")["pushover_configs"][0]
    firing_then_resolved = '{{ if eq .Status "firing" }}2{{ else }}-1{{ end }}'
    assert (critical["priority"], critical["retry"], critical["expire"]) == (firing_then_resolved, "60s", "2h")


def test_flux_receiver_sends_no_resolved_notifications():
    """Flux alerts have no endsAt and resolve after resolve_timeout: a 'resolved' push would be noise."""
    conf = am()
    assert receiver(conf, "pushover-flux")["pushover_configs"][0]["send_resolved"] is False
    assert receiver(conf, "pushover-critical")["pushover_configs"][0]["send_resolved"] is True
    assert receiver(conf, "pushover-warning")["pushover_configs"][0]["send_resolved"] is True


def test_message_falls_back_to_the_flux_message_and_title_names_the_cluster():
    entry = receiver(am(), "pushover-warning")["pushover_configs"][0]
    first = "(or .Annotations.description .Annotations.summary .Annotations.message .Labels.alertname)"
    assert first in entry["message"]
    assert "{{ .CommonLabels.cluster }}" in entry["title"]
    assert "{{ .CommonLabels.alertname }}" in entry["title"]


def test_pushover_disabled_sends_everything_to_null():
    conf = am(config_with(alerting={"pushover": {"enabled": False}}))
    assert conf["route"]["receiver"] == "null"
    assert [r["name"] for r in conf["receivers"]] == ["null"]
    assert {r["receiver"] for r in conf["route"]["routes"]} == {"null"}
    assert privilege.alertmanager_keys(load(config_with(alerting={"pushover": {"enabled": False}}))) == []


def test_pushover_disabled_keeps_the_heartbeat():
    conf = am(config_with(alerting={"pushover": {"enabled": False}, **HEARTBEAT}))
    assert [r["name"] for r in conf["receivers"]] == ["null", "heartbeat"]
    assert conf["route"]["routes"][0]["receiver"] == "heartbeat"


def test_every_routed_receiver_exists():
    for config in (
        default_config(),
        config_with(alerting=HEARTBEAT),
        config_with(alerting={"pushover": {"enabled": False}}),
        config_with(flux={"eventSeverity": "info"}),
    ):
        conf = am(config)
        names = {r["name"] for r in conf["receivers"]}
        assert {conf["route"]["receiver"]} | {r["receiver"] for r in conf["route"]["routes"]} <= names


def test_links_ttl_and_labels_follow_the_config():
    conf = am(config_with(alerting={"pushover": {"link": "source", "ttl": "12h", "labels": ["job"]}}))
    for name in ("pushover-critical", "pushover-warning", "pushover-flux"):
        (entry,) = receiver(conf, name)["pushover_configs"]
        assert entry["ttl"] == "12h"
        assert entry["url"] == alerting.SOURCE_URL
    warning = receiver(conf, "pushover-warning")["pushover_configs"][0]
    assert '"job"' in warning["message"] and '"pod"' not in warning["message"]
    default = receiver(am(), "pushover-warning")["pushover_configs"][0]
    assert default["url"] == alerting.silence_url(load(default_config()).alerting.pushover.labels)
    assert "ttl" not in default


def test_a_ttl_alertmanager_cannot_parse_is_refused():
    cfg, errors = config_model.load(config_with(alerting={"pushover": {"ttl": "1d"}}))
    assert cfg is None and errors[0].field == "spec.alerting.pushover.ttl"
