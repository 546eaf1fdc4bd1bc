"""Loki in SimpleScalable mode (read, write, backend) on S3-compatible object storage: deprecated.

The chart marks the mode "deprecated, removed in Loki 4" (grafana-community/helm-charts loki-18.11.0
values.yaml `deploymentMode`), and Loki's docs give a migration to HA monolithic
(docs/sources/setup/migrate/ssd-to-ha-monolithic); it stays selectable with a warning (ha-topology)
so that a running stack can move at its own pace (docs/ha.md).

`v:` lines are in third_party/upstream/charts/loki-6.55.0/values.yaml. The chart already gives read,
write and backend a PodDisruptionBudget (maxUnavailable 1, v:1678, v:1819, v:1948) and a hard
anti-affinity on the node (v:1666, v:1807, v:1936): replicas spread one per node.
"""

from __future__ import annotations

from krm_fn.components import loki_base
from krm_fn.components.common import deep_merge
from krm_fn.config import Config

GATEWAY_REPLICAS = 2
REMOVAL = "deprecated upstream and removed in Loki 4 (the loki chart: 'deprecated, removed in Loki 4')"


def _target(config: Config, persistent: bool) -> dict:
    out: dict = {
        "replicas": config.topology.loki_replicas,
        "resources": config.loki.resources.to_values(),
        "extraArgs": [loki_base.EXPAND_ENV],
        "extraEnv": loki_base.credentials_env(config),
    }
    if persistent:
        out["persistence"] = loki_base.persistence(config, retain=False)  # the write WAL; the backend's compactor
    return out


def values(config: Config) -> dict:
    """The chart values in SimpleScalable mode, before the user's spec.values overrides."""
    out = {
        "deploymentMode": "SimpleScalable",  # v:59
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": config.topology.loki_replication_factor},  # v:423-425
            "limits_config": {"retention_period": config.loki.retention},
            # The compactor runs on the backend; its delete requests live in the object store.
            "compactor": {"retention_enabled": True, "delete_request_store": "s3"},
            "schemaConfig": loki_base.schema_config("s3"),
            "storage": loki_base.object_storage(config),
        },
        "singleBinary": {"replicas": 0},  # v:1456
        "write": _target(config, persistent=True),  # v:1578
        "read": _target(config, persistent=False),  # v:1720
        "backend": _target(config, persistent=True),  # v:1857
        # Grafana and Alloy talk to the gateway, which routes pushes to write and queries to read.
        "gateway": {"enabled": True, "replicas": GATEWAY_REPLICAS},  # v:1054
        **loki_base.common(),
    }
    out = deep_merge(out, loki_base.disruption_budget(config, "gateway"))
    return deep_merge(out, loki_base.release_specific(config))
