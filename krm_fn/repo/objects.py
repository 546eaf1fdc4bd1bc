"""Objects as a build emits them: the file's own text, with the namespace and name the build gives."""

from __future__ import annotations

from krm_fn import yaml as yamlio
from krm_fn.items import Item

# kustomize's namespace transformer leaves these alone (its built-in cluster-scoped kinds, the
# ones a homelab repository holds); every other kind, CRDs' kinds included, gets the namespace.
CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterSecretStore",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "GatewayClass",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeSnapshotClass",
    }
)


class Piece:
    """One document of a file as a build uses it: the namespace a `namespace:` gave it, if any."""

    __slots__ = ("file", "namespace", "raw")

    def __init__(self, file: str, raw: yamlio.RawItem, namespace: str | None = None):
        self.file = file
        self.raw = raw
        self.namespace = namespace


def head(raw: yamlio.RawItem) -> dict:
    """apiVersion, kind, name, namespace of a document: from the cheap scan, or parsed ({} if it does not parse)."""
    if raw.header is not None:
        return raw.header
    try:
        data = yamlio.parse_raw_item(raw)
    except yamlio.YamlError:
        return {}
    if not isinstance(data, dict):
        return {}
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    return {
        "apiVersion": text(data.get("apiVersion")),
        "kind": text(data.get("kind")),
        "name": text(meta.get("name")),
        "namespace": text(meta.get("namespace")),
    }


class BuiltItem(Item):
    """An Item whose namespace (and, for a Namespace, name) the build set. The raw item is the
    file's own (lines point into it, and it is parsed once however many builds use it); the data
    is a copy with the build's metadata once parsed. `builds` counts the builds of one cluster
    that emit it alike."""

    def __init__(self, raw: yamlio.RawItem, file: str, namespace: str | None = None, name: str | None = None):
        super().__init__(raw=raw, file=file)
        self.set_namespace = namespace
        self.set_name = name
        self.builds = 1
        self._applied = namespace is None and name is None

    @property
    def obj(self) -> dict:
        data = Item.obj.fget(self)  # type: ignore[attr-defined]
        if not self._applied:
            self._applied = True
            meta = data.get("metadata")
            if isinstance(meta, dict):
                meta = dict(meta)
                if self.set_namespace is not None:
                    meta["namespace"] = self.set_namespace
                if self.set_name is not None:
                    meta["name"] = self.set_name
                data = self.data = {**data, "metadata": meta}
        return data

    def _header(self, key: str) -> str | None:
        if key == "namespace" and self.set_namespace is not None:
            return self.set_namespace
        if key == "name" and self.set_name is not None:
            return self.set_name
        return super()._header(key)
