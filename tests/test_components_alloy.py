"""Alloy values: the pipeline under alloy.configMap.content, resources under alloy.

Facts: docs/reference/charts.md#7-alloy-audit.
"""

from __future__ import annotations

import re

import pytest

from krm_fn import components
from krm_fn.components import alloy, alloy_rbac
from tests.helpers import config_with, default_config, load


def release(config: dict | None = None) -> dict:
    objects = components.generate(load(config or default_config()))
    (found,) = [o for o in objects if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "alloy"]
    return found


def content(config: dict | None = None) -> str:
    return release(config)["spec"]["values"]["alloy"]["configMap"]["content"]


def test_release_after_loki():
    spec = release()["spec"]
    assert spec["dependsOn"] == [{"name": "loki"}]
    assert spec["timeout"] == "5m"
    assert spec["chart"]["spec"]["version"] == "1.11.1"


def test_one_alloy_block_with_config_and_resources():
    values = release()["spec"]["values"]
    assert set(values) == {"alloy", "controller", "rbac", "serviceMonitor"}
    assert set(values["alloy"]) == {"configMap", "resources", "storagePath", "mounts"}
    assert "config" not in values["alloy"]  # the seed's key, which the chart ignores
    assert values["alloy"]["resources"] == {
        "requests": {"cpu": "20m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    # one StatefulSet reading every container through the API, its positions on a claim (test_alloy_positions)
    assert values["controller"] == {
        "type": "statefulset",
        "replicas": 1,
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "storageClassName": "nfs",
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ],
    }


def test_pipeline_ships_pod_logs_to_loki_with_the_cluster_label():
    text = content(config_with(cluster="edge-1", namespace="obs"))
    assert 'discovery.kubernetes "pods"' in text
    assert "spec.nodeName" not in text  # every pod of the cluster: logs come through the API server
    assert 'loki.source.kubernetes "pod_logs"' in text
    assert 'cluster = "edge-1",' in text
    assert 'url = "http://loki.obs.svc:3100/loki/api/v1/push"' in text
    for label in ("namespace", "pod", "container", "app", "job"):
        assert f'target_label  = "{label}"' in text


def test_pipeline_has_no_dead_path_rule_and_survives_helm_tpl():
    text = content()
    assert "__path__" not in text
    assert "{{" not in text and "}}" not in text  # the chart runs content through `tpl`


def test_pipeline_is_balanced():
    """A cheap syntax check (no Alloy binary here): braces, brackets and quotes pair up."""
    text = re.sub(r"(?m)^\s*//.*$", "", content())  # whole-line comments only: URLs hold //
    assert text.count('"') % 2 == 0
    depth = 0
    for char in re.sub(r'"[^"\n]*"', '""', text):
        depth += {"{": 1, "}": -1, "[": 1, "]": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_every_component_referenced_is_defined():
    text = content()
    defined = set(re.findall(r'^([a-z_.]+) "([a-z_]+)" \{', text, re.M))
    referenced = set(re.findall(r"\b((?:discovery|loki)\.[a-z_.]+?)\.([a-z_]+)\.(?:targets|output|receiver)\b", text))
    assert referenced and referenced <= defined


def test_overrides_deep_merge():
    config = config_with(values={"alloy": {"alloy": {"mounts": {"varlog": True}}}})
    values = release(config)["spec"]["values"]["alloy"]
    assert values["mounts"] == {"varlog": True, "extra": [{"name": "data", "mountPath": "/var/lib/alloy/data"}]}
    assert "content" in values["configMap"]


def test_pipeline_is_a_pure_function_of_the_config():
    cfg = load(default_config())
    assert alloy.pipeline(cfg) == alloy.pipeline(cfg)


# --- RBAC: exactly what the pipeline's components need ---------------------------------------------


def _needs(text: str) -> set:
    """The union of the pipeline components' needs; a component missing from the table fails the test."""
    needed: set = set()
    for component in alloy_rbac.components(text):
        need = alloy_rbac.needs(component)
        assert need is not None, f"{component!r} has no entry in alloy_rbac: add its permissions there"
        needed |= need
    return needed


def _rendered_cluster_role(values: dict) -> list[dict]:
    """The ClusterRole's rules as the chart renders them: rbac.rules, then rbac.clusterRules (ALLOY rbac.yaml)."""
    return values["rbac"]["rules"] + values["rbac"]["clusterRules"]


def test_every_component_of_the_pipeline_has_its_rule_and_no_rule_is_unused():
    values = release()["spec"]["values"]
    needed = _needs(values["alloy"]["configMap"]["content"])
    granted = alloy_rbac.granted(_rendered_cluster_role(values))
    assert needed == granted  # nothing missing, nothing extra
    assert not any("*" in permission for permission in granted)


def test_no_secret_or_configmap_access_and_no_chart_defaults():
    rules = _rendered_cluster_role(release()["spec"]["values"])
    resources = {resource for rule in rules for resource in rule.get("resources", [])}
    assert resources == {"pods", "pods/log"}
    assert not any("nonResourceURLs" in rule for rule in rules)


def test_both_rule_lists_are_non_empty_so_the_chart_renders_valid_yaml():
    values = release()["spec"]["values"]
    assert values["rbac"]["rules"] and values["rbac"]["clusterRules"]


def test_a_component_added_without_its_rule_is_caught():
    """The derivation above fails when the pipeline gains a component the rules do not cover."""
    text = content() + 'loki.source.kubernetes_events "events" {\n  forward_to = []\n}\n'
    granted = alloy_rbac.granted(_rendered_cluster_role(release()["spec"]["values"]))
    assert _needs(text) - granted == {("", "events", verb) for verb in ("get", "list", "watch")}
    unknown = content() + 'made.up_component "x" {\n}\n'
    with pytest.raises(AssertionError, match=r"made\.up_component"):
        _needs(unknown)


def test_components_are_found_past_comments_strings_and_nested_blocks():
    text = (
        '// discovery.kubernetes "commented" {\n'
        '/* remote.kubernetes.secret "x" { } */\n'
        'discovery.kubernetes "nodes" {\n'
        '  selectors {\n    role = "pod"\n  }\n'
        '  role = "node"\n'
        '  api_server = "http://a/{b}"\n'
        "}\n"
        'loki.write "w" { endpoint { url = "http://x//y" } }\n'
    )
    found = alloy_rbac.components(text)
    assert [(c.name, c.label) for c in found] == [("discovery.kubernetes", "nodes"), ("loki.write", "w")]
    assert found[0].attributes["role"] == "node"


def test_alloy_is_scraped_by_its_service_monitor():
    assert release()["spec"]["values"]["serviceMonitor"] == {"enabled": True}
