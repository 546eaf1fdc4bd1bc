"""Loki's HelmRelease, in the mode the topology picks, and its Grafana datasource.

The modes have a module each: loki_monolithic (SingleBinary on a volume, Monolithic on object
storage) and loki_scalable (SimpleScalable, deprecated); loki_base holds what they share.
"""

from __future__ import annotations

from krm_fn.components import loki_base, loki_monolithic, loki_scalable, privilege, profile
from krm_fn.components.common import deep_merge, helm_release, metadata, service_url
from krm_fn.config import OBJECT_STORAGE_MODES, Config

CHART = loki_base.CHART
DATASOURCE_NAME = "loki-datasource"
DATASOURCE_UID = "loki"  # stable, so dashboards and links can refer to it
# The Grafana sidecar's datasource label in kube-prometheus-stack (v:1502-1503 of that chart).
DATASOURCE_LABEL = {"grafana_datasource": "1"}


def values(config: Config) -> dict:
    """The chart values of the topology's Loki mode, before the user's spec.values overrides."""
    mode = loki_scalable if config.topology.loki_mode == "SimpleScalable" else loki_monolithic
    return mode.values(config)


def datasource(config: Config) -> dict:
    """The ConfigMap the Grafana sidecar provisions Loki from (it watches its own namespace)."""
    url = service_url(profile.loki_service(config), config.namespace)
    provisioning = (
        "apiVersion: 1\n"
        "datasources:\n"
        "  - name: Loki\n"
        "    type: loki\n"
        f"    uid: {DATASOURCE_UID}\n"
        "    access: proxy\n"
        f"    url: {url}\n"
        "    isDefault: false\n"
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(DATASOURCE_NAME, config.namespace, DATASOURCE_LABEL),
        "data": {"loki-datasource.yaml": provisioning},
    }


def resources(config: Config) -> list[dict]:
    """The HelmRelease (after kube-prometheus-stack) and the Grafana datasource ConfigMap."""
    merged = deep_merge(deep_merge(values(config), privilege.loki(config)), config.values[CHART])
    release = helm_release(config, CHART, merged, depends_on="kube-prometheus-stack")
    if config.topology.loki_mode in OBJECT_STORAGE_MODES:
        release["metadata"]["annotations"] = {loki_base.FLUX_SUBSTITUTE: "disabled"}
    return [release, datasource(config)]
