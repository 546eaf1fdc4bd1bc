"""Building blocks shared by the component modules: object metadata and HelmReleases."""

from __future__ import annotations

from krm_fn.charts import CHARTS
from krm_fn.config import Config


def metadata(name: str, namespace: str | None = None, labels: dict | None = None) -> dict:
    meta: dict = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def helm_release(
    config: Config,
    chart: str,
    values: dict,
    depends_on: str | None = None,
    timeout: str = "10m",
    crds: bool = False,
) -> dict:
    """A Flux HelmRelease of one pinned chart; `crds` lets Helm create and replace the chart's CRDs."""
    pinned = CHARTS[chart]
    spec: dict = {"interval": "30m", "timeout": timeout}
    if depends_on:
        spec["dependsOn"] = [{"name": depends_on}]
    spec["chart"] = {
        "spec": {
            "chart": pinned.name,
            "version": config.charts[chart],
            "interval": "60m",
            "sourceRef": {"kind": "HelmRepository", "name": pinned.repository.name},
        }
    }
    install: dict = {"remediation": {"retries": 3}}
    upgrade: dict = {"cleanupOnFail": True, "remediation": {"retries": 3}}
    if crds:
        install = {"crds": "CreateReplace", **install}
        upgrade = {"crds": "CreateReplace", **upgrade}
    spec["install"] = install
    spec["upgrade"] = upgrade
    spec["values"] = values
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": metadata(pinned.release, config.namespace),
        "spec": spec,
    }


def deep_merge(base: dict, override: dict) -> dict:
    """Helm's coalescing: maps merge recursively, lists and scalars replace. Inputs are untouched."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
