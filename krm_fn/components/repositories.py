"""The HelmRepositories the pinned charts come from."""

from __future__ import annotations

from krm_fn.charts import CHARTS
from krm_fn.components.common import metadata
from krm_fn.config import Config


def resources(config: Config) -> list[dict]:
    """One HelmRepository per repository the pinned charts come from."""
    in_use = [chart for name, chart in CHARTS.items() if name != "thanos" or config.topology.thanos]
    repositories = {chart.repository.name: chart.repository for chart in in_use}
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
