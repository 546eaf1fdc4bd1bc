"""The checks of `verify` that ask the metrics and alerting side through the API server's service proxy.

Prometheus scrapes every target and loads the generated rules; Alertmanager runs the generated
receivers with its key files mounted; the heartbeat's pings get through; Thanos Query reaches every
store; and, on request, one test alert is posted. What a check returns: krm_fn/verify/report.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import yaml

from krm_fn.verify.kube import Kube, KubeError, service_proxy
from krm_fn.verify.report import Check, _failed_call
from krm_fn.verify.stack import Expected

TEST_ALERT_NAME = "ObservabilityFnTestAlert"
TEST_ALERT_MINUTES = 5


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
