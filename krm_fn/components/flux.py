"""Flux notification-controller -> Alertmanager, and the PodMonitor for the Flux controllers."""

from __future__ import annotations

from krm_fn.config import Config


def resources(config: Config) -> list[dict]:
    """TODO(components): Provider, Alert, PodMonitor."""
    return []
