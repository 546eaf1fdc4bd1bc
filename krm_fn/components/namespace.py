"""The stack's Namespace, with the Pod Security level its pods need and the user's labels and annotations."""

from __future__ import annotations

from krm_fn.components.common import metadata
from krm_fn.config import Config

# Pod Security admission reads this label (kubernetes.io/docs/concepts/security/pod-security-admission).
# node-exporter runs with hostNetwork, hostPID and a read-only hostPath of `/`, which only `privileged`
# admits; Talos enforces `baseline` cluster-wide by default, so without the label its pods are rejected.
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"


def resources(config: Config) -> list[dict]:
    """The Namespace every stack object lives in."""
    ns = config.namespace_metadata
    labels = dict(sorted(ns.labels.items()))
    if ns.pod_security != "none":
        labels[ENFORCE_LABEL] = ns.pod_security
    meta = metadata(config.namespace, labels=labels)
    if ns.annotations:
        meta["annotations"] = dict(sorted(ns.annotations.items()))
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": meta}]
