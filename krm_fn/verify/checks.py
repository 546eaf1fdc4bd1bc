"""The checks of `observability-fn verify`: one function per thing a healthy stack shows.

Each check takes the cluster (`Kube`) and what the config expects (`Expected`) and returns Checks;
none raises for an unhealthy cluster (a kubectl failure is a failed check with its message).
Nothing read from a Secret is ever put in a Check.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import yaml

from krm_fn.verify.kube import Kube, KubeError, condition, service_proxy
from krm_fn.verify.stack import GATEWAY_API, HELM_API, KUSTOMIZE_API, SOURCE_API, SOURCE_KINDS, Expected

TEST_ALERT_NAME = "ObservabilityFnTestAlert"
TEST_ALERT_MINUTES = 5


class Check:
    """One line of the report: what was checked, whether it holds, and what to run when it does not."""

    def __init__(self, name: str, ok: bool, detail: str, advice: str = ""):
        self.name, self.ok, self.detail, self.advice = name, ok, detail, advice

    def to_json(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "advice": self.advice}


def _failed_call(name: str, err: KubeError, advice: str) -> list[Check]:
    return [Check(name, False, f"could not ask the cluster: {err}", advice)]


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


def prometheus_targets(kube: Kube, expected: Expected) -> list[Check]:
    """Every active scrape target is up, and the Flux PodMonitor has targets."""
    svc = expected.prometheus
    advice = f"kubectl -n {expected.namespace} port-forward svc/{svc.name} {svc.port}, then open http://localhost:{svc.port}/targets"
    path = service_proxy(expected.namespace, svc.name, svc.port, "/api/v1/targets", "state=active")
    try:
        answer = kube.get(path)
    except KubeError as err:
        return _failed_call("Prometheus targets", err, advice)
    targets = (answer.get("data") or {}).get("activeTargets", []) if isinstance(answer, dict) else []
    down = [t for t in targets if t.get("health") != "up"]
    out = []
    if not targets:
        out.append(Check("Prometheus targets", False, "no active targets", advice))
    elif down:
        shown = "; ".join(
            f"{t.get('labels', {}).get('job', t.get('scrapePool'))} {t.get('labels', {}).get('instance', '')} "
            f"({t.get('lastError') or t.get('health')})"
            for t in down[:5]
        )
        more = f" and {len(down) - 5} more" if len(down) > 5 else ""
        out.append(Check("Prometheus targets", False, f"{len(down)} of {len(targets)} down: {shown}{more}", advice))
    else:
        out.append(Check("Prometheus targets", True, f"all {len(targets)} up"))
    for monitor in expected.pod_monitors:
        pool = f"podMonitor/{monitor.namespace}/{monitor.name}/"
        found = [t for t in targets if str(t.get("scrapePool", "")).startswith(pool)]
        name = f"PodMonitor {monitor.namespace}/{monitor.name} targets"
        if found:
            out.append(Check(name, True, f"{len(found)} target(s)"))
        else:
            out.append(
                Check(
                    name,
                    False,
                    "no target: Prometheus does not scrape the Flux controllers",
                    f"kubectl -n {monitor.namespace} get podmonitor {monitor.name} -o yaml; "
                    "kubectl -n flux-system get pods --show-labels",
                )
            )
    return out


def prometheus_rules(kube: Kube, expected: Expected) -> list[Check]:
    """The alert rules the config generates are loaded by Prometheus."""
    svc = expected.prometheus
    name = "Prometheus alert rules"
    ns = expected.namespace
    advice = f"kubectl -n {ns} get prometheusrules; kubectl -n {ns} logs prometheus-{svc.name}-0 -c config-reloader"
    try:
        answer = kube.get(service_proxy(expected.namespace, svc.name, svc.port, "/api/v1/rules", "type=alert"))
    except KubeError as err:
        return _failed_call(name, err, advice)
    groups = (answer.get("data") or {}).get("groups", []) if isinstance(answer, dict) else []
    loaded = {rule.get("name") for group in groups for rule in group.get("rules", [])}
    missing = [alert for alert in expected.alert_names if alert not in loaded]
    if missing:
        return [Check(name, False, "not loaded: " + ", ".join(missing), advice)]
    return [
        Check(name, True, f"{len(expected.alert_names)} generated rules loaded ({', '.join(expected.alert_names)})")
    ]


HEARTBEAT_WINDOW = "15m"


def _prometheus_value(kube: Kube, expected: Expected, expr: str) -> float:
    """One instant query through the API server's service proxy; 0 when the result is empty."""
    svc = expected.prometheus
    answer = kube.get(service_proxy(expected.namespace, svc.name, svc.port, "/api/v1/query", f"query={quote(expr)}"))
    result = (answer.get("data") or {}).get("result", []) if isinstance(answer, dict) else []
    try:
        return sum(float(sample["value"][1]) for sample in result)
    except (KeyError, IndexError, TypeError, ValueError):
        return 0.0


