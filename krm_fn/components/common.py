"""Building blocks shared by the component modules: object metadata and HelmReleases."""

from __future__ import annotations

from krm_fn.charts import CHARTS, Service, publisher_of
from krm_fn.config import Config


def metadata(name: str, namespace: str | None = None, labels: dict | None = None) -> dict:
    """An object's metadata; namespace and labels only when given."""
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
    if config.chart_source == "oci":
        spec["chartRef"] = {"kind": "OCIRepository", "name": pinned.release}  # the chart's OCIRepository
    else:
        repository = publisher_of(chart, config.chart_data[chart]).repository
        spec["chart"] = {
            "spec": {
                "chart": pinned.name,
                "version": config.charts[chart],
                "interval": "60m",
                "sourceRef": {"kind": "HelmRepository", "name": repository.name},
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


def volume_claim_spec(storage_class: str | None, size: str) -> dict:
    """A ReadWriteOnce PersistentVolumeClaim spec; no storageClassName means the cluster's default class."""
    spec: dict = {}
    if storage_class:
        spec["storageClassName"] = storage_class
    spec["accessModes"] = ["ReadWriteOnce"]
    spec["resources"] = {"requests": {"storage": size}}
    return spec


def service_url(service: Service, namespace: str, path: str = "") -> str:
    """`http://<service>.<namespace>.svc:<port><path>`: in-cluster, independent of the cluster domain."""
    return f"http://{service.name}.{namespace}.svc:{service.port}{path}"
