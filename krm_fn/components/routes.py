"""One Gateway API HTTPRoute per exposed UI."""

from __future__ import annotations

from krm_fn.charts import UI_SERVICES
from krm_fn.components.common import metadata
from krm_fn.config import Config


def resources(config: Config) -> list[dict]:
    """An HTTPRoute per exposed UI, to the Service the chart creates for it."""
    routes = []
    for ui in config.exposed_uis:
        assert config.gateway is not None  # the schema requires it while a UI is exposed
        parent: dict = {"name": config.gateway.name, "namespace": config.gateway.namespace}
        if config.gateway.section_name:
            parent["sectionName"] = config.gateway.section_name
        service = UI_SERVICES[ui.name]
        routes.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": metadata(ui.name, config.namespace),
                "spec": {
                    "parentRefs": [parent],
                    "hostnames": [ui.hostname],
                    "rules": [
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            "backendRefs": [{"name": service.name, "port": service.port}],
                        }
                    ],
                },
            }
        )
    return routes
