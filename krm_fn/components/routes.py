"""One Gateway API HTTPRoute per exposed UI, and its access control.

Access control is written the way the Gateway implementation takes it (spec.access.implementation):
- traefik: one Middleware (traefik.io/v1alpha1) per measure, referenced in order by ExtensionRef
  filters of the route rule (an allow-list first, then the authentication);
- envoy-gateway: one SecurityPolicy (gateway.envoyproxy.io/v1alpha1) targeting the route;
- filters: the policy's `filters` copied into the route rule as given.
Basic-auth credentials are htpasswd lines in the stack Secret, under the key each implementation
reads (BASIC_AUTH_KEYS).
"""

from __future__ import annotations

from krm_fn.charts import UI_SERVICES, Service
from krm_fn.components.common import metadata
from krm_fn.config import UI, AccessPolicy, Config

TRAEFIK_API = "traefik.io/v1alpha1"
ENVOY_API = "gateway.envoyproxy.io/v1alpha1"
# Traefik's basicAuth reads the key `users` of its Secret; Envoy Gateway's the key `.htpasswd`.
BASIC_AUTH_KEYS = {"traefik": "users", "envoy-gateway": ".htpasswd"}

# Endpoints that stop or reload a running server, which nothing outside the pod needs (the config
# reloaders call them on localhost): Prometheus' lifecycle API, which prometheus-operator turns on for
# its HTTP reload strategy (--web.enable-lifecycle, pkg/prometheus/promcfg.go at v0.89.0 and v0.93.0)
# and Prometheus serves on POST and PUT /-/quit and /-/reload (prometheus web/web.go); Alertmanager's
# POST /-/reload (alertmanager ui/web.go); Alloy's GET and POST /-/reload (alloy
# internal/service/http/http.go). A route rule that matches them and names no backend forwards
# nothing and answers 500 (Gateway API v1.6.1 conformance test HTTPRouteNoBackendRefs,
# conformance/tests/httproute-omitted-backendrefs.go), and its longer path prefix takes precedence
# over the `/` rule (HTTPRouteRule.matches in the HTTPRoute CRD). PathPrefix matches whole path
# elements: /-/quit and /-/quit/, not /-/quitter.
LIFECYCLE_PATHS: dict[str, tuple[str, ...]] = {
    "prometheus": ("/-/quit", "/-/reload"),
    "alertmanager": ("/-/reload",),
    "alloy": ("/-/reload",),
}


def basic_auth_key(config: Config) -> str | None:
    """The stack Secret key holding htpasswd lines, when an exposed UI uses basic auth."""
    key = BASIC_AUTH_KEYS.get(config.access_implementation)
    if key and any((p := config.access_for(ui)) is not None and p.basic_auth for ui in config.exposed_uis):
        return key
    return None


def _traefik(config: Config, ui: UI, policy: AccessPolicy) -> tuple[list[dict], list[dict]]:
    """(Middlewares, HTTPRoute filters referencing them)."""
    specs: list[tuple[str, dict]] = []
    if policy.allow_networks:
        specs.append(("allow-networks", {"ipAllowList": {"sourceRange": list(policy.allow_networks)}}))
    if policy.basic_auth:
        specs.append(("basic-auth", {"basicAuth": {"secret": config.secret_name}}))
    if policy.forward_auth:
        forward: dict = {"address": policy.forward_auth["address"]}
        if policy.forward_auth.get("authResponseHeaders"):
            forward["authResponseHeaders"] = list(policy.forward_auth["authResponseHeaders"])
        specs.append(("forward-auth", {"forwardAuth": forward}))
    objects, filters = [], []
    for suffix, spec in specs:
        name = f"{ui.name}-{suffix}"
        objects.append(
            {
                "apiVersion": TRAEFIK_API,
                "kind": "Middleware",
                "metadata": metadata(name, config.namespace),
                "spec": spec,
            }
        )
        filters.append(
            {"type": "ExtensionRef", "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": name}}
        )
    return objects, filters


def _envoy(config: Config, ui: UI, policy: AccessPolicy) -> list[dict]:
    spec: dict = {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": ui.name}]}
    if policy.allow_networks:
        spec["authorization"] = {
            "defaultAction": "Deny",
            "rules": [
                {"name": "allow-networks", "action": "Allow", "principal": {"clientCIDRs": list(policy.allow_networks)}}
            ],
        }
    if policy.basic_auth:
        spec["basicAuth"] = {"users": {"name": config.secret_name}}
    if len(spec) == 1:
        return []
    return [
        {
            "apiVersion": ENVOY_API,
            "kind": "SecurityPolicy",
            "metadata": metadata(ui.name, config.namespace),
            "spec": spec,
        }
    ]


def _access(config: Config, ui: UI) -> tuple[list[dict], list[dict]]:
    """(objects, route filters) enforcing the UI's access policy."""
    policy = config.access_for(ui)
    if policy is None:
        return [], []
    if config.access_implementation == "traefik":
        return _traefik(config, ui, policy)
    if config.access_implementation == "envoy-gateway":
        return _envoy(config, ui, policy), []
    return [], [dict(f) for f in policy.filters]


def route(
    config: Config,
    name: str,
    hostname: str,
    service: Service,
    filters: list[dict] | None = None,
    blocked: tuple[str, ...] = (),
) -> dict:
    """An HTTPRoute from `hostname` on the config's Gateway to `service`, through `filters` when given;
    requests for the `blocked` path prefixes get a 500 from the Gateway and never reach the service."""
    assert config.gateway is not None  # the schema requires it while a UI is exposed
    parent: dict = {"name": config.gateway.name, "namespace": config.gateway.namespace}
    if config.gateway.section_name:
        parent["sectionName"] = config.gateway.section_name
    rule: dict = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}
    if filters:
        rule["filters"] = filters
    rule["backendRefs"] = [{"name": service.name, "port": service.port}]
    rules = [rule]
    if blocked:  # second, though it takes precedence: the longer prefix wins whatever the order
        rules.append({"matches": [{"path": {"type": "PathPrefix", "value": path}} for path in blocked]})
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": metadata(name, config.namespace),
        "spec": {"parentRefs": [parent], "hostnames": [hostname], "rules": rules},
    }


def exposed(config: Config, ui: UI, service: Service) -> list[dict]:
    """The HTTPRoute of an exposed UI, to `service`, and the objects enforcing its access policy."""
    access_objects, filters = _access(config, ui)
    return [route(config, ui.name, ui.hostname, service, filters, LIFECYCLE_PATHS.get(ui.name, ())), *access_objects]


def resources(config: Config) -> list[dict]:
    """An HTTPRoute per exposed UI, to the Service the chart creates for it, and its access objects."""
    return [obj for ui in config.exposed_uis for obj in exposed(config, ui, UI_SERVICES[ui.name])]
