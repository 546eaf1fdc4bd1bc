"""Rule `ui-access-control`, and the access objects written for each Gateway implementation."""

from __future__ import annotations

import pytest

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.checks import RULES
from krm_fn.checks.access import RULE, check_access
from krm_fn.results import Severity
from tests.helpers import config_with, default_config
from tests.helpers import rule_run as run

PROTECTED = {"all": {"allowNetworks": ["192.168.0.0/16"]}}


def generated(config: dict) -> list[dict]:
    cfg, errors = config_model.load(config)
    assert cfg is not None, [e.message for e in errors]
    return components.generate(cfg)


def of_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_registered_as_a_warning():
    (found,) = [r for r in RULES if r.id == RULE]
    assert found.severity is Severity.WARNING


def test_open_prometheus_alertmanager_and_alloy_are_named_with_what_anyone_could_do():
    results = run(check_access)
    assert [r.field for r in results] == ["spec.ui.prometheus", "spec.ui.alertmanager", "spec.ui.alloy"]
    assert all(r.severity is Severity.WARNING for r in results)
    alertmanager = results[1].message
    assert "https://alertmanager.catinthehack.ca" in alertmanager and "silence every alert" in alertmanager
    assert "spec.access.all" in alertmanager


def test_a_policy_for_all_or_per_ui_silences_the_warning():
    assert run(check_access, config=config_with(access=PROTECTED)) == []
    per_ui = config_with(
        ui={
            "prometheus": {"access": {"basicAuth": True}},
            "alertmanager": {"access": {"forwardAuth": {"address": "http://auth.auth.svc/verify"}}},
            "alloy": {"enabled": False},
        }
    )
    assert run(check_access, config=per_ui) == []


def test_an_empty_policy_or_filters_the_implementation_ignores_still_warn():
    config = config_with(access={"all": {}}, ui={"prometheus": {"access": {"filters": []}}})
    assert len(run(check_access, config=config)) == 3


def test_the_users_own_security_policy_counts():
    policy = """
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: sso, namespace: traefik}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: traefik-gateway}]
  basicAuth: {users: {name: creds}}
"""
    assert run(check_access, files={"policy.yaml": policy}) == []


def test_traefik_middlewares_referenced_in_order_by_the_route():
    config = config_with(
        access={"all": {"allowNetworks": ["10.0.0.0/8", "fd00::/8"], "basicAuth": True}},
        ui={"alloy": {"access": {"forwardAuth": {"address": "http://auth/verify", "authResponseHeaders": ["X-User"]}}}},
    )
    objects = generated(config)
    middlewares = of_kind(objects, "Middleware")
    assert middlewares["prometheus-allow-networks"]["spec"] == {
        "ipAllowList": {"sourceRange": ["10.0.0.0/8", "fd00::/8"]}
    }
    assert middlewares["prometheus-basic-auth"]["spec"] == {"basicAuth": {"secret": "monitoring-secrets"}}
    assert middlewares["alloy-forward-auth"]["spec"] == {
        "forwardAuth": {"address": "http://auth/verify", "authResponseHeaders": ["X-User"]}
    }
    assert "alloy-basic-auth" not in middlewares  # the UI's own policy replaces spec.access.all
    route = of_kind(objects, "HTTPRoute")["prometheus"]
    assert [f["extensionRef"]["name"] for f in route["spec"]["rules"][0]["filters"]] == [
        "prometheus-allow-networks",
        "prometheus-basic-auth",
    ]
    assert route["spec"]["rules"][0]["filters"][0] == {
        "type": "ExtensionRef",
        "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": "prometheus-allow-networks"},
    }


