"""The route rules: overlapping claims, attachment to the Gateway, backends (crds.md section 5, charts.md section 2)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

import krm_fn.checks.routes  # noqa: F401 - registers the route rules (also listed in krm_fn.checks)
from krm_fn.charts import UI_SERVICES
from krm_fn.checks.routes import (
    PathMatch,
    check_attachment,
    check_backends,
    check_overlap,
    paths_overlap,
    selector_matches,
)
from krm_fn.results import Severity
from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, config_with, default_config, run_cli, run_krm
from tests.test_rule_hostnames import context, route_yaml, run
from tests.tools import tool

GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: traefik-gateway
  namespace: traefik
spec:
  gatewayClassName: traefik
  listeners:
    - name: web
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: All
    - name: websecure
      port: 443
      protocol: HTTPS
      hostname: "*.catinthehack.ca"
      allowedRoutes:
        namespaces:
          from: All
"""


def user_route(name: str, body: str, namespace: str = "monitoring") -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
  namespace: {namespace}
spec:
{textwrap.indent(textwrap.dedent(body).strip(), "  ")}
"""


def summary(results) -> list[tuple[str, str, str | None, str]]:
    return [(r.rule, r.severity.value, r.field, str(r.resource)) for r in results]


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("PathPrefix", "/"), ("PathPrefix", "/api"), True),
        (("PathPrefix", "/api"), ("PathPrefix", "/api/v1"), True),
        (("PathPrefix", "/api/"), ("PathPrefix", "/api"), True),
        (("PathPrefix", "/api"), ("PathPrefix", "/apis"), False),  # segments, not characters
        (("PathPrefix", "/a"), ("PathPrefix", "/b"), False),
        (("Exact", "/api"), ("Exact", "/api"), True),
        (("Exact", "/api"), ("Exact", "/api/"), False),
        (("Exact", "/api/v1"), ("PathPrefix", "/api"), True),
        (("Exact", "/apis"), ("PathPrefix", "/api"), False),
        (("Exact", "/"), ("PathPrefix", "/api"), False),
        (("Exact", "/anything"), ("PathPrefix", "/"), True),
        (("RegularExpression", "/x/[0-9]+"), ("Exact", "/y"), True),  # regex: always treated as overlapping
    ],
)
def test_path_overlap_table(a, b, expected):
    assert paths_overlap(PathMatch(*a), PathMatch(*b)) is expected
    assert paths_overlap(PathMatch(*b), PathMatch(*a)) is expected


# --- route-overlap ---------------------------------------------------------------------------


def test_distinct_hostnames_paths_or_gateways_do_not_overlap():
    files = {
        "home.yaml": route_yaml("home", ["home.catinthehack.ca"]),
        "api.yaml": user_route(
            "api",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: [api.catinthehack.ca]
            rules: [{matches: [{path: {type: PathPrefix, value: /api}}]}]
            """,
        ),
        "apis.yaml": user_route(
            "apis",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: [api.catinthehack.ca]
            rules: [{matches: [{path: {type: PathPrefix, value: /apis}}]}]
            """,
        ),
        "other-gateway.yaml": user_route(
            "grafana-internal",
            """
            parentRefs: [{name: internal, namespace: traefik}]
            hostnames: [grafana.catinthehack.ca]
            """,
        ),
        "other-listener.yaml": user_route(
            "a",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik, sectionName: web}]
            hostnames: [shared.catinthehack.ca]
            """,
        ),
        "other-listener-2.yaml": user_route(
            "b",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik, sectionName: websecure}]
            hostnames: [shared.catinthehack.ca]
            """,
        ),
        "catch-all.yaml": user_route("catch-all", "parentRefs: [{name: traefik-gateway, namespace: traefik}]"),
    }
    assert run(check_overlap, files) == []


def test_a_user_route_claiming_a_generated_hostname_is_an_error_naming_both():
    files = {"apps/grafana.yaml": route_yaml("my-grafana", ["grafana.catinthehack.ca"], namespace="apps")}
    results = run(check_overlap, files)
    assert summary(results) == [("route-overlap", "error", "spec.hostnames[0]", "HTTPRoute apps/my-grafana")]
    message = results[0].message
    assert "hostname grafana.catinthehack.ca with path PathPrefix / is also claimed by" in message
    assert "the generated HTTPRoute monitoring/grafana (path PathPrefix /)" in message
    assert "on Gateway traefik/traefik-gateway" in message
    assert "set spec.ui.grafana.enabled: false in ObservabilityConfig observability" in message
    assert results[0].location.path == "apps/grafana.yaml"


def test_two_user_routes_with_one_hostname_name_each_other_and_their_files():
    files = {
        "a/first.yaml": user_route(
            "first",
            """
            parentRefs: [{name: gw, namespace: infra}]
            hostnames: [app.example.com]
            rules: [{matches: [{path: {type: Exact, value: /login}}]}]
            """,
            namespace="a",
        ),
        # the parentRef namespace defaults to the route's own: infra/gw again
        "infra/second.yaml": user_route(
            "second",
            """
            parentRefs: [{name: gw}]
            hostnames: [other.example.com, app.example.com]
            rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
            """,
            namespace="infra",
        ),
    }
    results = run(check_overlap, files, config=False)
    assert summary(results) == [("route-overlap", "error", "spec.hostnames[1]", "HTTPRoute infra/second")]
    assert "also claimed by HTTPRoute a/first (a/first.yaml:1) (path Exact /login)" in results[0].message
    assert results[0].location.path == "infra/second.yaml"


def test_regular_expression_paths_overlap_anything_on_the_same_host():
    files = {
        "r.yaml": user_route(
            "regex",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: [prometheus.catinthehack.ca]
            rules: [{matches: [{path: {type: RegularExpression, value: "/graph/.*"}}]}]
            """,
        )
    }
    results = run(check_overlap, files)
    assert summary(results) == [("route-overlap", "error", "spec.hostnames[0]", "HTTPRoute monitoring/regex")]


