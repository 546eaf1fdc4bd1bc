"""Rule `schema`: objects match their real schemas (krm_fn.validation).

Every generated object is validated: a problem there is a bug in observability-fn. In the
pipeline, the user's objects of the kinds the stack works with are validated too; with no
ObservabilityConfig (`observability-fn check` over a repository), every object whose schema the
package has. Objects of kinds with no schema are skipped: a PodMonitor, for one, since the
prometheus-operator CRD is not vendored.

Flux objects are checked against the CRDs of the Flux distribution in use (`flux_distribution`):
flux-operator's Alert takes more event source kinds than upstream Flux's.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn import config as config_model
from krm_fn import validation
from krm_fn.checks.base import CheckContext, on_config, result, rule
from krm_fn.items import Item
from krm_fn.results import Result, Severity

RULE = "schema"

# The user's kinds checked while the function runs in a pipeline (the rest are not even parsed);
# ConfigMaps only in the stack's namespace, where Grafana's sidecar reads them.
STACK_KINDS = (
    "Namespace",
    "ConfigMap",
    "Secret",
    "HelmRepository",
    "OCIRepository",
    "HelmRelease",
    "Provider",
    "Alert",
    "HTTPRoute",
    "Gateway",
    "PodMonitor",
    # The operators' kinds of spec.secret.externalSecret, spec.grafana.mode: operator and spec.alerting.silences.
    "ExternalSecret",
    "GrafanaDashboard",
    "GrafanaDatasource",
    "GrafanaFolder",
    "Silence",
)


FLUX_OPERATOR = "flux-operator"
FLUX_OPERATOR_GROUP = "fluxcd.controlplane.io"  # FluxInstance, FluxReport, ResourceSet, ResourceSetInputProvider
# Event source kinds of flux-operator's Alert that upstream Flux's Alert refuses (the vendored CRDs:
# krm_fn/schemas/crds/notification.toolkit.fluxcd.io/alert_v1beta3*.json).
OPERATOR_EVENT_SOURCES = ("FluxInstance", "ResourceSet", "ResourceSetInputProvider")
# Flux's own CRDs in the pipeline mean `flux bootstrap`'s gotk-components.yaml: upstream Flux.
UPSTREAM_CRD = "alerts.notification.toolkit.fluxcd.io"


def flux_distribution(ctx: CheckContext) -> str:
    """upstream or flux-operator: from spec.flux.distribution, else from what the pipeline holds.

    With no evidence either way, flux-operator: its schemas accept everything upstream's do, and
    a false alarm fails the user's build.
    """
    if ctx.config is not None and ctx.config.flux.distribution != "auto":
        return ctx.config.flux.distribution
    upstream = False
    for item in ctx.pipeline:
        api_version = item.api_version or ""
        if api_version.startswith(FLUX_OPERATOR_GROUP + "/"):
            return FLUX_OPERATOR
        if item.kind == "CustomResourceDefinition" and item.name == UPSTREAM_CRD:
            upstream = True
    return "upstream" if upstream else FLUX_OPERATOR


def default_kubernetes_version() -> str:
    """The config schema's default Kubernetes version (used when there is no config)."""
    return config_model.schema()["properties"]["spec"]["properties"]["kubernetesVersion"]["default"]


@rule(
    RULE,
    Severity.ERROR,
    "Objects match their Kubernetes or CRD schema (generated ones, and yours of the stack's kinds)",
)
def check_schemas(ctx: CheckContext) -> Iterator[Result]:
    version = ctx.config.kubernetes_version if ctx.config is not None else default_kubernetes_version()
    distribution = flux_distribution(ctx)
    variant = FLUX_OPERATOR if distribution == FLUX_OPERATOR else ""
    wrong_sources = _operator_event_sources(ctx) if distribution != FLUX_OPERATOR else []
    if wrong_sources:
        yield _event_sources_result(ctx, wrong_sources)
    for item in ctx.generated:
        for problem in validation.validate(item.obj, version, variant):
            if wrong_sources and item.kind == "Alert" and problem.path[:2] == ("spec", "eventSources"):
                continue  # said once, on the config, above
            yield result(
                RULE,
                Severity.ERROR,
                f"{problem.message} (this object is generated: a bug in observability-fn, please report it)",
                item,
                list(problem.path),
            )
    for item in _user_objects(ctx, version):
        for problem in validation.validate(item.obj, version, variant):
            if not _hostname_problem(item, problem.path):
                yield result(RULE, Severity.ERROR, problem.message, item, list(problem.path))


def _operator_event_sources(ctx: CheckContext) -> list[str]:
    """The config's event source kinds that only flux-operator's Alert takes."""
    if ctx.config is None:
        return []
    return [kind for kind in ctx.config.flux.event_sources if kind in OPERATOR_EVENT_SOURCES]


def _event_sources_result(ctx: CheckContext, kinds: list[str]) -> Result:
    config = ctx.config
    assert config is not None
    why = (
        "spec.flux.distribution is upstream"
        if config.flux.distribution == "upstream"
        else f"the pipeline holds upstream Flux's CRD {UPSTREAM_CRD} and no {FLUX_OPERATOR_GROUP} object"
    )
    return on_config(
        RULE,
        Severity.ERROR,
        f"{', '.join(kinds)}: only flux-operator's Alert takes {'these' if len(kinds) > 1 else 'this'} event "
        f"source {'kinds' if len(kinds) > 1 else 'kind'}, and {why}, so the cluster would refuse the Alert; "
        "remove them from spec.flux.eventSources, or set spec.flux.distribution: flux-operator if the "
        "cluster runs it",
        config,
        "spec.flux.eventSources",
    )


def _hostname_problem(item: Item, path: tuple[str | int, ...]) -> bool:
    """Route and listener hostnames are the `hostname` rule's, which says how to fix them."""
    if item.kind == "HTTPRoute":
        return path[:2] == ("spec", "hostnames") and len(path) == 3
    if item.kind == "Gateway":
        return len(path) == 4 and path[:2] == ("spec", "listeners") and path[3] == "hostname"
    return False


def _user_objects(ctx: CheckContext, version: str) -> list[Item]:
    if ctx.config is None or ctx.check_all_kinds:
        return [
            item
            for item in ctx.pipeline
            if validation.schema_for(item.api_version or "", item.kind or "", version) is not None
            and item.parse_error() is None
        ]
    namespace = ctx.config.namespace
    found = []
    for kind in STACK_KINDS:
        if kind == "ConfigMap":  # filtered on the header first, so other ConfigMaps are never parsed
            found += [
                i for i in ctx.pipeline if i.kind == kind and i.namespace == namespace and i.parse_error() is None
            ]
        else:
            found += ctx.user_objects(kind)
    return found
