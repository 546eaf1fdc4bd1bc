"""Rule `grafana-operator`: the Grafana instance of spec.grafana.mode: operator, when it is in the pipeline.

grafana-operator imports a GrafanaDashboard, GrafanaDatasource or GrafanaFolder into the Grafana
objects its instanceSelector matches (any namespace with allowCrossNamespaceImport), and serves
an instance through the Service `<name>-service` in the instance's namespace, on the port of its
`spec.config.server.http_port`, 3000 by default (grafana-operator v5.24.0
controllers/resources/resources.go GetGrafanaService, controllers/config/operator_constants.go
GrafanaHTTPPort, controllers/reconcilers/grafana/service_reconciler.go GetGrafanaPort). So, when
the pipeline holds Grafana objects:
  * one of them must match spec.grafana.operator.instanceSelector, else nothing is imported;
  * the grafana route's Service (spec.grafana.operator.service) must be one a matching instance in
    spec.namespace gets, else the Gateway answers 500;
  * a matching instance's server.root_url, when set, is the route's URL (Grafana's links and redirects).
With no Grafana object in the pipeline (it lives in another build), nothing is compared.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dig, on_config, result, rule
from krm_fn.config import Config
from krm_fn.items import Item
from krm_fn.results import Result, Severity

RULE = "grafana-operator"
GROUP = "grafana.integreatly.org/"
DEFAULT_PORT = 3000


def service_of(instance: Item) -> tuple[str, int]:
    """The Service name and port grafana-operator gives a Grafana instance."""
    port = dig(instance.obj, ("spec", "config", "server", "http_port"))
    try:
        number = int(str(port)) if port is not None else DEFAULT_PORT
    except ValueError:
        number = DEFAULT_PORT  # the operator falls back the same way (strconv.Atoi error)
    return f"{instance.name}-service", number


def _labels(item: Item) -> dict:
    labels = dig(item.obj, ("metadata", "labels"), {})
    return labels if isinstance(labels, dict) else {}


def _show(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "no labels"


@rule(
    RULE,
    Severity.ERROR,
    "spec.grafana.mode: operator: a Grafana object in the pipeline matches the instanceSelector, serves the "
    "Service the grafana route names, and its root_url (when set) is the route's URL",
)
def check_grafana_operator(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None or config.grafana_operator is None:
        return
    instances = [i for i in ctx.user_objects("Grafana") if (i.api_version or "").startswith(GROUP)]
    if not instances:
        return
    wanted = config.grafana_operator.match_labels
    matching = [i for i in instances if all(_labels(i).get(k) == v for k, v in wanted.items())]
    # `check` sees a cluster's every build: an error there; a kustomization may hold another instance only.
    severity = Severity.ERROR if ctx.check_all_kinds else Severity.WARNING
    if not matching:
        seen = "; ".join(f"{i.namespace or '(no namespace)'}/{i.name}: {_show(_labels(i))}" for i in instances)
        yield on_config(
            RULE,
            severity,
            f"no Grafana object in the pipeline has the labels {_show(wanted)} that spec.grafana.operator."
            f"instanceSelector selects ({seen}), so the stack's datasources and dashboards would be imported into "
            "no instance: add the labels to your Grafana, or select its labels",
            config,
            "spec.grafana.operator.instanceSelector.matchLabels",
        )
        return
    yield from _service(config, matching, severity)
    url = config.external_url("grafana")
    for instance in matching:
        root_url = dig(instance.obj, ("spec", "config", "server", "root_url"))
        if url and isinstance(root_url, str) and root_url.rstrip("/") != url:
            yield result(
                RULE,
                Severity.WARNING,
                f"root_url {root_url} is not the URL the grafana route serves ({url}): Grafana's links and "
                f"redirects would point elsewhere; set it to {url}",
                instance,
                ["spec", "config", "server", "root_url"],
            )


def _service(config: Config, matching: list[Item], severity: Severity) -> Iterator[Result]:
    """The route's backend is the Service of a matching instance in spec.namespace."""
    if not any(ui.name == "grafana" for ui in config.exposed_uis):
        return
    operator = config.grafana_operator
    assert operator is not None
    wanted = (operator.service.name, operator.service.port)
    local = [i for i in matching if i.namespace in (config.namespace, None)]
    if any(service_of(i) == wanted for i in local):
        return
    if local:
        served = ", ".join(f"{name}:{port} (Grafana {i.name})" for i in local for name, port in [service_of(i)])
        problem = (
            f"grafana-operator serves the matching instance as Service {served}, not "
            f"{operator.service.name}:{operator.service.port}: set spec.grafana.operator.service to it"
        )
    else:
        where = ", ".join(sorted({i.namespace or "(no namespace)" for i in matching}))
        problem = (
            f"the matching Grafana runs in namespace {where}, and its Service with it, but the grafana route is in "
            f"{config.namespace} and sends there: run the instance in {config.namespace}, or set "
            "spec.ui.grafana.enabled: false and route to it yourself"
        )
    yield on_config(
        RULE,
        severity,
        f"{problem}; else the Gateway answers 500 on https://{_host(config)}",
        config,
        "spec.grafana.operator.service",
    )


def _host(config: Config) -> str:
    return next(ui.hostname for ui in config.ui if ui.name == "grafana")