def heartbeat(kube: Kube, expected: Expected) -> list[Check]:
    """The dead-man's switch fired: Alertmanager's webhook (the heartbeat receiver) sent pings that got through.

    Alertmanager counts each HTTP request per integration (alertmanager_notification_requests_total and
    _failed_total{integration="webhook"}; 0.28 has no receiver label), and the stack has one webhook
    receiver, the heartbeat. Read from Prometheus, which scrapes Alertmanager (the chart's ServiceMonitor).
    """
    if expected.config.alerting.heartbeat is None:
        return []  # the heartbeat-missing rule says so at render time
    name = "Heartbeat"
    ns = expected.namespace
    key = expected.config.alerting.heartbeat.url_key
    advice = (
        f"kubectl -n {ns} logs statefulset/alertmanager-{expected.alertmanager.name} | grep -i webhook; "
        f"check the URL in Secret {expected.config.secret_name} key {key} (docs/operations/heartbeat.md)"
    )
    window = HEARTBEAT_WINDOW
    requests = 'alertmanager_notification_requests{}_total{{integration="webhook"}}'
    try:
        sent = _prometheus_value(kube, expected, f"sum(increase({requests.format('')}[{window}]))")
        failed = _prometheus_value(kube, expected, f"sum(increase({requests.format('_failed')}[{window}]))")
    except KubeError as err:
        return _failed_call(name, err, advice)
    if sent < 0.5:
        return [
            Check(
                name,
                False,
                f"no ping in the last {window}: is Watchdog firing, and routed to the heartbeat receiver?",
                f"kubectl -n {ns} port-forward svc/{expected.alertmanager.name} {expected.alertmanager.port}, "
                f"then open http://localhost:{expected.alertmanager.port}/#/alerts?filter=%7Balertname%3D%22Watchdog%22%7D",
            )
        ]
    # A request is counted when it starts and as failed when it ends: one may be in flight.
    if failed >= sent - failed:
        return [Check(name, False, f"{round(failed)} of {round(sent)} pings of the last {window} failed", advice)]
    return [Check(name, True, f"{round(sent - failed)} ping(s) got through in the last {window}")]


def alertmanager_config(kube: Kube, expected: Expected) -> list[Check]:
    """Alertmanager runs the generated receivers, and the Secret with the Pushover key files is mounted."""
    svc = expected.alertmanager
    ns = expected.namespace
    statefulset = f"alertmanager-{svc.name}"
    advice = (
        f"kubectl -n {ns} get secret {statefulset}-generated -o yaml; kubectl -n {ns} logs statefulset/{statefulset}"
    )
    out = []
    try:
        status = kube.get(service_proxy(ns, svc.name, svc.port, "/api/v2/status"))
        original = ((status.get("config") or {}).get("original") or "") if isinstance(status, dict) else ""
        loaded = yaml.safe_load(original) or {}
        names = {r.get("name") for r in loaded.get("receivers", []) if isinstance(r, dict)}
        missing = [r for r in expected.receivers if r not in names]
        if missing:
            out.append(Check("Alertmanager receivers", False, "missing: " + ", ".join(missing), advice))
        else:
            out.append(Check("Alertmanager receivers", True, ", ".join(expected.receivers)))
    except (KubeError, yaml.YAMLError, AttributeError) as err:
        detail = str(err) if isinstance(err, KubeError) else "its config status could not be read"
        out.append(Check("Alertmanager receivers", False, detail, advice))
    if expected.alertmanager_secrets:
        out.extend(_secrets_mounted(kube, ns, statefulset, expected.alertmanager_secrets))
    return out