def test_a_wildcard_over_a_generated_hostname_is_a_warning_that_explains_precedence():
    files = {
        "redirect.yaml": user_route(
            "https-redirect",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: ["*.catinthehack.ca"]
            rules:
              - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]
            """,
            namespace="traefik",
        )
    }
    results = run(check_overlap, files)
    # One per generated route: grafana, prometheus, alertmanager, alloy.
    assert [(r.rule, r.severity) for r in results] == [("route-overlap", Severity.WARNING)] * 4
    assert "requests for grafana.catinthehack.ca go to the route with that more specific name" in results[0].message
    assert "sectionName" in results[0].message


def test_two_uis_with_one_hostname_is_an_error_on_the_config():
    config = config_with(ui={"alloy": {"hostname": "grafana.catinthehack.ca"}})
    results = run(check_overlap, config=config)
    assert summary(results) == [
        ("route-overlap", "error", "spec.ui.alloy.hostname", "ObservabilityConfig observability")
    ]
    assert "give each UI its own hostname" in results[0].message


def test_a_copy_of_a_generated_route_is_left_to_the_engine():
    # Same kind/namespace/name as the generated route: the engine reports resource-conflict.
    files = {"seed/httproute-grafana.yaml": route_yaml("grafana", ["grafana.catinthehack.ca"])}
    assert run(check_overlap, files) == []


# --- route-attachment ----------------------------------------------------------------------

# The listeners and routes of gateway-api's conformance test "httproute-hostname-intersection"
# (v1.6.1, crds.md section 5), written out as a user would.
CONFORMANCE = {
    "gateway.yaml": """
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: hostname-intersection, namespace: infra}
    spec:
      gatewayClassName: example
      listeners:
        - {name: listener-1, port: 80, protocol: HTTP, hostname: very.specific.com}
        - {name: listener-2, port: 80, protocol: HTTP, hostname: "*.wildcard.io"}
        - {name: listener-3, port: 80, protocol: HTTP, hostname: "*.anotherwildcard.io"}
    """,
}


def conformance_route(name: str, hostnames: list[str], path: str) -> dict[str, str]:
    hosts = ", ".join(f'"{h}"' for h in hostnames)
    body = f"""
    parentRefs: [{{name: hostname-intersection}}]
    hostnames: [{hosts}]
    rules: [{{matches: [{{path: {{type: PathPrefix, value: {path}}}}}]}}]
    """
    return {f"{name}.yaml": user_route(name, body, namespace="infra")}


@pytest.mark.parametrize(
    ("name", "hostnames", "ignored"),
    [
        ("specific-matches-specific", ["non.matching.com", "*.nonmatchingwildcard.io", "very.specific.com"], [0, 1]),
        (
            "specific-matches-wildcard",
            ["non.matching.com", "wildcard.io", "foo.wildcard.io", "bar.wildcard.io", "foo.bar.wildcard.io"],
            [0, 1],
        ),
        ("wildcard-matches-specific", ["non.matching.com", "*.specific.com"], [0]),
        ("wildcard-matches-wildcard", ["*.anotherwildcard.io"], []),
    ],
)
def test_conformance_routes_that_attach(name, hostnames, ignored):
    files = {**CONFORMANCE, **conformance_route(name, hostnames, "/s")}
    results = run(check_attachment, files, config=False)
    # Attached; each hostname no listener matches is a warning: the Gateway ignores it.
    assert [(r.severity, r.field) for r in results] == [(Severity.WARNING, f"spec.hostnames[{i}]") for i in ignored], (
        results
    )
    for r, i in zip(results, ignored, strict=True):
        assert f"hostname {hostnames[i]} matches no listener" in r.message


def test_conformance_route_with_no_intersecting_hostname_does_not_attach():
    files = {
        **CONFORMANCE,
        **conformance_route("no-intersecting-hosts", ["specific.but.wrong.com", "wildcard.io"], "/"),
    }
    results = run(check_attachment, files, config=False)
    assert summary(results) == [
        ("route-attachment", "error", "spec.parentRefs[0]", "HTTPRoute infra/no-intersecting-hosts")
    ]
    message = results[0].message
    assert "will not attach to Gateway infra/hostname-intersection (gateway.yaml:1)" in message
    assert "listener listener-1: its hostname very.specific.com does not match" in message
    assert "listener listener-2: its hostname *.wildcard.io does not match" in message


def test_conformance_routes_together_do_not_overlap():
    files = dict(CONFORMANCE)
    for i, (name, hosts) in enumerate(
        [
            ("r1", ["non.matching.com", "very.specific.com"]),
            ("r2", ["non.matching.com", "foo.wildcard.io"]),
            ("r3", ["non.matching.com", "*.specific.com"]),
        ]
    ):
        files.update(conformance_route(name, hosts, f"/s{i + 1}"))
    assert run(check_overlap, files, config=False) == []


def test_generated_routes_attach_to_the_users_gateway():
    assert run(check_attachment, {"gateway.yaml": GATEWAY}) == []


def test_route_without_hostnames_attaches_to_a_listener_with_one():
    files = {
        "gateway.yaml": GATEWAY,
        "r.yaml": user_route("any", "parentRefs: [{name: traefik-gateway, namespace: traefik}]"),
    }
    assert run(check_attachment, files) == []


def test_unknown_section_name_is_an_error_with_a_suggestion():
    files = {
        "gateway.yaml": GATEWAY,
        "r.yaml": user_route(
            "r",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik, sectionName: websecur}]
            hostnames: [home.catinthehack.ca]
            """,
        ),
    }
    results = run(check_attachment, files)
    assert summary(results) == [
        ("route-attachment", "error", "spec.parentRefs[0].sectionName", "HTTPRoute monitoring/r")
    ]
    assert (
        "has no listener named 'websecur': did you mean websecure? its listeners are web, websecure"
        in results[0].message
    )


