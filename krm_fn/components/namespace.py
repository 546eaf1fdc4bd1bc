"""The stack's Namespace, with the Pod Security level its pods need and the user's labels and
annotations; and node-exporter's own Namespace, the one place that admits what it needs."""

from __future__ import annotations

from krm_fn.components.common import metadata
from krm_fn.config import Config

# Pod Security admission reads this label (kubernetes.io/docs/concepts/security/pod-security-admission).
# Every pod of the stack meets `baseline` (tests/test_rendered_security.py proves it on the helm
# render), the default of spec.namespaceMetadata.podSecurity. node-exporter runs with hostNetwork,
# hostPID and read-only hostPath mounts of `/`, `/proc` and `/sys`, which only `privileged` admits:
# it runs in a namespace of its own (prometheus-node-exporter.namespaceOverride) that enforces it.
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
NODE_EXPORTER_SUFFIX = "-node-exporter"


def node_exporter_namespace(config: Config) -> str:
    """The namespace node-exporter runs in: `<stack namespace>-node-exporter`."""
    return config.namespace + NODE_EXPORTER_SUFFIX


def resources(config: Config) -> list[dict]:
    """The Namespace every stack object lives in, and node-exporter's."""
    ns = config.namespace_metadata
    labels = dict(sorted(ns.labels.items()))
    if ns.pod_security != "none":
        labels[ENFORCE_LABEL] = ns.pod_security
    meta = metadata(config.namespace, labels=labels)
    if ns.annotations:
        meta["annotations"] = dict(sorted(ns.annotations.items()))
    node_exporter = metadata(node_exporter_namespace(config), labels={ENFORCE_LABEL: "privileged"})
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": meta},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": node_exporter},
    ]
