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
    """An Item whose namespace (and, for a Namespace, name) the build set: the text stays the
    file's, so lines point into it, and the data gets the values once parsed."""

    def __init__(self, raw: yamlio.RawItem, file: str, namespace: str | None = None, name: str | None = None):
        # A copy of the raw item: the same document may be built twice with different namespaces.
        header = dict(raw.header) if raw.header is not None else None
        super().__init__(raw=yamlio.RawItem(raw.text, raw.form, raw.line, header), file=file)
        self.set_namespace = namespace
        self.set_name = name
        self._applied = False

    @property
    def obj(self) -> dict:
        data = Item.obj.fget(self)  # type: ignore[attr-defined]
        if not self._applied:
            self._applied = True
            meta = data.get("metadata")
            if isinstance(meta, dict):
                if self.set_namespace is not None:
                    meta["namespace"] = self.set_namespace
                if self.set_name is not None:
                    meta["name"] = self.set_name
        return data

    def _header(self, key: str) -> str | None:
        if key == "namespace" and self.set_namespace is not None:
            return self.set_namespace
        if key == "name" and self.set_name is not None:
            return self.set_name
        return super()._header(key)
