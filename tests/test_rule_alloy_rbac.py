"""The `alloy-rbac` rule: Alloy components added through values get a warning naming the missing rule."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krm_fn.checks.alloy_rbac import check_alloy_rbac
from krm_fn.components import alloy_rbac
from krm_fn.items import Item
from krm_fn.results import Result, Severity
from tests.helpers import config_with, context, run_cli, write

EVENTS_PIPELINE = """\
loki.source.kubernetes_events "cluster" {
  forward_to = [loki.write.default.receiver]
}
loki.write "default" {
  endpoint {
    url = "http://loki.monitoring.svc:3100/loki/api/v1/push"
  }
}
"""


def with_alloy_values(values: dict) -> dict:
    return config_with(values={"alloy": values})


def test_the_default_config_has_no_finding():
    assert list(check_alloy_rbac(context())) == []


def test_a_component_added_through_spec_values_names_the_missing_rule():
    config = with_alloy_values({"alloy": {"configMap": {"content": EVENTS_PIPELINE}}})
    (finding,) = check_alloy_rbac(context(config=config))
    assert finding.severity is Severity.WARNING
    assert finding.field == "spec.values.alloy.rbac.rules"
    assert str(finding.resource) == "ObservabilityConfig observability"
    assert "loki.source.kubernetes_events" in finding.message
    assert '{apiGroups: [""], resources: [events], verbs: [get, list, watch]}' in finding.message


def test_the_component_with_its_rule_added_passes():
    rules = [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
    ]
    config = with_alloy_values({"alloy": {"configMap": {"content": EVENTS_PIPELINE}}, "rbac": {"rules": rules}})
    assert list(check_alloy_rbac(context(config=config))) == []


def test_wildcards_grant_everything():
    rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    config = with_alloy_values({"alloy": {"configMap": {"content": EVENTS_PIPELINE}}, "rbac": {"rules": rules}})
    assert list(check_alloy_rbac(context(config=config))) == []


def test_discovery_role_decides_the_need():
    pipeline = 'discovery.kubernetes "svc" {\n  role = "service"\n}\n'
    config = with_alloy_values({"alloy": {"configMap": {"content": pipeline}}})
    (finding,) = check_alloy_rbac(context(config=config))
    assert "resources: [services], verbs: [list, watch]" in finding.message


def test_replacing_our_rules_with_fewer_warns_about_our_own_pipeline():
    config = with_alloy_values({"rbac": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}})
    messages = [f.message for f in check_alloy_rbac(context(config=config))]
    assert any("discovery.kubernetes" in m and "verbs: [watch]" in m for m in messages)
    assert any("loki.source.kubernetes" in m and "resources: [pods], verbs: [get]" in m for m in messages)


def test_an_empty_list_next_to_a_full_one_breaks_the_chart():
    config = with_alloy_values({"rbac": {"clusterRules": []}})
    findings = list(check_alloy_rbac(context(config=config)))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    assert [f.field for f in errors] == ["spec.values.alloy.rbac.clusterRules"]
    assert "stray `[]`" in errors[0].message


def test_rbac_create_false_and_chart_default_rules_are_not_checked():
    assert list(check_alloy_rbac(context(config=with_alloy_values({"rbac": {"create": False, "rules": []}})))) == []
    user_release = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: alloy, namespace: logging}
    spec:
      chart: {spec: {chart: alloy, version: 1.11.1}}
      values:
        alloy:
          configMap:
            content: |
              remote.kubernetes.secret "creds" {
                namespace = "logging"
                name = "creds"
              }
    """
    assert list(check_alloy_rbac(context({"alloy.yaml": user_release}, config=False))) == []


def test_a_users_own_alloy_release_is_reported_on_its_file():
    user_release = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: alloy, namespace: logging}
    spec:
      chart: {spec: {chart: alloy, version: 1.11.1}}
      values:
        rbac:
          rules:
            - {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
        alloy:
          configMap:
            content: |
              remote.kubernetes.secret "creds" {
                namespace = "logging"
                name = "creds"
              }
    """
    (finding,) = check_alloy_rbac(context({"alloy.yaml": user_release}, config=False))
    assert finding.location.path == "alloy.yaml" and finding.location.line
    assert finding.field == "spec.values.rbac.rules"
    assert "remote.kubernetes.secret" in finding.message and "resources: [secrets]" in finding.message


def test_through_the_check_command(tmp_path):
    config = with_alloy_values({"alloy": {"configMap": {"content": EVENTS_PIPELINE}}})
    write(tmp_path, {"observability.yaml": json.dumps(config)})
    proc = run_cli("check", str(tmp_path))
    out = proc.stdout.decode() + proc.stderr.decode()
    assert "[alloy-rbac]" in out and "loki.source.kubernetes_events" in out


# --- properties ------------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
_ALLOY_TEXT = st.lists(
    st.sampled_from(['"', "{", "}", "//", "/*", "*/", "\n", "\\", " ", "role = ", '"pod"', "discovery.kubernetes "]),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=_ALLOY_TEXT | st.text(max_size=80))
def test_the_parser_never_raises_and_finds_only_named_components(text: str):
    for component in alloy_rbac.components(text):
        assert "." in component.name


_RULES = st.lists(
    st.dictionaries(
        st.sampled_from(["apiGroups", "resources", "verbs", "nonResourceURLs"]),
        st.lists(st.sampled_from(["", "*", "pods", "get", "list", "watch", "events"]), max_size=3) | _JSON,
    ),
    max_size=3,
)
_RBAC = st.dictionaries(st.sampled_from(["rules", "clusterRules", "create", "namespaces"]), _RULES | _JSON) | _JSON


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rbac=_RBAC, content=_ALLOY_TEXT | _JSON)
def test_the_rule_never_raises_on_arbitrary_values(rbac, content):
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "alloy", "namespace": "logging"},
        "spec": {
            "chart": {"spec": {"chart": "alloy", "version": "1.11.1"}},
            "values": {"rbac": rbac, "alloy": {"configMap": {"content": content}}},
        },
    }
    ctx = context(config=False)
    ctx.pipeline = [Item.from_data(release, generated=False)]
    for found in check_alloy_rbac(ctx):
        assert isinstance(found, Result)


def test_a_finding_is_one_line_whatever_the_label():
    pipeline = 'remote.kubernetes.secret "a\nb" {\n}\nremote.kubernetes.secret "ok" {\n}\n'
    config = with_alloy_values({"alloy": {"configMap": {"content": pipeline}}})
    findings = list(check_alloy_rbac(context(config=config)))
    assert [f.message.count("\n") for f in findings] == [0]
    assert 'remote.kubernetes.secret "ok"' in findings[0].message
