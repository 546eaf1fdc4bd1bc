"""The config model: the schema is the single source of truth for validity and defaults."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn import config, config_schema
from tests.helpers import config_with, default_config


def messages(obj: dict) -> list[str]:
    loaded, results = config.load(obj)
    assert (loaded is None) == bool(results)
    return [f"{r.field}: {r.message}" for r in results]


def test_default_config_is_valid_and_reproduces_the_seed():
    loaded, results = config.load(default_config())
    assert results == []
    assert (loaded.cluster, loaded.domain, loaded.namespace, loaded.storage_class) == (
        "cloudlab",
        "catinthehack.ca",
        "monitoring",
        "nfs",
    )
    assert loaded.gateway == config.Gateway("traefik-gateway", "traefik")
    assert [ui.hostname for ui in loaded.ui] == [
        "grafana.catinthehack.ca",
        "prometheus.catinthehack.ca",
        "alertmanager.catinthehack.ca",
        "alloy.catinthehack.ca",
    ]
    # The seed's hard-coded values are the defaults.
    assert loaded.prometheus.retention == "7d" and loaded.loki.retention == "168h"
    assert loaded.prometheus.storage_size == "10Gi" and loaded.alertmanager.storage_size == "1Gi"
    # Priority 1 without retry/expire: Pushover applies those to priority 2 only (the seed set them for nothing).
    assert loaded.alerting.pushover.critical == config.PushoverLevel(1)
    assert loaded.alerting.group_by == ("alertname", "namespace")
    assert loaded.alerting.repeat_interval == "12h"


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(config.schema())


def test_every_schema_default_validates_against_its_own_schema():
    """A default that its own field would reject is a bug the schema cannot show by itself."""
    validator = jsonschema.Draft202012Validator(config.schema())

    def walk(node: dict):
        node = config_schema.resolve(node)
        for sub in node.get("properties", {}).values():
            sub = config_schema.resolve(sub)
            if "default" in sub:
                assert not list(validator.evolve(schema=sub).iter_errors(sub["default"])), sub
            yield from walk(sub)
        yield node

    assert list(walk(config.schema()))


def test_every_spec_field_reaches_the_model():
    """Each spec property of the schema is read into Config (no field silently ignored)."""
    spec_fields = set(config.schema()["properties"]["spec"]["properties"])
    model_fields = set(config.Config._fields)
    as_snake = {
        "storageClass": "storage_class",
        "kubernetesVersion": "kubernetes_version",
        "secret": "secret_name",
        "nodeExporter": "node_exporter",
        "kubeStateMetrics": "kube_state_metrics",
        "checks": "plaintext_secrets_severity",
        "namespaceMetadata": "namespace_metadata",
        "controlPlane": "control_plane",
        "access": "access_all",
        # spec.profile with the per-component replicas, spec.nodes and spec.objectStorage: Config.topology
        "profile": "topology",
        "nodes": "topology",
        "objectStorage": "topology",
    }
    assert {as_snake.get(name, name) for name in spec_fields} <= model_fields


def test_unknown_field_names_the_field_and_suggests_the_nearest_one():
    assert messages(config_with(prometheus={"retension": "7d"})) == [
        "spec.prometheus.retension: unknown field 'retension'; did you mean 'retention'?"
    ]


def test_field_at_the_wrong_level_says_where_it_belongs():
    (message,) = messages(config_with(retention="7d"))
    assert (
        "spec.retention" in message
        and "spec.prometheus.retention or spec.loki.retention or spec.thanos.retention" in message
    )


def test_missing_required_field_is_named():
    obj = default_config()
    del obj["spec"]["cluster"]
    (message,) = messages(obj)
    assert message.startswith("spec.cluster: required field 'cluster' is missing")


def test_gateway_required_while_a_ui_is_exposed():
    obj = default_config()
    del obj["spec"]["gateway"]
    (message,) = messages(obj)
    assert "spec.gateway is required while any UI is exposed" in message
    obj["spec"]["ui"] = {name: {"enabled": False} for name in config.UI_NAMES}
    assert messages(obj) == []


def test_an_older_chart_release_is_an_error_naming_the_nearest_known():
    (message,) = messages(config_with(charts={"loki": {"version": "6.1.0"}}))
    assert message == (
        "spec.charts.loki.version: loki 6.1.0 is older than the oldest supported release (6.55.0); "
        "nearest known: 6.55.0, 6.56.0, 6.56.1"
    )


def test_a_version_never_released_is_an_error_naming_the_nearest_known():
    (message,) = messages(config_with(charts={"kube-prometheus-stack": {"version": "84.0.9"}}))
    assert "84.0.9 is not a release of the chart; nearest known: 84.0." in message


def test_a_tag_never_published_is_not_a_release(monkeypatch):
    """A version tagged upstream that the publisher's index does not list (the release data's
    `unpublished`) is an error naming where it would have to be published."""
    from krm_fn.charts import paths

    data = dict(paths._chart_data("kube-prometheus-stack"))
    data["unpublished"] = [["84.0.9", "kube-prometheus-stack-84.0.9", "prometheus-community"]]
    monkeypatch.setattr(paths, "_chart_data", lambda chart: data if chart == "kube-prometheus-stack" else None)
    (message,) = messages(config_with(charts={"kube-prometheus-stack": {"version": "84.0.9"}}))
    assert message.startswith(
        "spec.charts.kube-prometheus-stack.version: kube-prometheus-stack 84.0.9 is not a release: it was tagged "
        "upstream (kube-prometheus-stack-84.0.9) but never published to https://prometheus-community.github.io/"
        "helm-charts or oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack, so Flux cannot pull it; "
        "nearest known: 84.0.0, 84.0.1"
    ), message


def test_a_newer_release_renders_with_a_warning_and_the_newest_knowledge():
    obj = config_with(charts={"kube-prometheus-stack": {"version": "89.0.0"}})
    loaded, results = config.load(obj)
    assert loaded is not None
    assert loaded.charts["kube-prometheus-stack"] == "89.0.0"  # what the HelmRelease asks Flux for
    assert loaded.chart_data["kube-prometheus-stack"] == "88.5.3"  # whose values it writes and checks
    (warning,) = results
    assert warning.severity == "warning" and warning.rule == "chart-version"
    assert "newer than the newest release the function knows (88.5.3)" in warning.message


def test_strict_refuses_a_newer_release():
    obj = config_with(charts={"kube-prometheus-stack": {"version": "89.0.0"}, "strict": True})
    loaded, results = config.load(obj)
    assert loaded is None
    assert [r.severity for r in results] == ["error"]
    assert "spec.charts.strict is set" in results[0].message


def test_a_malformed_version_is_a_schema_error():
    (message,) = messages(config_with(charts={"loki": {"version": "18.x"}}))
    assert message.startswith("spec.charts.loki.version: '18.x' is not")


@pytest.mark.parametrize(
    ("chart", "index"),
    [(c, i) for c in ("kube-prometheus-stack", "loki", "alloy") for i in (0, -1)],
)
def test_the_first_and_last_known_release_load(chart: str, index: int):
    from krm_fn.charts import paths

    version = paths.known_versions(chart)[index]
    assert messages(config_with(charts={chart: {"version": version}})) == []


def test_emergency_priority_needs_retry_and_expire():
    assert messages(config_with(alerting={"pushover": {"critical": {"priority": 2}}})) == [
        "spec.alerting.pushover.critical: priority 2 (emergency) repeats the notification until it is acknowledged: "
        "it needs retry (how often, at least 30s) and expire (when to stop, at most 3h)"
    ]


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("domain", "Example.com", "lowercase DNS name"),
        ("domain", "example.com.", "lowercase DNS name"),
        ("domain", "example.com\n", "lowercase DNS name"),
        ("cluster", "cloud lab", "label value"),
        ("cluster", "cloudlab\n", "label value"),
        ("namespace", "Monitoring", "DNS label"),
    ],
)
def test_patterns_match_whole_values(field, value, hint):
    (message,) = messages(config_with(**{field: value}))
    assert message.startswith(f"spec.{field}:") and hint in message


def test_wrong_api_version_is_one_clear_error():
    obj = default_config()
    obj["apiVersion"] = "observability.catinthehack.ca/v1"
    assert messages(obj) == [
        "apiVersion: apiVersion 'observability.catinthehack.ca/v1' is not supported; "
        "use observability.catinthehack.ca/v1alpha1"
    ]


def test_defaults_fill_missing_fields_without_touching_given_ones():
    filled = config.apply_defaults({"spec": {"prometheus": {"retention": "30d"}}})
    assert filled["spec"]["prometheus"]["retention"] == "30d"
    assert filled["spec"]["prometheus"]["storageSize"] == "10Gi"
    assert filled["spec"]["loki"]["retention"] == "168h"


def test_ui_hostname_defaults_to_ui_dot_domain_and_can_be_overridden():
    loaded, _ = config.load(config_with(domain="example.org", ui={"alloy": {"hostname": "logs.example.org"}}))
    assert {ui.name: ui.hostname for ui in loaded.ui} == {
        "grafana": "grafana.example.org",
        "prometheus": "prometheus.example.org",
        "alertmanager": "alertmanager.example.org",
        "alloy": "logs.example.org",
    }


def test_schema_command_prints_the_shipped_schema(capsys):
    from krm_fn import cli

    assert cli.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == config.schema()


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    cluster=_label,
    domain=st.lists(_label, min_size=1, max_size=4).map(".".join),
    retention=st.from_regex(r"[1-9][0-9]{0,3}(s|m|h|d|w)", fullmatch=True),
    disabled=st.sets(st.sampled_from(config.UI_NAMES)),
)
def test_generated_valid_configs_load(cluster, domain, retention, disabled):
    obj = config_with(
        cluster=cluster,
        domain=domain,
        prometheus={"retention": retention},
        ui={name: {"enabled": False} for name in disabled},
    )
    loaded, results = config.load(obj)
    assert results == []
    assert {ui.name for ui in loaded.exposed_uis} == set(config.UI_NAMES) - disabled
    assert all(ui.hostname.endswith("." + domain) for ui in loaded.ui)


def test_retry_and_expire_below_emergency_priority_are_refused():
    (message,) = messages(config_with(alerting={"pushover": {"critical": {"priority": 1, "retry": "300s"}}}))
    assert message.startswith("spec.alerting.pushover.critical: retry and expire apply to priority 2 (emergency)")
    (message,) = messages(config_with(alerting={"pushover": {"warning": {"priority": 0, "expire": "1h"}}}))
    assert message.startswith("spec.alerting.pushover.warning: retry and expire apply to priority 2")


def test_emergency_priority_with_retry_and_expire_is_accepted():
    critical = {"priority": 2, "retry": "60s", "expire": "1h"}
    assert messages(config_with(alerting={"pushover": {"critical": critical}})) == []
