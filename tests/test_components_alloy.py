"""Alloy values (charts.md section 7): the pipeline under alloy.configMap.content, resources under alloy."""

from __future__ import annotations

import re

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.components import alloy
from krm_fn.config import Config
from tests.helpers import config_with, default_config


def load(config: dict) -> Config:
    cfg, errors = config_model.load(config)
    assert cfg is not None, [r.message for r in errors]
    return cfg


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
    assert set(values) == {"alloy", "controller"}
    assert set(values["alloy"]) == {"configMap", "resources"}
    assert "config" not in values["alloy"]  # the seed's key, which the chart ignores
    assert values["alloy"]["resources"] == {
        "requests": {"cpu": "20m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert values["controller"] == {"type": "daemonset"}


def test_pipeline_ships_pod_logs_to_loki_with_the_cluster_label():
    text = content(config_with(cluster="edge-1", namespace="obs"))
    assert 'discovery.kubernetes "pods"' in text
    assert '"spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)' in text
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
    assert values["mounts"] == {"varlog": True}
    assert "content" in values["configMap"]


def test_pipeline_is_a_pure_function_of_the_config():
    cfg = load(default_config())
    assert alloy.pipeline(cfg) == alloy.pipeline(cfg)