def test_generated_routes_with_a_wrong_section_name_are_reported_on_the_config():
    config = config_with(gateway={"name": "traefik-gateway", "namespace": "traefik", "sectionName": "https"})
    results = run(check_attachment, {"gateway.yaml": GATEWAY}, config=config)
    assert {(r.rule, r.severity.value, r.field, str(r.resource)) for r in results} == {
        ("route-attachment", "error", "spec.gateway.sectionName", "ObservabilityConfig observability")
    }
    assert len(results) == 1  # once for the routes of all four UIs
    assert results[0].message == (
        "the generated HTTPRoutes monitoring/grafana, monitoring/prometheus, monitoring/alertmanager, "
        "monitoring/alloy: Gateway traefik/traefik-gateway has no listener named 'https': its listeners are web, "
        "websecure"
    )


def test_section_name_and_port_that_resolve_pass_and_a_wrong_port_fails():
    ok = user_route(
        "r",
        """
        parentRefs: [{name: traefik-gateway, namespace: traefik, sectionName: websecure, port: 443}]
        hostnames: [home.catinthehack.ca]
        """,
    )
    assert run(check_attachment, {"gateway.yaml": GATEWAY, "r.yaml": ok}) == []
    bad = ok.replace("port: 443", "port: 8443")
    results = run(check_attachment, {"gateway.yaml": GATEWAY, "r.yaml": bad})
    assert summary(results) == [("route-attachment", "error", "spec.parentRefs[0].port", "HTTPRoute monitoring/r")]
    assert "no listener on port 8443 named 'websecure': its ports are 80, 443" in results[0].message


