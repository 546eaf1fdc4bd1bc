"""Rule `storage-nfs`: Prometheus' or Loki's data on an NFS StorageClass.

Prometheus: "Non-POSIX compliant filesystems are not supported for Prometheus' local storage as
unrecoverable corruptions may happen. NFS filesystems (including AWS's EFS) are not supported"
(prometheus docs/storage.md, Operational aspects). Loki: "using shared filesystems is likely going
to be a bad experience with Loki just as it is for almost every other application" (grafana/loki
docs/sources/operations/storage/filesystem.md, High Availability); its TSDB index and WAL are
memory-mapped files. A class says NFS by its name, or by the provisioner of a StorageClass in the
pipeline (nfs.csi.k8s.io, nfs-subdir-external-provisioner...); with no class set, by the pipeline's
default StorageClass.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dig, on_config, rule
from krm_fn.config import OBJECT_STORAGE_MODES, Config, Workload
from krm_fn.results import Result, Severity

RULE = "storage-nfs"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DOCS = "docs/operations/storage.md"

# spec field -> (what lives there, why NFS is wrong for it)
_DATA = {
    "prometheus": (
        "Prometheus' TSDB",
        'Prometheus does not support NFS for its local storage ("unrecoverable corruptions may happen", '
        "prometheus.io/docs/prometheus/latest/storage)",
    ),
    "loki": (
        "Loki's index, chunks and WAL",
        'Loki\'s docs call shared filesystems "likely going to be a bad experience" (its memory-mapped '
        "TSDB index and WAL)",
    ),
}


def _workloads(config: Config) -> dict[str, Workload]:
    return {"prometheus": config.prometheus, "loki": config.loki}


def _classes(ctx: CheckContext) -> list[dict]:
    """The StorageClasses the pipeline holds (name, provisioner, default)."""
    out = []
    for item in ctx.user_objects("StorageClass"):
        obj = item.obj
        annotations = dig(obj, ("metadata", "annotations"), {}) or {}
        out.append(
            {
                "name": str(dig(obj, ("metadata", "name"), "")),
                "provisioner": str(obj.get("provisioner", "")),
                "default": str(annotations.get(DEFAULT_CLASS_ANNOTATION, "")).lower() == "true",
            }
        )
    return out


def _says_nfs(text: str) -> bool:
    return "nfs" in text.lower()


def _nfs_reason(name: str | None, classes: list[dict]) -> str | None:
    """Why the class (None: the cluster's default) is NFS, or None when nothing says so."""
    if name is None:
        for found in classes:
            if found["default"] and (_says_nfs(found["provisioner"]) or _says_nfs(found["name"])):
                return f"the cluster's default StorageClass {found['name']} (provisioner {found['provisioner']})"
        return None
    for found in classes:
        if found["name"] == name and _says_nfs(found["provisioner"]):
            return f"StorageClass {name} (provisioner {found['provisioner']})"
    if _says_nfs(name):
        return f"StorageClass {name} (its name says NFS)"
    return None


@rule(RULE, Severity.WARNING, "Prometheus' and Loki's data are not on an NFS StorageClass")
def check_storage(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    classes = _classes(ctx)
    for name, workload in _workloads(config).items():
        if name == "loki" and config.topology.loki_mode in OBJECT_STORAGE_MODES:  # the logs are in the bucket
            what, why = "Loki's write-ahead log and compactor files", _DATA["loki"][1]
        else:
            what, why = _DATA[name]
        storage_class = config.storage_class_of(workload)
        reason = _nfs_reason(storage_class, classes)
        if reason is None:
            continue
        field = f"spec.{name}.storageClass" if workload.storage_class else "spec.storageClass"
        yield on_config(
            RULE,
            Severity.WARNING,
            f"{what} would be on {reason}: {why}; set spec.{name}.storageClass to a local or block class "
            f"(local-path, Longhorn, OpenEBS, a CSI block volume) and keep NFS for the rest ({DOCS})",
            config,
            field,
        )
