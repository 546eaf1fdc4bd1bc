"""route-attachment: routes against their Gateway's listeners (docs/reference/crds.md#5-gateway-api-hostname-rules)."""

from __future__ import annotations

import pytest

from krm_fn.checks.route_attachment import check_attachment, selector_matches
from krm_fn.checks.route_overlap import check_overlap
from krm_fn.results import Severity
from tests.helpers import (
    GATEWAY,
    config_with,
    route_yaml,
    summary,
    user_route,
)
from tests.helpers import (
    rule_run as run,
)

# --- route-attachment ----------------------------------------------------------------------

# The listeners and routes of gateway-api's conformance test "httproute-hostname-intersection"
# (v1.6.1, docs/reference/crds.md#5-gateway-api-hostname-rules), written out as a user would.
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


# --- namespaces set later, and substitution placeholders ------------------------------------


def without_namespace(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("namespace: "))


def test_a_gateway_without_namespace_is_not_taken_for_default():
    """kustomize `namespace:` or Flux targetNamespace sets it later: never a near miss in `default`."""
    gateway = without_namespace(GATEWAY.replace("traefik-gateway", "gw-external"))
    route = route_yaml("app", ["app.catinthehack.ca"], namespace="apps").replace(
        "name: traefik-gateway\n      namespace: traefik", "name: gw-external\n      namespace: network"
    )
    results = run(check_attachment, {"gateway.yaml": gateway, "route.yaml": route}, config=False)
    assert results == []


def test_routes_and_gateways_without_namespace_attach_and_are_still_checked():
    gateway = without_namespace(GATEWAY)
    ok = without_namespace(route_yaml("ok", ["ok.catinthehack.ca"]))
    assert run(check_attachment, {"gateway.yaml": gateway, "ok.yaml": ok}, config=False) == []
    wrong = ok.replace("- name: traefik-gateway", "- name: traefik-gateway\n      sectionName: webscure")
    results = run(check_attachment, {"gateway.yaml": gateway, "wrong.yaml": wrong}, config=False)
    assert [(r.severity, r.field) for r in results] == [(Severity.ERROR, "spec.parentRefs[0].sectionName")]
    assert "did you mean websecure?" in results[0].message
    assert results[0].message.startswith("Gateway traefik-gateway has no listener")  # no made-up namespace


def test_a_same_namespace_listener_takes_a_route_whose_namespace_is_set_later():
    gateway = GATEWAY.replace("from: All", "from: Same")
    route = without_namespace(route_yaml("app", ["app.catinthehack.ca"]))
    assert run(check_attachment, {"gateway.yaml": gateway, "route.yaml": route}, config=False) == []
    known = route_yaml("app", ["app.catinthehack.ca"], namespace="apps")  # known and different: rejected
    results = run(check_attachment, {"gateway.yaml": gateway, "route.yaml": known}, config=False)
    assert [r.severity for r in results] == [Severity.ERROR]


def test_parent_refs_named_by_placeholders_are_unknown():
    route = route_yaml("app", ["app.catinthehack.ca"], namespace="apps").replace(
        "name: traefik-gateway\n      namespace: traefik", "name: ${GATEWAY:=traefik-gw}\n      namespace: ${GW_NS}"
    )
    assert run(check_attachment, {"gateway.yaml": GATEWAY, "route.yaml": route}, config=False) == []
    placeholder_namespace = route.replace("${GATEWAY:=traefik-gw}", "traefik-gateway")
    assert run(check_attachment, {"gateway.yaml": GATEWAY, "route.yaml": placeholder_namespace}, config=False) == []


def test_a_placeholder_hostname_may_be_the_one_a_listener_takes():
    gateway = GATEWAY.replace(
        "    - name: web\n      port: 80\n      protocol: HTTP\n",
        '    - name: web\n      port: 80\n      protocol: HTTP\n      hostname: "*.internal.example"\n',
    )
    assert 'hostname: "*.internal.example"' in gateway
    mixed = route_yaml("app", ["${APP}.catinthehack.ca", "app.other.example"], namespace="apps")
    results = run(check_attachment, {"gateway.yaml": gateway, "route.yaml": mixed}, config=False)
    assert [r.severity for r in results if r.severity is Severity.ERROR] == []
    known = route_yaml("app", ["app.other.example"], namespace="apps")  # no listener takes it: still an error
    results = run(check_attachment, {"gateway.yaml": gateway, "route.yaml": known}, config=False)
    assert [r.severity for r in results] == [Severity.ERROR]
