"""Rule `least-privilege`: spec.values that gives a component back what the stack keeps from it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn import components
from krm_fn.checks import RULES
from krm_fn.checks.privilege import RULE, check_privilege, reads_secrets
from krm_fn.results import Severity
from tests.helpers import config_with, load
from tests.helpers import rule_run as run

KPS = "kube-prometheus-stack"


def with_values(chart: str, values: dict, **spec) -> dict:
    return config_with(values={chart: values}, **spec)


def findings(config: dict) -> list[tuple[str, str, str]]:
    return [(r.severity.value, r.field, r.message) for r in run(check_privilege, config=config)]


def test_registered_as_a_warning_and_quiet_on_the_default_config():
    (found,) = [r for r in RULES if r.id == RULE]
    assert found.severity is Severity.WARNING
    assert run(check_privilege) == []


def test_values_that_restate_the_generated_ones_are_fine():
    grafana = {
        "rbac": {"create": False},
        "sidecar": {
            "dashboards": {"resource": "configmap", "searchNamespace": "monitoring"},
            "datasources": {"enabled": True, "resource": "configmap"},
        },
    }
    values = {
        "grafana": grafana,
        "kube-state-metrics": {"collectors": ["pods", "nodes"]},
        "prometheus-node-exporter": {"namespaceOverride": "monitoring-node-exporter"},
        "alertmanager": {"alertmanagerSpec": {"secrets": ["other-secret"]}},
        "prometheus": {"ingress": {"enabled": False}},
    }
    assert run(check_privilege, config=with_values(KPS, values)) == []
    assert run(check_privilege, config=with_values("loki", {"sidecar": {"rules": {"enabled": False}}})) == []


@pytest.mark.parametrize(
    ("chart", "values", "field", "words"),
    [
        (KPS, {"grafana": {"rbac": {"create": True}}}, "grafana.rbac.create", "every Secret of the cluster"),
        (
            KPS,
            {"grafana": {"sidecar": {"dashboards": {"resource": "both"}}}},
            "grafana.sidecar.dashboards.resource",
            "403 Forbidden",
        ),
        (
            KPS,
            {"grafana": {"sidecar": {"alerts": {"enabled": True}}}},  # the chart's default resource: both
            "grafana.sidecar.alerts.resource",
            "would list Secrets",
        ),
        (
            KPS,
            {"grafana": {"sidecar": {"dashboards": {"searchNamespace": "ALL"}}}},
            "grafana.sidecar.dashboards.searchNamespace",
            "ConfigMaps in ALL",
        ),
        (
            KPS,
            {"kube-state-metrics": {"collectors": ["pods", "secrets"]}},
            "kube-state-metrics.collectors",
            "every Secret of the cluster",
        ),
        (
            KPS,
            {"kube-state-metrics": {"collectorsExtra": ["configmaps"]}},
            "kube-state-metrics.collectorsExtra",
            "kube_configmap_* series",
        ),
        (
            KPS,
            {
                "kube-state-metrics": {
                    "rbac": {"extraRules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["list"]}]}
                }
            },
            "kube-state-metrics.rbac.extraRules",
            "read every Secret",
        ),
        (
            KPS,
            {"prometheus-node-exporter": {"namespaceOverride": "kube-system"}},
            "prometheus-node-exporter.namespaceOverride",
            "admit privileged pods",
        ),
        (KPS, {"prometheus": {"route": {"main": {"enabled": True}}}}, "prometheus.route.main.enabled", "/-/quit"),
        (KPS, {"prometheus": {"ingress": {"enabled": True}}}, "prometheus.ingress.enabled", "no access control"),
        ("loki", {"sidecar": {"rules": {"enabled": True}}}, "sidecar.rules.enabled", "every Secret and ConfigMap"),
    ],
)
def test_each_value_turned_back_on_is_a_warning_on_its_field(chart: str, values: dict, field: str, words: str):
    ((severity, where, message),) = findings(with_values(chart, values))
    assert severity == "warning"
    assert where == f"spec.values.{chart}.{field}"
    assert words in message


def test_the_whole_secret_in_alertmanager_collides_with_the_generated_mount():
    config = with_values(KPS, {"alertmanager": {"alertmanagerSpec": {"secrets": ["monitoring-secrets", "other"]}}})
    ((severity, field, message),) = findings(config)
    assert (severity, field) == ("error", "spec.values.kube-prometheus-stack.alertmanager.alertmanagerSpec.secrets")
    assert "Grafana's admin password" in message and "duplicate mountPath" in message
    # With no receiver reading a file there is no generated mount: mounting it is wasteful, not fatal.
    quiet = with_values(
        KPS,
        {"alertmanager": {"alertmanagerSpec": {"secrets": ["monitoring-secrets"]}}},
        alerting={"pushover": {"enabled": False}},
    )
    ((severity, _, message),) = findings(quiet)
    assert severity == "warning" and "duplicate" not in message


@pytest.mark.parametrize("key", ["volumes", "volumeMounts"])
def test_a_list_that_drops_the_generated_key_volume_is_an_error(key: str):
    config = with_values(KPS, {"alertmanager": {"alertmanagerSpec": {key: [{"name": "mine", "emptyDir": {}}]}}})
    ((severity, field, message),) = findings(config)
    assert severity == "error" and field.endswith(f"alertmanagerSpec.{key}")
    assert "stack-secret-keys" in message
    kept = [{"name": "stack-secret-keys"}, {"name": "mine"}]
    assert findings(with_values(KPS, {"alertmanager": {"alertmanagerSpec": {key: kept}}})) == []


def test_node_exporter_back_in_a_baseline_stack_namespace_is_an_error():
    ((severity, _, message),) = findings(with_values(KPS, {"prometheus-node-exporter": {"namespaceOverride": ""}}))
    assert severity == "error" and "refuses its hostNetwork" in message and "monitoring-node-exporter" in message
    privileged = with_values(
        KPS,
        {"prometheus-node-exporter": {"namespaceOverride": "monitoring"}},
        namespaceMetadata={"podSecurity": "privileged"},
    )
    ((severity, _, message),) = findings(privileged)
    assert severity == "warning" and "every pod of that namespace" in message


def test_reads_secrets_knows_groups_resources_and_verbs():
    assert reads_secrets([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}])
    assert reads_secrets([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
    assert not reads_secrets([{"apiGroups": ["apps"], "resources": ["secrets"], "verbs": ["get"]}])
    assert not reads_secrets([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete"]}])
    assert not reads_secrets([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}])
    assert not reads_secrets("not a list") and not reads_secrets([None, {"apiGroups": "x"}])


secret_keys = st.from_regex(r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@st.composite
def stacks(draw) -> dict:
    """Configs whose alerting, Secret name, namespace and topology vary, with no spec.values."""
    alerting: dict = {"pushover": {"enabled": draw(st.booleans())}}
    if draw(st.booleans()):
        alerting["heartbeat"] = {"urlKey": draw(secret_keys)}
    spec = {
        "alerting": alerting,
        "secret": {"name": draw(secret_keys)},
        "namespace": draw(st.from_regex(r"[a-z][a-z0-9-]{0,40}[a-z0-9]", fullmatch=True)),
    }
    if draw(st.booleans()):
        spec.update(HA_SPEC)
    return spec


HA_SPEC = {
    "profile": "ha",
    "objectStorage": {"endpoint": "minio:9000", "buckets": {"lokiChunks": "c", "lokiRuler": "r"}},
}


@settings(max_examples=60, deadline=None)
@given(stacks())
def test_no_generated_stack_is_flagged_and_alertmanager_mounts_what_it_reads(spec: dict):
    config = config_with(**spec)
    assert run(check_privilege, config=config) == []  # a false alarm on our own values is a bug
    loaded = load(config)
    (release,) = [o for o in components.generate(loaded) if o["metadata"]["name"] == KPS and o["kind"] == "HelmRelease"]
    am = release["spec"]["values"]["alertmanager"]
    files = {
        value
        for receiver in am["config"]["receivers"]
        for kind, entries in receiver.items()
        if kind.endswith("_configs")
        for entry in entries
        for field, value in entry.items()
        if field.endswith("_file")
    }
    spec_am = am["alertmanagerSpec"]
    assert "secrets" not in spec_am
    mounted = {
        f"{mount['mountPath']}/{item['path']}"
        for mount in spec_am.get("volumeMounts", [])
        for volume in spec_am.get("volumes", [])
        if volume["name"] == mount["name"]
        for item in volume["secret"]["items"]
    }
    assert mounted == files
    assert (
        release["spec"]["values"]["prometheus-node-exporter"]["namespaceOverride"]
        == f"{loaded.namespace}-node-exporter"
    )
