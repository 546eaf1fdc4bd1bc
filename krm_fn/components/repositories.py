"""Where Flux fetches the charts: a HelmRepository per publisher, or an OCIRepository per chart."""

from __future__ import annotations

from krm_fn.charts import CHARTS, publisher_of
from krm_fn.components.common import metadata
from krm_fn.config import Config

# Flux's recommended layer selector for Helm charts in OCI registries (the chart tarball only).
HELM_CHART_LAYER = {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"}


def resources(config: Config) -> list[dict]:
    """The chart sources, for `spec.charts.source` and the publisher of each chosen release."""
    in_use = [name for name in CHARTS if name != "thanos" or config.topology.thanos]
    if config.chart_source == "oci":
        return [oci_repository(config, name) for name in in_use]
    repositories = {}
    for name in in_use:
        repo = publisher_of(name, config.chart_data[name]).repository
        repositories.setdefault(repo.name, repo)
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": metadata(repo.name, config.namespace),
            # An oci:// URL needs type oci (Flux HelmRepository spec.type).
            "spec": {"interval": "60m", "url": repo.url, **({"type": "oci"} if repo.url.startswith("oci://") else {})},
        }
        for repo in repositories.values()
    ]


def oci_repository(config: Config, chart: str) -> dict:
    """The OCIRepository of one chart, at the release the config asks for."""
    pinned = CHARTS[chart]
    url = f"{publisher_of(chart, config.chart_data[chart]).oci}/{pinned.name}"
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": metadata(pinned.release, config.namespace),
        "spec": {
            "interval": "60m",
            "layerSelector": dict(HELM_CHART_LAYER),
            "ref": {"tag": config.charts[chart]},
            "url": url,
        },
    }
