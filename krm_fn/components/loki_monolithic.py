"""Loki's single binary: one on a filesystem volume (SingleBinary), or several on object storage (Monolithic).

`v:` lines are in third_party/upstream/charts/loki-6.55.0/values.yaml. Monolithic is what Loki's
docs call "HA monolithic": every replica runs every target (-target=all), pushes are replicated to
`spec.loki.replicationFactor` of them, the chunks and index live in spec.objectStorage, and a single
compactor is elected through its ring (Loki pkg/compactor/compactor.go at v3.7.6: "Ring used for
running a single compactor"). The chart keeps the replicas on separate nodes (a required
anti-affinity, v:1519) and the `loki` Service balances over them, so no gateway is needed.
"""

from __future__ import annotations

from krm_fn.components import loki_base
from krm_fn.components.common import deep_merge
from krm_fn.config import Config


def _loki_config(config: Config, replicated: bool) -> dict:
    store = "s3" if replicated else "filesystem"
    return {
        "auth_enabled": False,  # v:387; single tenant, no X-Scope-OrgID
        # v:423-425; one copy of each stream on a single binary's own volume.
        "commonConfig": {"replication_factor": config.topology.loki_replication_factor if replicated else 1},
        "limits_config": {"retention_period": config.loki.retention},  # v:413
        # Without these the compactor only compacts and never deletes; retention_enabled without
        # delete_request_store makes Loki fail at startup (v:576, docs/reference/charts.md#6-loki-audit).
        # On object storage the delete requests live in the bucket, where every replica sees them.
        "compactor": {"retention_enabled": True, "delete_request_store": store},
        "schemaConfig": loki_base.schema_config(store),
        "storage": loki_base.object_storage(config) if replicated else {"type": "filesystem"},  # v:438
    }


def _single_binary(config: Config, replicated: bool) -> dict:
    out: dict = {
        # v:1456 defaults to 0. SingleBinary: 1, the filesystem store is not shared.
        "replicas": config.topology.loki_replicas if replicated else 1,
        "resources": config.loki.resources.to_values(),
        # The log store (SingleBinary), or the write-ahead log and the compactor's files (Monolithic):
        # kept when the StatefulSet is deleted or scaled (v:1537-1543).
        "persistence": loki_base.persistence(config, retain=True),
    }
    if replicated:
        out["extraArgs"] = [loki_base.EXPAND_ENV]
        out["extraEnv"] = loki_base.credentials_env(config)
    return out


def values(config: Config) -> dict:
    """The chart values of SingleBinary or Monolithic, before the user's spec.values overrides."""
    replicated = config.topology.loki_mode == "Monolithic"
    out = {
        "deploymentMode": loki_base.deployment_mode(config.chart_data[loki_base.CHART]),  # v:59
        "loki": _loki_config(config, replicated),
        "singleBinary": _single_binary(config, replicated),
        # The simple-scalable targets default to 3 replicas each; the chart refuses both modes at once.
        "backend": {"replicas": 0},  # v:1857
        "read": {"replicas": 0},  # v:1720
        "write": {"replicas": 0},  # v:1578
        "gateway": {"enabled": False},  # v:1054; clients talk to the loki Service on 3100
        **loki_base.common(),
    }
    if replicated and config.topology.loki_replicas > 1:
        out = deep_merge(out, loki_base.disruption_budget(config, "singleBinary"))
    return deep_merge(out, loki_base.release_specific(config))
