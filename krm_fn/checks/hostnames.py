"""Rule: every Gateway API hostname is valid; the UIs' lie inside spec.domain (grammar: krm_fn.gateway.hostnames)."""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, result, rule
from krm_fn.config import Config
from krm_fn.gateway.chart_hosts import rendered_hosts
from krm_fn.gateway.hostnames import describe, show, within
from krm_fn.gateway.model import is_gateway_api, spec_of, ui_of
from krm_fn.items import Item
from krm_fn.results import Result, Severity

RULE = "hostname"


@rule(
    RULE,
    Severity.ERROR,
    "every HTTPRoute and Gateway listener hostname is valid, and every route or ingress host HelmRelease values make "
    "a chart render (app-template route.*.hostnames, kube-prometheus-stack's *.route/*.ingress); the UIs' lie inside "
    "spec.domain",
)
def check_hostnames(ctx: CheckContext) -> Iterator[Result]:
    if ctx.config is not None:
        yield from _generated(ctx.config, [r for r in ctx.generated_objects("HTTPRoute") if is_gateway_api(r)])
    for route in ctx.user_objects("HTTPRoute"):
        if not is_gateway_api(route):
            continue
        hostnames = spec_of(route).get("hostnames")
        for index, host in enumerate(hostnames if isinstance(hostnames, list) else []):
            message = describe(host) if isinstance(host, str) else None
            if message:
                yield result(RULE, Severity.ERROR, message, route, ["spec", "hostnames", index])
    for release, path, host in rendered_hosts(ctx.user_objects("HelmRelease"), ctx.user_objects("OCIRepository")):
        message = describe(host)
        if message:
            kind = "route" if "route" in path else "ingress"
            yield result(
                RULE,
                Severity.ERROR,
                f"{message} (the chart renders it into an {'HTTPRoute' if kind == 'route' else 'Ingress'}, "
                "which the API server refuses)",
                release,
                ["spec", "values", *path],
            )
    for gateway in ctx.user_objects("Gateway"):
        if not is_gateway_api(gateway):
            continue
        listeners = spec_of(gateway).get("listeners")
        for index, listener in enumerate(listeners if isinstance(listeners, list) else []):
            host = listener.get("hostname") if isinstance(listener, dict) else None
            message = describe(host) if isinstance(host, str) else None
            if message:
                yield result(RULE, Severity.ERROR, message, gateway, ["spec", "listeners", index, "hostname"])


def _generated(config: Config, routes: list[Item]) -> Iterator[Result]:
    """The UIs' hostnames. Problems are reported on the config, where they are fixed."""
    domain_problem = describe(config.domain, wildcard_ok=False)
    if domain_problem and routes:
        yield _on_config(config, "spec.domain", f"spec.domain: {domain_problem}")
    for route in routes:
        ui = ui_of(config, route)
        hostnames = spec_of(route).get("hostnames")
        for host in hostnames if isinstance(hostnames, list) else []:
            if not isinstance(host, str):
                continue
            derived = ui is not None and host == f"{ui}.{config.domain}"
            field = "spec.domain" if derived or ui is None else f"spec.ui.{ui}.hostname"
            what = f"the generated HTTPRoute {route.namespace}/{route.name}"
            message = describe(host, wildcard_ok=False)
            if message and not (derived and domain_problem):
                yield _on_config(config, field, f"{what}: {message}")
            elif not message and not within(host, config.domain):
                example = f"{ui or 'grafana'}.{config.domain}"
                yield _on_config(
                    config,
                    field,
                    f"{what}: hostname {show(host)} is outside spec.domain {config.domain}: use a name inside it, "
                    f"such as {example}, or change spec.domain",
                )


def _on_config(config: Config, field: str, message: str) -> Result:
    return on_config(RULE, Severity.ERROR, message, config, field)
