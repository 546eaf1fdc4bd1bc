"""kube-prometheus-stack: Prometheus, Alertmanager, Grafana, node-exporter, kube-state-metrics."""

from __future__ import annotations

from krm_fn.components.common import deep_merge, helm_release
from krm_fn.config import Config


def values(config: Config) -> dict:
    """The chart values (before the user's spec.values overrides). TODO(components): complete."""
    return {}


def resources(config: Config) -> list[dict]:
    merged = deep_merge(values(config), config.values["kube-prometheus-stack"])
    return [helm_release(config, "kube-prometheus-stack", merged, crds=True)]
