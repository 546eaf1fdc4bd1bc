"""The generated stack: one module per component, each a pure function Config -> objects."""

from __future__ import annotations

from collections.abc import Callable

from krm_fn.components import (
    alloy,
    dashboards,
    flux,
    kube_prometheus_stack,
    loki,
    namespace,
    privilege,
    repositories,
    routes,
    thanos,
)
from krm_fn.config import Config

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "observability-fn"
CONFIG_ANNOTATION = "observability.catinthehack.ca/config"

COMPONENTS: tuple[Callable[[Config], list[dict]], ...] = (
    namespace.resources,
    repositories.resources,
    kube_prometheus_stack.resources,
    privilege.resources,
    loki.resources,
    dashboards.resources,
    alloy.resources,
    thanos.resources,
    routes.resources,
    flux.resources,
)


def generate(config: Config) -> list[dict]:
    """Every object of the stack, each labelled as ours and annotated with the config's name."""
    objects = [obj for component in COMPONENTS for obj in component(config)]
    for obj in objects:
        meta = obj["metadata"]
        meta["labels"] = {**meta.get("labels", {}), MANAGED_BY_LABEL: MANAGED_BY}
        meta["annotations"] = {**meta.get("annotations", {}), CONFIG_ANNOTATION: config.name}
    return objects


def is_generated(obj: dict, config_name: str | None = None) -> bool:
    """True for an object this function generated (for `config_name`, when given)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        return False
    if config_name is None:
        return True
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    return annotations.get(CONFIG_ANNOTATION, config_name) == config_name
