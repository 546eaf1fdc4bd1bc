"""Every pod a rendered case runs, with the namespace it runs in.

Pods come from the workloads helm renders (the pod template of a Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job or CronJob, or a bare Pod) and from the Prometheus and Alertmanager
objects, whose StatefulSets prometheus-operator builds. For those the pod is inferred the way the
operator builds it (prometheus-operator v0.89.0 and v0.93.0, the releases kube-prometheus-stack
82.18.0 and 88.5.3 ship): the CR's `securityContext` and `hostNetwork` become the pod's
(pkg/prometheus/server/statefulset.go, pkg/alertmanager/statefulset.go: `SecurityContext:
cpf.SecurityContext`, `HostNetwork:`); its own containers run with allowPrivilegeEscalation false,
a read-only root filesystem and every capability dropped (same files, and
pkg/operator/config_reloader.go for config-reloader and init-config-reloader); the CR's
`containers` and `initContainers` are merged into them by name (k8s.MergePatchContainers); its
own volumes are Secrets, projected Secrets, emptyDirs, ConfigMaps and the PVCs of `storage`, and
the CR's `volumes` are added.
"""

from __future__ import annotations

from tests.helm_render import golden, of_kind, releases, rendered

TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
# The container securityContext prometheus-operator writes for every container it makes.
OPERATOR_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
# CR kind -> (containers, init containers) the operator makes.
OPERATOR_CONTAINERS = {
    "Prometheus": (("prometheus", "config-reloader"), ("init-config-reloader",)),
    "Alertmanager": (("alertmanager", "config-reloader"), ("init-config-reloader",)),
}
OPERATOR_VOLUMES = (
    {"name": "config", "secret": {}},
    {"name": "tls-assets", "projected": {}},
    {"name": "config-out", "emptyDir": {}},
    {"name": "web-config", "secret": {}},
)


class Pod:
    """One pod: what made it, its namespace, metadata and spec."""

    def __init__(self, source: str, namespace: str, meta: dict, spec: dict):
        self.source = source
        self.namespace = namespace
        self.meta = meta
        self.spec = spec

    def __repr__(self) -> str:
        return f"{self.source} in {self.namespace}"


def _merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for key, value in patch.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _merge_containers(made: list[dict], given: list[dict]) -> list[dict]:
    by_name = {c["name"]: c for c in made}
    extra = []
    for container in given or []:
        if container["name"] in by_name:
            by_name[container["name"]] = _merge(by_name[container["name"]], container)
        else:
            extra.append(container)
    return list(by_name.values()) + extra


def operator_pod(cr: dict) -> tuple[dict, dict]:
    """(metadata, spec) of the pods prometheus-operator runs for a Prometheus or Alertmanager."""
    spec = cr["spec"]
    names, init_names = OPERATOR_CONTAINERS[cr["kind"]]
    made = [{"name": n, "securityContext": OPERATOR_CONTAINER_SECURITY} for n in names]
    if cr["kind"] == "Prometheus" and spec.get("thanos") is not None:
        made.append({"name": "thanos-sidecar", "securityContext": OPERATOR_CONTAINER_SECURITY})
    init = [{"name": n, "securityContext": OPERATOR_CONTAINER_SECURITY} for n in init_names]
    volumes = [dict(v) for v in OPERATOR_VOLUMES]
    if cr["kind"] == "Alertmanager":
        volumes += [{"name": f"secret-{s}", "secret": {"secretName": s}} for s in spec.get("secrets") or []]
    volumes += [{"name": f"configmap-{c}", "configMap": {"name": c}} for c in spec.get("configMaps") or []]
    volumes += spec.get("volumes") or []
    pod_spec = {
        "containers": _merge_containers(made, spec.get("containers")),
        "initContainers": _merge_containers(init, spec.get("initContainers")),
        "volumes": volumes,
    }
    for key in ("securityContext", "hostNetwork", "hostUsers"):
        if key in spec:
            pod_spec[key] = spec[key]
    meta = dict((spec.get("podMetadata") or {}), name=cr["metadata"]["name"])
    return meta, pod_spec


def release_namespace(case: str, release: str) -> str:
    """The namespace helm-controller installs a HelmRelease into."""
    hr = next(h for h in of_kind(golden(case), "HelmRelease") if h["metadata"]["name"] == release)
    return hr["spec"].get("targetNamespace") or hr["metadata"]["namespace"]


def pods(case: str) -> list[Pod]:
    """Every pod the case's rendered HelmReleases run."""
    out = []
    for release in releases(case):
        default_ns = release_namespace(case, release)
        for obj in rendered(case, release):
            kind, meta = obj.get("kind"), obj.get("metadata") or {}
            namespace = meta.get("namespace") or default_ns
            source = f"{release}: {kind} {meta.get('name')}"
            if kind in TEMPLATE_KINDS:
                template = obj["spec"]["template"]
            elif kind == "CronJob":
                template = obj["spec"]["jobTemplate"]["spec"]["template"]
            elif kind == "Pod":
                template = obj
            elif kind in OPERATOR_CONTAINERS:
                pod_meta, spec = operator_pod(obj)
                out.append(Pod(source + " (operator-made pods)", namespace, pod_meta, spec))
                continue
            else:
                continue
            out.append(Pod(source, namespace, template.get("metadata") or {}, template["spec"]))
    return out