def _secrets_mounted(kube: Kube, ns: str, statefulset: str, secrets: list[str]) -> list[Check]:
    name = "Alertmanager key files"
    advice = f"kubectl -n {ns} get statefulset {statefulset} -o jsonpath='{{.spec.template.spec.volumes}}'"
    selector = quote("app.kubernetes.io/name=alertmanager")
    try:
        pods = kube.get(f"/api/v1/namespaces/{ns}/pods?labelSelector={selector}")
    except KubeError as err:
        return _failed_call(name, err, advice)
    items = pods.get("items", []) if isinstance(pods, dict) else []
    if not items:
        return [Check(name, False, "no Alertmanager pod", f"kubectl -n {ns} get statefulsets,pods")]
    for pod in items:
        volumes = (pod.get("spec") or {}).get("volumes", [])
        mounted = {(v.get("secret") or {}).get("secretName") for v in volumes}
        missing = [s for s in secrets if s not in mounted]
        if missing:
            pod_name = pod.get("metadata", {}).get("name")
            return [Check(name, False, f"pod {pod_name} does not mount Secret {', '.join(missing)}", advice)]
    return [Check(name, True, f"Secret {', '.join(secrets)} mounted in {len(items)} pod(s)")]


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


def send_test_alert(kube: Kube, expected: Expected, now: datetime | None = None) -> Check:
    """Post one warning-level test alert to Alertmanager; it ends by itself after a few minutes."""
    now = now or datetime.now(UTC)
    svc = expected.alertmanager
    alert = {
        "labels": {
            "alertname": TEST_ALERT_NAME,
            "severity": "warning",
            "namespace": expected.namespace,
            "cluster": expected.config.cluster,
            "test": "true",
        },
        "annotations": {
            "summary": "Test alert from observability-fn verify: if this reached your phone, the last mile works.",
        },
        "startsAt": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "endsAt": (now + timedelta(minutes=TEST_ALERT_MINUTES)).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    path = service_proxy(expected.namespace, svc.name, svc.port, "/api/v2/alerts")
    name = "Test alert"
    try:
        kube.post(path, [alert])
    except KubeError as err:
        return Check(
            name,
            False,
            f"not accepted: {err}",
            f"kubectl -n {expected.namespace} logs statefulset/alertmanager-{svc.name}",
        )
    return Check(
        name,
        True,
        f"{TEST_ALERT_NAME} posted (severity warning, ends in {TEST_ALERT_MINUTES} min); "
        "expect a push after the route's group wait",
    )


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


def thanos_stores(kube: Kube, expected: Expected) -> list[Check]:
    """Thanos Query reaches every Prometheus sidecar and every Store Gateway (its /api/v1/stores)."""
    svc = expected.thanos_query
    if svc is None:
        return []
    ns = expected.namespace
    name = "Thanos Query stores"
    advice = f"kubectl -n {ns} port-forward svc/{svc.name} {svc.port}, then open http://localhost:{svc.port}/stores"
    try:
        answer = kube.get(service_proxy(ns, svc.name, svc.port, "/api/v1/stores"))
    except KubeError as err:
        return _failed_call(name, err, advice)
    data = (answer.get("data") or {}) if isinstance(answer, dict) else {}
    missing = []
    found = []
    for store_type, want in expected.thanos_stores.items():
        healthy = [e for e in data.get(store_type) or [] if isinstance(e, dict) and not e.get("lastError")]
        found.append(f"{len(healthy)}/{want} {store_type}")
        if len(healthy) < want:
            missing.append(f"{store_type}: {len(healthy)} of {want} reachable")
    if missing:
        return [Check(name, False, "; ".join(missing), advice)]
    return [Check(name, True, ", ".join(found))]


ALL: tuple[Callable[[Kube, Expected], list[Check]], ...] = (
    flux_kustomizations,
    sources,
    helm_releases,
    prometheus_targets,
    prometheus_rules,
    alertmanager_config,
    heartbeat,
    grafana,
    loki_logs,
    alloy_components,
    replicas,
    thanos_stores,
)


def to_json(checks: list[Check]) -> str:
    failed = sum(not c.ok for c in checks)
    return (
        json.dumps(
            {"checks": [c.to_json() for c in checks], "passed": len(checks) - failed, "failed": failed}, indent=2
        )
        + "\n"
    )
