"""The HelmRepositories the pinned charts come from."""

from __future__ import annotations

from krm_fn.charts import CHARTS
from krm_fn.components.common import metadata
from krm_fn.config import Config


def resources(config: Config) -> list[dict]:
    """One HelmRepository per repository the pinned charts come from."""
    repositories = {chart.repository.name: chart.repository for chart in CHARTS.values()}
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": metadata(repo.name, config.namespace),
            "spec": {"interval": "60m", "url": repo.url},
        }
        for repo in repositories.values()
    ]
