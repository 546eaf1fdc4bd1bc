"""kube-state-metrics customResourceState for Flux: derived from the vendored example, not hand-copied."""

from __future__ import annotations

import copy
import subprocess
import sys

import yaml

from krm_fn.components import flux_metrics
from tests.helpers import REPO, UPSTREAM

EXAMPLE = yaml.safe_load((UPSTREAM / "flux-monitoring" / "kube-state-metrics-config.yaml").read_text())[
    "kube-state-metrics"
]


def test_generated_module_is_up_to_date():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_flux_metrics.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_config_equals_the_example_apart_from_help_texts():
    ours = flux_metrics.custom_resource_state()
    theirs = copy.deepcopy(EXAMPLE["customResourceState"])
    for resource in (ours["config"]["spec"]["resources"], theirs["config"]["spec"]["resources"]):
        for entry in resource:
            for metric in entry["metrics"]:
                metric.pop("help")
    assert ours == theirs


def test_help_texts_are_our_own():
    ours = flux_metrics.custom_resource_state()["config"]["spec"]["resources"]
    theirs = EXAMPLE["customResourceState"]["config"]["spec"]["resources"]
    for mine, upstream in zip(ours, theirs, strict=True):
        assert mine["metrics"][0]["help"] != upstream["metrics"][0]["help"]
        assert mine["groupVersionKind"]["kind"] in mine["metrics"][0]["help"]


def test_rbac_equals_the_example():
    assert flux_metrics.rbac_rules() == EXAMPLE["rbac"]["extraRules"]


def test_standard_metrics_stay_on():
    """The example's collectors: [] and --custom-resource-state-only would drop every standard metric."""
    assert "collectors" in EXAMPLE and "extraArgs" in EXAMPLE  # what we deliberately leave out
    state = flux_metrics.custom_resource_state()
    assert set(state) == {"enabled", "config"}


def test_each_call_returns_fresh_objects():
    """No object is shared between two calls (a shared one would be dumped as a YAML alias)."""
    first, second = flux_metrics.custom_resource_state(), flux_metrics.custom_resource_state()
    assert first == second
    first["config"]["spec"]["resources"][0]["metrics"][0]["labelsFromPath"]["ready"].append("x")
    assert first != second
