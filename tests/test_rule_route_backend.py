"""route-backend: backendRefs against the Services the charts create.

Facts: docs/reference/charts.md#2-service-names-and-ports.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from krm_fn.charts import UI_SERVICES
from krm_fn.checks.route_backend import check_backends
from tests.helpers import (
    DEFAULT_CONFIG_FILE,
    GATEWAY,
    config_with,
    context,
    run_cli,
    summary,
    user_route,
)
from tests.helpers import (
    rule_run as run,
)

# --- route-backend -------------------------------------------------------------------------


def test_generated_backends_are_the_chart_services():
    assert run(check_backends) == []
    routes = [item for item in context().generated if item.kind == "HTTPRoute"]
    sent_to = {item.name: item.obj["spec"]["rules"][0]["backendRefs"][0] for item in routes}
    assert sent_to == {ui: {"name": s.name, "port": s.port} for ui, s in UI_SERVICES.items()}


def test_a_generated_backend_that_is_not_the_chart_service_is_reported_as_our_bug():
    ctx = context()
    route = next(item for item in ctx.generated if item.kind == "HTTPRoute" and item.name == "grafana")
    route.obj["spec"]["rules"][0]["backendRefs"][0] = {"name": "grafana", "port": 3000}
    results = list(check_backends(ctx))
    assert summary(results) == [
        ("route-backend", "error", "spec.rules[0].backendRefs[0]", "HTTPRoute monitoring/grafana")
    ]
    assert results[0].message.startswith("observability-fn bug:")
    assert "Service monitoring/kube-prometheus-stack-grafana:80" in results[0].message


@pytest.mark.parametrize(
    ("values", "field", "severity"),
    [
        ({"grafana": {"service": {"port": 8080}}}, "spec.values.kube-prometheus-stack.grafana.service.port", "error"),
        (
            {"prometheus": {"service": {"port": 9091}}},
            "spec.values.kube-prometheus-stack.prometheus.service.port",
            "error",
        ),
        (
            {"grafana": {"service": {"enabled": False}}},
            "spec.values.kube-prometheus-stack.grafana.service.enabled",
            "error",
        ),
        (
            {"alertmanager": {"service": {"port": "9094"}}},
            "spec.values.kube-prometheus-stack.alertmanager.service.port",
            "error",
        ),
        (
            {"grafana": {"fullnameOverride": "grafana"}},
            "spec.values.kube-prometheus-stack.grafana.fullnameOverride",
            "warning",
        ),
        (
            {"grafana": {"nameOverride": "dashboards"}},
            "spec.values.kube-prometheus-stack.grafana.nameOverride",
            "warning",
        ),
    ],
)
def test_values_that_move_a_ui_service_are_reported(values, field, severity):
    results = run(check_backends, config=config_with(values={"kube-prometheus-stack": values}))
    assert [(r.field, r.severity.value) for r in results] == [(field, severity)]
    assert str(results[0].resource) == "ObservabilityConfig observability"


def test_kube_prometheus_stack_rename_warns_for_each_of_its_uis():
    results = run(check_backends, config=config_with(values={"kube-prometheus-stack": {"fullnameOverride": "kps"}}))
    assert [(r.field, r.severity.value) for r in results] == [
        ("spec.values.kube-prometheus-stack.fullnameOverride", "warning")
    ]  # once, naming the routes to Prometheus and Alertmanager; Grafana is a subchart with its own name
    assert "HTTPRoute monitoring/prometheus (kube-prometheus-stack-prometheus:9090) and HTTPRoute" in results[0].message
    assert "monitoring/alertmanager (kube-prometheus-stack-alertmanager:9093)" in results[0].message


def test_values_that_keep_the_service_pass():
    values = {
        "kube-prometheus-stack": {"grafana": {"service": {"port": 80}}, "fullnameOverride": ""},
        "alloy": {"alloy": {"listenPort": 12345}},
    }
    assert run(check_backends, config=config_with(values=values)) == []


def test_alloy_service_disabled_is_an_error():
    results = run(check_backends, config=config_with(values={"alloy": {"service": {"enabled": False}}}))
    assert [(r.field, r.severity.value) for r in results] == [("spec.values.alloy.service.enabled", "error")]
    assert "spec.ui.alloy.enabled: false" in results[0].message


def backend_route(name: str, namespace: str = "monitoring", port: int = 80) -> str:
    return user_route(
        "ui",
        f"""
        parentRefs: [{{name: traefik-gateway, namespace: traefik}}]
        hostnames: [ui.catinthehack.ca]
        rules: [{{backendRefs: [{{name: {name}, namespace: {namespace}, port: {port}}}]}}]
        """,
        namespace="apps",
    )


@pytest.mark.parametrize(
    ("name", "port"),
    [
        ("kube-prometheus-stack-grafana", 80),
        ("kube-prometheus-stack-prometheus", 9090),
        ("kube-prometheus-stack-alertmanager", 9093),
        ("alloy", 12345),
        ("loki", 3100),
        ("prometheus-operated", 9090),  # created by the operator: real, so left alone
        ("alertmanager-operated", 9093),
        ("kube-prometheus-stack-kube-state-metrics", 8080),
        ("my-app", 8080),
    ],
)
def test_user_backends_that_are_right_or_not_ours_pass(name, port):
    assert run(check_backends, {"r.yaml": backend_route(name, port=port)}) == []


def test_user_backends_outside_the_stack_namespace_are_not_ours():
    assert run(check_backends, {"r.yaml": backend_route("grafana", namespace="apps", port=3000)}) == []


@pytest.mark.parametrize(
    ("name", "port", "field", "fix"),
    [
        ("grafana", 80, "name", "use name: kube-prometheus-stack-grafana, port: 80"),
        ("prometheus", 9090, "name", "use name: kube-prometheus-stack-prometheus, port: 9090"),
        ("kps-alertmanager", 9093, "name", "use name: kube-prometheus-stack-alertmanager, port: 9093"),
        ("kube-prometheus-stack-grafna", 80, "name", "use name: kube-prometheus-stack-grafana, port: 80"),
        ("kube-prometheus-stack-grafana", 3000, "port", "use port: 80"),
        ("alloy", 80, "port", "use port: 12345"),
    ],
)
def test_user_backends_that_mean_our_services_but_miss_are_warnings(name, port, field, fix):
    results = run(check_backends, {"r.yaml": backend_route(name, port=port)})
    assert summary(results) == [
        ("route-backend", "warning", f"spec.rules[0].backendRefs[0].{field}", "HTTPRoute apps/ui")
    ]
    assert results[0].message.endswith(fix), results[0].message


# --- end to end -------------------------------------------------------------------------------


def test_check_command_over_a_directory(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG_FILE, repo / "observability.yaml")
    (repo / "traefik-gateway.yaml").write_text(textwrap.dedent(GATEWAY).lstrip("\n"))
    (repo / "apps" / "route.yaml").write_text(
        textwrap.dedent(backend_route("grafana"))
        .lstrip("\n")
        .replace("ui.catinthehack.ca", "prometheus.catinthehack.ca")
    )
    proc = run_cli("check", str(repo))
    out = proc.stdout.decode()
    assert proc.returncode == 1, (out, proc.stderr.decode())
    assert "Traceback" not in proc.stderr.decode()
    lines = [line for line in out.splitlines() if "[route-" in line]
    assert lines == [
        f"{repo}/apps/route.yaml:8: error [route-overlap] HTTPRoute apps/ui spec.hostnames[0]: hostname "
        "prometheus.catinthehack.ca with path PathPrefix / is also claimed by the generated HTTPRoute "
        "monitoring/prometheus (path PathPrefix /) on Gateway traefik/traefik-gateway: requests that match both "
        "go to only one of them; give one route another hostname or path, or attach them to different listeners "
        "with sectionName; to drop the generated route instead, set spec.ui.prometheus.enabled: false in "
        "ObservabilityConfig observability",
        f"{repo}/apps/route.yaml:9: warning [route-backend] HTTPRoute apps/ui spec.rules[0].backendRefs[0].name: "
        "backendRef 'grafana' looks like the grafana Service, but the kube-prometheus-stack chart creates it as "
        "kube-prometheus-stack-grafana (port 80): use name: kube-prometheus-stack-grafana, port: 80",
    ], out
