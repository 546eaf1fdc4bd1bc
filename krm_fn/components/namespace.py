"""The stack's Namespace."""

from __future__ import annotations

from krm_fn.components.common import metadata
from krm_fn.config import Config


def resources(config: Config) -> list[dict]:
    """The Namespace every stack object lives in."""
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(config.namespace)}]
