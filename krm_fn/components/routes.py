"""One Gateway API HTTPRoute per exposed UI."""

from __future__ import annotations

from krm_fn.charts import UI_SERVICES, Service
from krm_fn.components.common import metadata
from krm_fn.config import Config


def route(config: Config, name: str, hostname: str, service: Service) -> dict:
    """An HTTPRoute from `hostname` on the config's Gateway to `service`."""
    assert config.gateway is not None  # the schema requires it while a UI is exposed
    parent: dict = {"name": config.gateway.name, "namespace": config.gateway.namespace}
    if config.gateway.section_name:
        parent["sectionName"] = config.gateway.section_name
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": metadata(name, config.namespace),
        "spec": {
            "parentRefs": [parent],
            "hostnames": [hostname],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": service.name, "port": service.port}],
                }
            ],
        },
    }


def resources(config: Config) -> list[dict]:
    """An HTTPRoute per exposed UI, to the Service the chart creates for it."""
    return [route(config, ui.name, ui.hostname, UI_SERVICES[ui.name]) for ui in config.exposed_uis]