def test_envoy_gateway_security_policy_targets_the_route():
    config = config_with(
        access={"implementation": "envoy-gateway", "all": {"allowNetworks": ["10.0.0.0/8"], "basicAuth": True}}
    )
    objects = generated(config)
    assert not of_kind(objects, "Middleware")
    policy = of_kind(objects, "SecurityPolicy")["alertmanager"]
    assert policy["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"
    assert policy["spec"] == {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "alertmanager"}],
        "authorization": {
            "defaultAction": "Deny",
            "rules": [{"name": "allow-networks", "action": "Allow", "principal": {"clientCIDRs": ["10.0.0.0/8"]}}],
        },
        "basicAuth": {"users": {"name": "monitoring-secrets"}},
    }
    assert "filters" not in of_kind(objects, "HTTPRoute")["alertmanager"]["spec"]["rules"][0]


def test_filters_pass_through():
    header = {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "X-Auth", "value": "1"}]}}
    config = config_with(access={"implementation": "filters", "all": {"filters": [header]}})
    routes = of_kind(generated(config), "HTTPRoute")
    assert all(r["spec"]["rules"][0]["filters"] == [header] for r in routes.values())


def test_no_policy_no_access_objects_and_routes_unchanged():
    objects = generated(default_config())
    assert not of_kind(objects, "Middleware") and not of_kind(objects, "SecurityPolicy")
    assert all("filters" not in r["spec"]["rules"][0] for r in of_kind(objects, "HTTPRoute").values())


@pytest.mark.parametrize(
    ("access", "field"),
    [
        (
            {"implementation": "envoy-gateway", "all": {"forwardAuth": {"address": "http://a/"}}},
            "spec.access.all.forwardAuth",
        ),
        ({"implementation": "filters", "all": {"basicAuth": True}}, "spec.access.all.basicAuth"),
    ],
)
def test_a_measure_the_implementation_cannot_enforce_is_an_error(access: dict, field: str):
    cfg, errors = config_model.load(config_with(access=access))
    assert cfg is None
    (error,) = errors
    assert error.field == field and "cannot enforce" in error.message


def test_bad_network_is_refused():
    cfg, errors = config_model.load(config_with(access={"all": {"allowNetworks": ["10.0.0.0"]}}))
    assert cfg is None and errors[0].field == "spec.access.all.allowNetworks[0]"


HA = {"profile": "ha", "objectStorage": {"endpoint": "minio:9000", "buckets": {"lokiChunks": "c", "lokiRuler": "r"}}}


def test_thanos_query_is_covered_and_takes_the_prometheus_policy():
    results = run(check_access, config=config_with(**HA))
    thanos = [r for r in results if "thanos" in r.message]
    (finding,) = thanos
    assert finding.field == "spec.ui.prometheus"
    assert "thanos is exposed at https://thanos.catinthehack.ca" in finding.message
    assert "long-term store" in finding.message and "takes the Prometheus UI's policy" in finding.message
    protected = config_with(**HA, ui={"prometheus": {"access": {"basicAuth": True}}})
    assert not [r for r in run(check_access, config=protected) if "thanos" in r.message]
    assert not [r for r in run(check_access, config=config_with(**HA, access=PROTECTED)) if "thanos" in r.message]


def test_thanos_query_route_carries_the_prometheus_access_objects():
    config = config_with(**HA, ui={"prometheus": {"access": {"allowNetworks": ["10.0.0.0/8"]}}})
    objects = generated(config)
    route = of_kind(objects, "HTTPRoute")["thanos"]
    assert [f["extensionRef"]["name"] for f in route["spec"]["rules"][0]["filters"]] == ["thanos-allow-networks"]
    assert of_kind(objects, "Middleware")["thanos-allow-networks"]["spec"] == {
        "ipAllowList": {"sourceRange": ["10.0.0.0/8"]}
    }
    envoy = generated(config_with(**HA, access={"implementation": "envoy-gateway", "all": {"basicAuth": True}}))
    assert of_kind(envoy, "SecurityPolicy")["thanos"]["spec"]["targetRefs"][0]["name"] == "thanos"
    assert "thanos" not in of_kind(generated(config_with(**HA, ui={"prometheus": {"enabled": False}})), "HTTPRoute")
