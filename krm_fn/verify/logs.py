"""The checks of `verify` that ask the log path and Grafana through the API server's service proxy.

Grafana is healthy with its Prometheus and Loki datasources provisioned (or imported by
grafana-operator); Loki received the stack's logs; every component of Alloy's pipeline is healthy.
What a check returns: krm_fn/verify/report.py.
"""

from __future__ import annotations

from urllib.parse import quote

import yaml

from krm_fn.verify.kube import Kube, KubeError, service_proxy
from krm_fn.verify.report import Check, _failed_call
from krm_fn.verify.stack import Expected

GRAFANA_OPERATOR_API = "/apis/grafana.integreatly.org/v1beta1"


def _operator_datasources(kube: Kube, expected: Expected) -> list[Check]:
    """grafana-operator mode: the GrafanaDatasources of Prometheus and Loki exist and report no failure."""
    name = "Grafana datasources"
    ns = expected.namespace
    advice = f"kubectl -n {ns} get grafanadatasources; kubectl -n {ns} describe grafanadatasource"
    try:
        listing = kube.get(f"{GRAFANA_OPERATOR_API}/namespaces/{ns}/grafanadatasources")
    except KubeError as err:
        return _failed_call(name, err, advice)
    types = set()
    for item in listing.get("items", []) if isinstance(listing, dict) else []:
        conditions = (item.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "DatasourceSynchronized" and c.get("status") == "False" for c in conditions):
            continue  # not imported into the instance
        types.add(str(((item.get("spec") or {}).get("datasource") or {}).get("type")))
    missing = [t for t in ("prometheus", "loki") if t not in types]
    if missing:
        return [Check(name, False, "no synchronized GrafanaDatasource of type " + ", ".join(missing), advice)]
    return [Check(name, True, "Prometheus and Loki imported by grafana-operator")]


def grafana(kube: Kube, expected: Expected) -> list[Check]:
    """Grafana is healthy and its Loki and Prometheus datasources are provisioned."""
    svc = expected.grafana
    ns = expected.namespace
    out = []
    advice = f"kubectl -n {ns} logs deploy/{svc.name} -c grafana"
    try:
        health = kube.get(service_proxy(ns, svc.name, svc.port, "/api/health"))
        ok = isinstance(health, dict) and health.get("database") == "ok"
        version = health.get("version", "?") if isinstance(health, dict) else "?"
        out.append(
            Check(
                "Grafana health",
                ok,
                f"database ok, version {version}" if ok else "database not ok",
                "" if ok else advice,
            )
        )
    except KubeError as err:
        out.extend(_failed_call("Grafana health", err, advice))
    if expected.grafana_operator:
        return [*out, *_operator_datasources(kube, expected)]
    name = "Grafana datasources"
    ds_advice = (
        f"kubectl -n {ns} get configmaps -l grafana_datasource=1; "
        f"kubectl -n {ns} logs deploy/{svc.name} -c grafana-sc-datasources"
    )
    try:
        listing = kube.get(f"/api/v1/namespaces/{ns}/configmaps?labelSelector={quote('grafana_datasource=1')}")
    except KubeError as err:
        return [*out, *_failed_call(name, err, ds_advice)]
    types = set()
    for cm in listing.get("items", []) if isinstance(listing, dict) else []:
        for text in (cm.get("data") or {}).values():
            try:
                doc = yaml.safe_load(text) or {}
            except yaml.YAMLError:
                continue
            for ds in doc.get("datasources", []) if isinstance(doc, dict) else []:
                if isinstance(ds, dict):
                    types.add(str(ds.get("type")))
    missing = [t for t in ("prometheus", "loki") if t not in types]
    if missing:
        out.append(Check(name, False, "no provisioned datasource of type " + ", ".join(missing), ds_advice))
    else:
        out.append(Check(name, True, "Prometheus and Loki provisioned"))
    return out


def loki_logs(kube: Kube, expected: Expected) -> list[Check]:
    """Loki received logs from the stack's namespace in the last 10 minutes (Alloy ships them)."""
    svc = expected.loki
    ns = expected.namespace
    name = f"Loki logs from {ns}"
    advice = f"kubectl -n {ns} logs statefulset/alloy | grep -i error; kubectl -n {ns} logs statefulset/loki"
    query = quote(f'sum(count_over_time({{namespace="{ns}"}}[10m]))')
    try:
        answer = kube.get(service_proxy(ns, svc.name, svc.port, "/loki/api/v1/query", f"query={query}"))
    except KubeError as err:
        return _failed_call(name, err, advice)
    result = (answer.get("data") or {}).get("result", []) if isinstance(answer, dict) else []
    count = 0.0
    for sample in result:
        try:
            count += float(sample.get("value", [0, "0"])[1])
        except (TypeError, ValueError, IndexError):
            continue
    if count <= 0:
        return [Check(name, False, "no log lines in the last 10 minutes", advice)]
    return [Check(name, True, f"{int(count)} lines in the last 10 minutes")]


def alloy_components(kube: Kube, expected: Expected) -> list[Check]:
    """Every component of Alloy's pipeline is healthy."""
    svc = expected.alloy
    ns = expected.namespace
    name = "Alloy components"
    advice = f"kubectl -n {ns} port-forward statefulset/alloy {svc.port}, then open http://localhost:{svc.port}"
    try:
        answer = kube.get(service_proxy(ns, svc.name, svc.port, "/api/v0/web/components"))
    except KubeError as err:
        return _failed_call(name, err, advice)
    components = answer if isinstance(answer, list) else []
    unhealthy = []
    for component in components:
        health = component.get("health") or {}
        if health.get("state") != "healthy":
            reason = health.get("message") or health.get("state") or "no health reported"
            unhealthy.append(f"{component.get('localID') or component.get('name')} ({reason})")
    if not components:
        return [Check(name, False, "no components reported", advice)]
    if unhealthy:
        return [Check(name, False, f"{len(unhealthy)} of {len(components)} unhealthy: " + "; ".join(unhealthy), advice)]
    return [Check(name, True, f"all {len(components)} healthy")]
