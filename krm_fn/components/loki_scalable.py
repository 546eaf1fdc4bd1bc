"""Loki in SimpleScalable mode (read, write, backend) on S3-compatible object storage.

`v:` lines are in third_party/upstream/charts/loki-6.55.0/values.yaml. The chart already gives read,
write and backend a PodDisruptionBudget (maxUnavailable 1, v:1678, v:1819, v:1948) and a hard
anti-affinity on the node (v:1666, v:1807, v:1936): replicas spread one per node.
"""

from __future__ import annotations

from krm_fn.components import loki, profile
from krm_fn.components.common import deep_merge
from krm_fn.config import Config

# The credentials reach Loki as environment variables from the user's Secret, and Loki expands
# ${VAR} in its config file with -config.expand-env=true: the values hold only the variable names.
ACCESS_KEY_ENV = "LOKI_S3_ACCESS_KEY_ID"
SECRET_KEY_ENV = "LOKI_S3_SECRET_ACCESS_KEY"
GATEWAY_REPLICAS = 2
FLUX_SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"


def _storage(config: Config) -> dict:
    store = config.topology.object_storage
    assert store is not None  # the schema requires spec.objectStorage for SimpleScalable
    return {  # v:431-447
        "type": "s3",
        "bucketNames": {"chunks": store.loki_chunks_bucket, "ruler": store.loki_ruler_bucket},
        "s3": {
            "endpoint": store.endpoint,
            "region": store.region,
            "accessKeyId": "${" + ACCESS_KEY_ENV + "}",
            "secretAccessKey": "${" + SECRET_KEY_ENV + "}",
            "s3ForcePathStyle": store.path_style,
            "insecure": store.insecure,
        },
    }


def _env(config: Config) -> list[dict]:
    return [
        {"name": env, "valueFrom": {"secretKeyRef": {"name": config.secret_name, "key": key}}}
        for env, key in (
            (ACCESS_KEY_ENV, profile.OBJSTORE_ACCESS_KEY_ID),
            (SECRET_KEY_ENV, profile.OBJSTORE_SECRET_ACCESS_KEY),
        )
    ]


def _target(config: Config, persistent: bool) -> dict:
    out: dict = {
        "replicas": config.topology.loki_replicas,
        "resources": config.loki.resources.to_values(),
        "extraArgs": ["-config.expand-env=true"],
        "extraEnv": _env(config),
    }
    if persistent:
        persistence: dict = {"size": config.loki.storage_size}  # the write WAL; the backend's compactor
        storage_class = config.storage_class_of(config.loki)
        if storage_class:
            persistence["storageClass"] = storage_class
        out["persistence"] = persistence
    return out


def values(config: Config) -> dict:
    """The chart values in SimpleScalable mode, before the user's spec.values overrides."""
    return deep_merge(_values(config), loki.release_specific(config))


def _values(config: Config) -> dict:
    schema = dict(loki.SCHEMA, object_store="s3", index=dict(loki.SCHEMA["index"]))
    return {
        "deploymentMode": "SimpleScalable",  # v:59
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": config.topology.loki_replication_factor},  # v:423-425
            "limits_config": {"retention_period": config.loki.retention},
            # The compactor runs on the backend; its delete requests live in the object store.
            "compactor": {"retention_enabled": True, "delete_request_store": "s3"},
            "schemaConfig": {"configs": [schema]},
            "storage": _storage(config),
        },
        "singleBinary": {"replicas": 0},  # v:1456
        "write": _target(config, persistent=True),  # v:1578
        "read": _target(config, persistent=False),  # v:1720
        "backend": _target(config, persistent=True),  # v:1857
        # Grafana and Alloy talk to the gateway, which routes pushes to write and queries to read.
        "gateway": {"enabled": True, "replicas": GATEWAY_REPLICAS},  # v:1054
        # Off for a small cluster: together the two memcached caches request ~11Gi of memory (v:3658, v:3769).
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "monitoring": {"serviceMonitor": {"enabled": True}},
    }