def test_listener_hostname_that_excludes_the_generated_routes_is_an_error_on_the_config():
    gateway = GATEWAY.replace("from: All\n    - name: websecure", "from: Same\n    - name: websecure").replace(
        '"*.catinthehack.ca"', '"*.example.org"'
    )
    results = run(check_attachment, {"gateway.yaml": gateway})
    assert len(results) == 4
    assert {(r.field, str(r.resource)) for r in results} == {("spec.gateway", "ObservabilityConfig observability")}
    message = next(r.message for r in results if "monitoring/grafana " in r.message)
    assert message.startswith(
        "the generated HTTPRoute monitoring/grafana will not attach to Gateway traefik/traefik-gateway"
    )
    assert (
        "listener web: allowedRoutes.namespaces.from is Same (the default), so only routes in namespace traefik"
        in message
    )
    assert (
        "listener websecure: its hostname *.example.org does not match the route's grafana.catinthehack.ca" in message
    )


SELECTOR_GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: example
  listeners:
    - name: https
      port: 443
      protocol: HTTPS
      allowedRoutes:
        namespaces:
          from: Selector
          selector:
            matchLabels:
              shared-gateway-access: "true"
"""


def routed_namespace(labels: str) -> str:
    return f"""
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {labels}
"""


APPS_ROUTE = user_route(
    "app", "parentRefs: [{name: shared, namespace: infra}]\nhostnames: [app.example.com]", namespace="apps"
)


def test_selector_that_matches_the_route_namespace_passes():
    files = {
        "gw.yaml": SELECTOR_GATEWAY,
        "ns.yaml": routed_namespace('{shared-gateway-access: "true"}'),
        "r.yaml": APPS_ROUTE,
    }
    assert run(check_attachment, files, config=False) == []


def test_selector_that_does_not_match_is_an_error():
    files = {"gw.yaml": SELECTOR_GATEWAY, "ns.yaml": routed_namespace("{team: a}"), "r.yaml": APPS_ROUTE}
    results = run(check_attachment, files, config=False)
    assert summary(results) == [("route-attachment", "error", "spec.parentRefs[0]", "HTTPRoute apps/app")]
    assert "allowedRoutes.namespaces.selector does not match the labels of Namespace apps" in results[0].message


def test_selector_without_the_namespace_in_the_pipeline_says_it_could_not_check():
    results = run(check_attachment, {"gw.yaml": SELECTOR_GATEWAY, "r.yaml": APPS_ROUTE}, config=False)
    assert [(r.severity, r.field) for r in results] == [(Severity.INFO, "spec.parentRefs[0]")]
    assert "Namespace apps, which is not in the pipeline" in results[0].message


def test_selector_on_the_automatic_name_label_needs_no_namespace_object():
    gateway = SELECTOR_GATEWAY.replace('shared-gateway-access: "true"', "kubernetes.io/metadata.name: apps")
    assert run(check_attachment, {"gw.yaml": gateway, "r.yaml": APPS_ROUTE}, config=False) == []
    other = gateway.replace("metadata.name: apps", "metadata.name: web")
    assert [r.severity for r in run(check_attachment, {"gw.yaml": other, "r.yaml": APPS_ROUTE}, config=False)] == [
        Severity.ERROR
    ]


def test_generated_namespace_labels_are_used_for_generated_routes():
    gateway = GATEWAY.replace(
        "namespaces:\n          from: All",
        "namespaces:\n          from: Selector\n          selector:\n"
        "            matchExpressions: [{key: app.kubernetes.io/managed-by, operator: In, values: [observability-fn]}]",
    )
    assert run(check_attachment, {"gateway.yaml": gateway}) == []


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "Sometimes"}]}, {}, None),
        ("garbage", {}, None),
    ],
)
def test_label_selector(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


def test_listeners_that_do_not_take_httproutes():
    gateway = """
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: traefik-gateway, namespace: traefik}
    spec:
      gatewayClassName: traefik
      listeners:
        - {name: grpc, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}, kinds: [{kind: GRPCRoute}]}}
        - {name: tcp, port: 5432, protocol: TCP, allowedRoutes: {namespaces: {from: All}}}
    """
    results = run(check_attachment, {"gateway.yaml": gateway})
    assert (
        len(results) == 1 and "the generated HTTPRoutes monitoring/grafana, monitoring/prometheus" in results[0].message
    )
    assert "listener grpc: allowedRoutes.kinds lists GRPCRoute, not HTTPRoute" in results[0].message
    assert "listener tcp: protocol TCP takes TCPRoute, not HTTPRoute" in results[0].message
    explicit = gateway.replace("kinds: [{kind: GRPCRoute}]", "kinds: [{kind: GRPCRoute}, {kind: HTTPRoute}]")
    assert run(check_attachment, {"gateway.yaml": explicit}) == []


def test_a_missing_gateway_gives_one_info_not_one_per_route():
    files = {
        "a.yaml": route_yaml("a", ["a.catinthehack.ca"]),
        "b.yaml": route_yaml("b", ["b.catinthehack.ca"]).replace("traefik-gateway", "internal"),
    }
    results = run(check_attachment, files)  # 4 generated routes + 2 of the user's, two Gateways missing
    assert [(r.rule, r.severity) for r in results] == [("route-attachment", Severity.INFO)]
    message = results[0].message
    assert message.startswith("Gateway traefik/internal, traefik/traefik-gateway is not in the pipeline")
    assert "skipped for 6 parentRef(s); include the Gateway in the kustomization or kpt package" in message


def test_a_generator_that_sees_only_its_config_says_so_once():
    results = run(check_attachment, sees_pipeline=False)
    assert [(r.rule, r.severity) for r in results] == [("route-attachment", Severity.INFO)]
    assert "saw only its config" in results[0].message and "transformers:" in results[0].message


def test_no_routes_no_info():
    ui = {name: {"enabled": False} for name in ("grafana", "prometheus", "alertmanager", "alloy")}
    config = config_with(ui=ui)
    config["spec"].pop("gateway")
    assert run(check_attachment, config=config) == []


def test_a_near_miss_gateway_name_is_a_warning():
    gateway = GATEWAY.replace("name: traefik-gateway", "name: traefik-gw")
    results = run(check_attachment, {"gateway.yaml": gateway})
    warnings = [r for r in results if r.severity is Severity.WARNING]
    assert len(warnings) == 1 and warnings[0].field == "spec.gateway"
    assert "but Gateway traefik/traefik-gw is: did you mean it?" in warnings[0].message
    assert [r.severity for r in results if r not in warnings] == [Severity.INFO]


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


def test_through_the_krm_protocol():
    user = yaml.safe_load(textwrap.dedent(route_yaml("my-grafana", ["grafana.catinthehack.ca"], namespace="apps")))
    user["metadata"]["annotations"] = {"config.kubernetes.io/path": "apps/my-grafana.yaml"}
    gw = yaml.safe_load(GATEWAY)
    gw["metadata"]["annotations"] = {"config.kubernetes.io/path": "traefik/gateway.yaml"}
    output, outcome = run_krm([gw, user], default_config())
    assert outcome.exit_code == 1
    by_rule = {r["tags"]["rule"]: r for r in output["results"] if r["tags"]["rule"].startswith("route-")}
    overlap = by_rule["route-overlap"]
    assert overlap["severity"] == "error"
    assert overlap["resourceRef"] == {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "name": "my-grafana",
        "namespace": "apps",
    }
    assert overlap["file"] == {"path": "apps/my-grafana.yaml"}
    assert overlap["field"] == {"path": "spec.hostnames[0]"}
    assert "route-attachment" not in by_rule  # the Gateway is there and accepts every route
    assert "apps/my-grafana.yaml: error [route-overlap] HTTPRoute apps/my-grafana spec.hostnames[0]:" in outcome.stderr


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


@pytest.mark.e2e
def test_through_kpt_fn_eval(tmp_path: Path):
    """The real kpt: results name the user's files, the function fails and kpt writes nothing."""
    package = tmp_path / "pkg"
    (package / "apps").mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG_FILE, package / "obs.yaml")
    (package / "gateway.yaml").write_text(textwrap.dedent(GATEWAY).lstrip("\n"))
    route = textwrap.dedent(route_yaml("my-grafana", ["grafana.catinthehack.ca", "Home.catinthehack.ca"], "apps"))
    (package / "apps" / "route.yaml").write_text(route.lstrip("\n"))
    before = (package / "apps" / "route.yaml").read_bytes()
    proc = subprocess.run(
        [tool("kpt"), "fn", "eval", str(package), "--exec", FUNCTION, "--fn-config", str(package / "obs.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert (
        "apps/route.yaml: error [route-overlap] HTTPRoute apps/my-grafana spec.hostnames[0]: hostname "
        "grafana.catinthehack.ca with path PathPrefix / is also claimed by the generated HTTPRoute monitoring/grafana"
    ) in output
    assert (
        "apps/route.yaml: error [hostname] HTTPRoute apps/my-grafana spec.hostnames[1]: hostname "
        "'Home.catinthehack.ca' is invalid: uppercase letters: use home.catinthehack.ca"
    ) in output
    assert (package / "apps" / "route.yaml").read_bytes() == before
    assert not (package / "monitoring").exists()  # on failure kpt writes nothing
