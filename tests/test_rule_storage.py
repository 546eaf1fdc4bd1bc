"""The `storage-nfs` rule: Prometheus' and Loki's data on an NFS StorageClass (by name or provisioner)."""

from __future__ import annotations

from krm_fn.checks.storage import check_storage
from tests.helpers import config_with, context

NAS = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: nas
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: nfs.csi.k8s.io
"""
LOCAL = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
provisioner: rancher.io/local-path
"""


def findings(files: dict | None = None, **spec) -> list[tuple[str | None, str]]:
    ctx = context(files or {}, config=config_with(**spec))
    return [(r.field, r.message.split(":")[0]) for r in check_storage(ctx)]


def test_the_default_config_is_on_a_class_named_nfs():
    assert findings() == [
        ("spec.storageClass", "Prometheus' TSDB would be on StorageClass nfs (its name says NFS)"),
        ("spec.storageClass", "Loki's index, chunks and WAL would be on StorageClass nfs (its name says NFS)"),
    ]


def test_a_component_class_of_its_own_moves_it_off_nfs():
    assert findings(prometheus={"storageClass": "local-path"}, loki={"storageClass": "local-path"}) == []
    assert [f for f, _ in findings(prometheus={"storageClass": "local-path"})] == ["spec.storageClass"]


def test_the_provisioner_says_nfs_whatever_the_name():
    got = findings({"sc.yaml": NAS}, storageClass="nas", loki={"storageClass": "local-path"})
    assert got == [("spec.storageClass", "Prometheus' TSDB would be on StorageClass nas (provisioner nfs.csi.k8s.io)")]


def test_the_cluster_default_class_counts_when_none_is_set():
    config = config_with()
    del config["spec"]["storageClass"]
    ctx = context({"sc.yaml": NAS + "---" + LOCAL}, config=config)
    assert [r.message.split(":")[0] for r in check_storage(ctx)] == [
        "Prometheus' TSDB would be on the cluster's default StorageClass nas (provisioner nfs.csi.k8s.io)",
        "Loki's index, chunks and WAL would be on the cluster's default StorageClass nas (provisioner nfs.csi.k8s.io)",
    ]
    assert list(check_storage(context({"sc.yaml": LOCAL}, config=config))) == []


def test_a_local_class_is_quiet():
    assert findings({"sc.yaml": LOCAL}, storageClass="local-path") == []
