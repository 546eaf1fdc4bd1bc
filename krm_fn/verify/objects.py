"""The checks of `verify` that read the status controllers write on the stack's objects.

The API server answers; Flux's Kustomizations, chart sources and HelmReleases are Ready; every
replicated workload has its replicas ready; every generated HTTPRoute is accepted by its Gateway
(and, with --dns, its hostnames resolve). What a check returns: krm_fn/verify/report.py.
"""

from __future__ import annotations

import socket

from krm_fn.verify.kube import Kube, KubeError, condition
from krm_fn.verify.report import Check, _failed_call
from krm_fn.verify.stack import GATEWAY_API, HELM_API, KUSTOMIZE_API, SOURCE_API, SOURCE_KINDS, Expected


def _ready(obj: object) -> tuple[bool, str]:
    cond = condition(obj, "Ready")
    if cond is None:
        return False, "no Ready condition yet"
    message = str(cond.get("message") or cond.get("reason") or "").strip()
    return cond.get("status") == "True", message


def reachable(kube: Kube) -> list[Check]:
    """The API server answers with these credentials; without it no other check means anything."""
    try:
        version = kube.get("/version")
    except KubeError as err:
        context = f" --context {kube.context}" if kube.context else ""
        return [Check("Cluster", False, f"unreachable: {err}", f"kubectl{context} cluster-info")]
    git_version = version.get("gitVersion", "?") if isinstance(version, dict) else "?"
    return [Check("Cluster", True, f"API server {git_version}")]


def flux_kustomizations(kube: Kube, expected: Expected) -> list[Check]:
    """Every Flux Kustomization in the cluster is Ready: the Git side of the stack reconciled."""
    name = "Flux Kustomizations"
    advice = "flux get kustomizations -A"
    try:
        listing = kube.get(f"{KUSTOMIZE_API}/kustomizations")
    except KubeError as err:
        return _failed_call(name, err, "flux check  # is Flux installed, and may you list kustomizations?")
    items = listing.get("items", []) if isinstance(listing, dict) else []
    not_ready = []
    for obj in items:
        ok, message = _ready(obj)
        if not ok:
            meta = obj.get("metadata", {})
            not_ready.append(f"{meta.get('namespace')}/{meta.get('name')} ({message or 'not Ready'})")
    if not items:
        return [Check(name, False, "no Flux Kustomization found", "flux check")]
    if not_ready:
        return [Check(name, False, f"{len(not_ready)} of {len(items)} not Ready: " + "; ".join(not_ready), advice)]
    return [Check(name, True, f"all {len(items)} Ready")]


def sources(kube: Kube, expected: Expected) -> list[Check]:
    """The chart sources (HelmRepository or OCIRepository) are Ready."""
    out = []
    for source in expected.sources:
        plural = SOURCE_KINDS[source.kind]
        path = f"{SOURCE_API}/namespaces/{source.namespace}/{plural}/{source.name}"
        advice = f"flux get sources {'helm' if source.kind == 'HelmRepository' else 'oci'} -n {source.namespace}"
        out.extend(_object_ready(kube, str(source), path, advice))
    return out


def helm_releases(kube: Kube, expected: Expected) -> list[Check]:
    """kube-prometheus-stack, Loki and Alloy are installed and Ready."""
    out = []
    for release in expected.releases:
        path = f"{HELM_API}/namespaces/{release.namespace}/helmreleases/{release.name}"
        advice = (
            f"flux get helmreleases -n {release.namespace}; "
            f"flux logs --kind HelmRelease --name {release.name} -n {release.namespace}"
        )
        out.extend(_object_ready(kube, str(release), path, advice))
    return out


def _object_ready(kube: Kube, name: str, path: str, advice: str) -> list[Check]:
    try:
        obj = kube.get(path)
    except KubeError as err:
        return _failed_call(name, err, advice)
    ok, message = _ready(obj)
    return [
        Check(name, ok, ("Ready" if ok else "not Ready") + (f": {message}" if message else ""), "" if ok else advice)
    ]


def routes(kube: Kube, expected: Expected, dns: bool = False) -> list[Check]:
    """Every generated HTTPRoute is Accepted by its Gateway with its backends resolved (and, with --dns, resolves)."""
    out = []
    for route, hostnames in expected.routes:
        path = f"{GATEWAY_API}/namespaces/{route.namespace}/httproutes/{route.name}"
        advice = f"kubectl -n {route.namespace} describe httproute {route.name}"
        try:
            obj = kube.get(path)
        except KubeError as err:
            out.extend(_failed_call(str(route), err, advice))
            continue
        parents = (obj.get("status") or {}).get("parents", []) if isinstance(obj, dict) else []
        problems = []
        if not parents:
            problems.append("no Gateway has reported on it (is the parentRef right?)")
        for parent in parents:
            ref = parent.get("parentRef", {})
            where = f"{ref.get('namespace', route.namespace)}/{ref.get('name')}"
            for kind in ("Accepted", "ResolvedRefs"):
                cond = condition(parent, kind)
                if cond is None or cond.get("status") != "True":
                    reason = (cond or {}).get("message") or (cond or {}).get("reason") or "no condition"
                    problems.append(f"not {kind} by {where}: {reason}")
        if problems:
            out.append(Check(str(route), False, "; ".join(problems), advice))
        else:
            out.append(Check(str(route), True, "Accepted, ResolvedRefs: " + ", ".join(hostnames)))
        if dns:
            out.extend(_resolves(host) for host in hostnames)
    return out


def _resolves(host: str) -> Check:
    name = f"DNS {host}"
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError) as err:
        return Check(
            name,
            False,
            f"does not resolve ({err.__class__.__name__})",
            f"dig {host}; check the DNS record for the Gateway's address",
        )
    return Check(name, True, ", ".join(addresses))


def replicas(kube: Kube, expected: Expected) -> list[Check]:
    """Every replicated part of the stack has all its replicas ready (the ha profile's point)."""
    ns = expected.namespace
    out = []
    for workload in expected.workloads:
        name = f"{workload.what} replicas"
        kind = workload.plural.rstrip("s")
        advice = f"kubectl -n {ns} describe {kind} {workload.name}"
        try:
            obj = kube.get(f"/apis/apps/v1/namespaces/{ns}/{workload.plural}/{workload.name}")
        except KubeError as err:
            out.extend(_failed_call(name, err, advice))
            continue
        status = (obj.get("status") or {}) if isinstance(obj, dict) else {}
        ready = int(status.get("readyReplicas") or 0)
        want = workload.replicas
        detail = f"{ready}/{want} ready ({kind} {workload.name})"
        out.append(Check(name, ready >= want, detail, "" if ready >= want else advice))
    return out
