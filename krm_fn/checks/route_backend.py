"""Rule: HTTPRoute backendRefs name the Services the charts really create, on their ports.

Service names and ports: docs/reference/charts.md#2-service-names-and-ports, through `krm_fn.charts`.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.charts import CHARTS, LOKI_SERVICE, UI_SERVICES, Service
from krm_fn.checks.base import CheckContext, dig, on_config, result, rule
from krm_fn.components.routes import ui_service
from krm_fn.config import Config
from krm_fn.gateway.hostnames import show
from krm_fn.gateway.model import Route, close_match, qualified, routes, ui_of
from krm_fn.results import Result, Severity

BACKEND_RULE = "route-backend"


def _chart_of(service: Service) -> str:
    """The chart whose release creates `service` (its name starts with the release name)."""
    owners = [c for c in CHARTS.values() if service.name == c.release or service.name.startswith(c.release + "-")]
    return max(owners, key=lambda c: len(c.release)).name if owners else "?"


def _known_services(config: Config) -> dict[str, Service]:
    """What a user may mean: each UI's Service, and Loki's."""
    return {**{name: ui_service(config, name) for name in UI_SERVICES}, "loki": LOKI_SERVICE}


def _maker(config: Config, key: str, service: Service) -> str:
    """Who creates the Service: a chart of the stack, or grafana-operator (spec.grafana.mode: operator)."""
    if key == "grafana" and config.grafana_operator is not None:
        return "grafana-operator (spec.grafana.operator.service)"
    return f"the {_chart_of(service)} chart"


# Values that change the Service behind a UI (paths under the chart's values; evidence:
# docs/reference/charts.md#2-service-names-and-ports and the fullname helper every one of these
# charts uses; kps values.yaml
# L7/L23 and prometheus|alertmanager.service.port, grafana values service.port and
# service.enabled, alloy values nameOverride/fullnameOverride, alloy.listenPort, service.enabled).
_RENAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "grafana": (("grafana", "fullnameOverride"), ("grafana", "nameOverride")),
    "prometheus": (("fullnameOverride",), ("nameOverride",)),
    "alertmanager": (("fullnameOverride",), ("nameOverride",)),
    "alloy": (("fullnameOverride",), ("nameOverride",)),
}
_PORTS: dict[str, tuple[str, ...]] = {
    "grafana": ("grafana", "service", "port"),
    "prometheus": ("prometheus", "service", "port"),
    "alertmanager": ("alertmanager", "service", "port"),
    "alloy": ("alloy", "listenPort"),
}
_ENABLED: dict[str, tuple[str, ...]] = {
    "grafana": ("grafana", "service", "enabled"),
    "alloy": ("service", "enabled"),
}


@rule(BACKEND_RULE, Severity.ERROR, "HTTPRoute backendRefs name the Services the charts really create, on their ports")
def check_backends(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    renamed: dict[str, list[str]] = {}  # values field -> the generated routes it breaks
    for route in routes(ctx):
        if route.generated:
            yield from _generated_backends(config, route, renamed)
        else:
            yield from _user_backends(config, route)
    for field, broken in renamed.items():
        yield on_config(
            BACKEND_RULE,
            Severity.WARNING,
            f"{field} renames the chart's Services, but the generated {' and '.join(broken)} (and the rest of the "
            "stack) expect the default names: remove it",
            config,
            field,
        )


def _generated_backends(config: Config, route: Route, renamed: dict[str, list[str]]) -> Iterator[Result]:
    """Our own routes: the backend is the UI's chart Service, and no value override moves that Service."""
    ui = ui_of(config, route.item)
    if ui is None or ui not in UI_SERVICES:
        return
    expected = ui_service(config, ui)
    for backend in route.backends:
        wanted = ("Service", "", config.namespace, expected.name, expected.port)
        if (backend.kind, backend.group, backend.namespace, backend.name, backend.port) != wanted:
            yield result(
                BACKEND_RULE,
                Severity.ERROR,
                f"observability-fn bug: the generated route sends to {backend.kind} {backend.namespace}/"
                f"{backend.name}:{backend.port}, but {_maker(config, ui, expected)} serves {ui} as Service "
                f"{config.namespace}/{expected.name}:{expected.port}; please report this",
                route.item,
                ["spec", "rules", backend.rule_index, "backendRefs", backend.index],
                config.location,
            )
    if ui == "grafana" and config.grafana_operator is not None:
        return  # the instance is yours: the grafana-operator rule checks its Service
    chart = _chart_of(expected)
    values = config.values.get(chart, {})
    target = f"HTTPRoute {qualified(route.namespace, route.item.name or '')} ({expected.name}:{expected.port})"
    for path in _RENAMES.get(ui, ()):
        value = dig(values, path)
        if isinstance(value, str) and value:
            renamed.setdefault(_values_field(chart, path), []).append(target)
    port_path = _PORTS.get(ui)
    port = dig(values, port_path) if port_path else None
    if port_path and port is not None and str(port) != str(expected.port):
        yield _on_values(
            config,
            chart,
            port_path,
            f"moves the {ui} Service off port {expected.port}, which the generated {target} sends to: remove it",
        )
    enabled_path = _ENABLED.get(ui)
    if enabled_path and dig(values, enabled_path) is False:
        yield _on_values(
            config,
            chart,
            enabled_path,
            f"removes the {ui} Service the generated {target} sends to: remove it, or set spec.ui.{ui}.enabled: false",
        )


def _values_field(chart: str, path: tuple[str, ...]) -> str:
    return f"spec.values.{chart}." + ".".join(path)


def _on_values(config: Config, chart: str, path: tuple[str, ...], message: str) -> Result:
    field = _values_field(chart, path)
    return on_config(BACKEND_RULE, Severity.ERROR, f"{field} {message}", config, field)


def _user_backends(config: Config, route: Route) -> Iterator[Result]:
    """Warn when a route into the stack's namespace means one of our Services but names it wrongly."""
    known = _known_services(config)
    for backend in route.backends:
        if backend.kind != "Service" or backend.group != "" or backend.namespace != config.namespace:
            continue
        meant = _meant(backend.name, known)
        if meant is None:
            continue
        key, service = meant
        field: list[str | int] = ["spec", "rules", backend.rule_index, "backendRefs", backend.index]
        if backend.name != service.name:
            yield result(
                BACKEND_RULE,
                Severity.WARNING,
                f"backendRef {show(backend.name)} looks like the {key} Service, but {_maker(config, key, service)} "
                f"creates it as {service.name} (port {service.port}): use name: {service.name}, port: {service.port}",
                route.item,
                [*field, "name"],
            )
        elif backend.port is not None and backend.port != service.port:
            yield result(
                BACKEND_RULE,
                Severity.WARNING,
                f"Service {service.name} serves {key} on port {service.port}, not {backend.port} "
                f"(a container's targetPort is not the Service's port): use port: {service.port}",
                route.item,
                [*field, "port"],
            )


def _meant(name: str, known: dict[str, Service]) -> tuple[str, Service] | None:
    """Which of our Services a backendRef name means: exact, the bare UI name, `*-<ui>`, or a near typo."""
    for key, service in known.items():
        if name == service.name:
            return key, service
    for key, service in known.items():
        if name == key or name.endswith("-" + key):
            return key, service
    names = {service.name: key for key, service in known.items()}
    close = close_match(name, list(names), cutoff=0.85)
    return (names[close], known[names[close]]) if close else None
