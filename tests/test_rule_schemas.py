"""The `schema` rule: generated objects and the user's objects match their real schemas."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krm_fn import config as config_model
from krm_fn import yaml as yamlio
from krm_fn.checks.schemas import check_schemas
from krm_fn.items import Item
from krm_fn.results import Result, Severity
from tests.helpers import UPSTREAM, context, default_config, lines, resource_list, run_cli, run_krm, write

SECRET_WITH_TYPO = """
apiVersion: v1
kind: Secret
metadata:
  name: other
  namespace: monitoring
type: Opaque
stringData:
  token: hunter2-not-shown
strinData: {leftover: hunter2-not-shown}
"""

DEPLOYMENT_WITH_TYPO = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replica: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx
"""

ROUTE_WITH_BAD_PORT = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app
  namespace: apps
spec:
  parentRefs:
    - name: traefik-gateway
      namespace: traefik
      port: "443"
  hostnames: [app.catinthehack.ca]
  rules:
    - backendRefs: [{name: app, port: 80}]
"""


# --- generated objects ---------------------------------------------------------------------------


def test_the_default_stack_validates():
    ctx = context()
    assert {item.kind for item in ctx.generated} >= {"Namespace", "HelmRelease", "HTTPRoute", "ConfigMap"}
    assert list(check_schemas(ctx)) == []


def test_a_broken_generated_object_is_reported_as_our_bug():
    ctx = context()
    release = next(i for i in ctx.generated if i.kind == "HelmRelease")
    release.data["spec"]["intervall"] = "5m"
    found = list(check_schemas(ctx))
    assert len(found) == 1
    assert found[0].severity is Severity.ERROR and found[0].field == "spec.intervall"
    assert "unknown field 'intervall'; did you mean 'interval'?" in found[0].message
    assert "a bug in observability-fn" in found[0].message


def test_generated_kinds_without_a_schema_are_skipped():
    ctx = context()
    monitors = [i for i in ctx.generated if i.kind == "PodMonitor"]
    for item in monitors:
        item.data["spec"]["nonsense"] = True  # would fail a schema; there is none (CRD not vendored)
    assert list(check_schemas(ctx)) == []


# --- the user's objects ------------------------------------------------------------------------------


def test_user_secret_and_route_in_the_pipeline_are_checked():
    found = list(check_schemas(context({"secret.yaml": SECRET_WITH_TYPO, "route.yaml": ROUTE_WITH_BAD_PORT})))
    assert lines(found) == [
        "route.yaml:10: error [schema] HTTPRoute apps/app spec.parentRefs[0].port: must be an integer, not a string",
        "secret.yaml:9: error [schema] Secret monitoring/other strinData: unknown field 'strinData'; "
        "did you mean 'stringData'?",
    ]
    assert "hunter2" not in "".join(lines(found))


def test_kinds_outside_the_stack_are_not_parsed_in_a_pipeline_but_are_checked_without_a_config():
    files = {"deploy.yaml": DEPLOYMENT_WITH_TYPO}
    assert list(check_schemas(context(files))) == []
    found = list(check_schemas(context(files, config=False)))
    assert lines(found) == [
        "deploy.yaml:7: error [schema] Deployment default/web spec.replica: unknown field 'replica'; "
        "did you mean 'replicas'?"
    ]


def test_sops_encrypted_secret_passes_the_schema():
    text = (UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text()
    assert list(check_schemas(context({"secret.enc.yaml": text}))) == []


def test_through_the_function_protocol():
    secret = yamlio.load_one(textwrap.dedent(SECRET_WITH_TYPO))
    output, outcome = run_krm([secret], default_config())
    schema = [r for r in output.get("results", []) if r["tags"]["rule"] == "schema"]
    assert schema == [
        {
            "message": "unknown field 'strinData'; did you mean 'stringData'?",
            "severity": "error",
            "resourceRef": {"apiVersion": "v1", "kind": "Secret", "name": "other", "namespace": "monitoring"},
            "field": {"path": "strinData"},
            "tags": {"rule": "schema"},
        }
    ]
    assert outcome.exit_code != 0


def test_check_command_over_a_directory(tmp_path):
    write(tmp_path, {"deploy.yaml": DEPLOYMENT_WITH_TYPO, "route.yaml": ROUTE_WITH_BAD_PORT})
    proc = run_cli("check", str(tmp_path))
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert f"{tmp_path}/deploy.yaml:7: error [schema] Deployment default/web spec.replica: unknown field" in out
    assert f"{tmp_path}/route.yaml:10: error [schema] HTTPRoute apps/app spec.parentRefs[0].port:" in out
    assert b"Traceback" not in proc.stderr


CONFIGMAP_WITH_TYPO = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: dashboards
  namespace: NS
dataa: {a: b}
"""


def test_configmaps_are_checked_in_the_stack_namespace_only():
    files = {
        "mine.yaml": CONFIGMAP_WITH_TYPO.replace("NS", "monitoring"),
        "other.yaml": CONFIGMAP_WITH_TYPO.replace("NS", "default"),
    }
    assert lines(list(check_schemas(context(files)))) == [
        "mine.yaml:6: error [schema] ConfigMap monitoring/dashboards dataa: unknown field 'dataa'; did you mean 'data'?"
    ]


def test_other_configmaps_in_a_pipeline_are_never_parsed():
    objects = [yamlio.load_one(CONFIGMAP_WITH_TYPO.replace("NS", ns)) for ns in ("monitoring", "default")]
    split = yamlio.split_resource_list(resource_list(objects).decode())
    ctx = context()
    ctx.pipeline = [Item(raw=raw) for raw in split.items]
    found = list(check_schemas(ctx))
    assert [(r.resource.namespace, r.field) for r in found] == [("monitoring", "dataa")]
    assert [item.parsed for item in ctx.pipeline] == [True, False]


# --- never raise, whatever the objects hold ---------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
_HEADS = [
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("apps/v1", "Deployment"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=st.sampled_from(_HEADS), body=st.dictionaries(st.sampled_from(["metadata", "spec", "data", "x"]), _JSON))
def test_the_rules_never_raise_on_arbitrary_objects(head, body):
    from krm_fn.checks.templates import check_templates
    from krm_fn.checks.values import check_values

    obj = {"apiVersion": head[0], "kind": head[1], **body}
    if head[1] == "HelmRelease" and isinstance(obj.get("spec"), dict):
        obj["spec"]["chart"] = {"spec": {"chart": "kube-prometheus-stack", "version": "82.18.0"}}
    for config in (None, False):
        ctx = context(config=config)
        ctx.pipeline = [Item.from_data(obj, generated=False)]
        for check in (check_schemas, check_values, check_templates):
            for found in check(ctx):
                assert isinstance(found, Result)


# --- the Flux distribution decides the Alert schema ---------------------------------------------

OPERATOR_ALERT = """
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: flux-operator
  namespace: flux-system
spec:
  providerRef:
    name: alertmanager
  eventSources:
    - kind: FluxInstance
      name: flux
    - kind: ResourceSet
      name: "*"
"""
FLUX_INSTANCE = """
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
"""
UPSTREAM_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: alerts.notification.toolkit.fluxcd.io
spec: {}
"""


def distribution_config(distribution: str) -> dict:
    config = default_config()
    config["spec"].setdefault("flux", {})["distribution"] = distribution
    return config


def kind_errors(results: list[Result]) -> list[str | None]:
    return [r.field for r in results if r.severity is Severity.ERROR]


@pytest.mark.parametrize(
    ("files", "distribution"),
    [
        ({"fi.yaml": FLUX_INSTANCE}, "auto"),  # FluxInstance in the pipeline: flux-operator
        ({}, "auto"),  # no evidence: the more permissive schema, never a false alarm
        ({"crd.yaml": UPSTREAM_CRD}, "flux-operator"),  # the config says so
    ],
)
def test_flux_operator_event_source_kinds_pass_under_flux_operator(files, distribution):
    results = list(check_schemas(context({"alert.yaml": OPERATOR_ALERT, **files}, distribution_config(distribution))))
    assert kind_errors(results) == []


@pytest.mark.parametrize(
    ("files", "distribution"),
    [({}, "upstream"), ({"crd.yaml": UPSTREAM_CRD}, "auto")],  # set, or Flux's own CRDs (gotk-components)
)
def test_flux_operator_event_source_kinds_fail_under_upstream_flux(files, distribution):
    results = list(check_schemas(context({"alert.yaml": OPERATOR_ALERT, **files}, distribution_config(distribution))))
    assert kind_errors(results) == ["spec.eventSources[0].kind", "spec.eventSources[1].kind"]


def test_flux_operator_detected_without_a_config():
    assert kind_errors(list(check_schemas(context({"a.yaml": OPERATOR_ALERT, "f.yaml": FLUX_INSTANCE}, False)))) == []
    typo = OPERATOR_ALERT.replace("kind: FluxInstance", "kind: FluxInstanse")
    results = list(check_schemas(context({"a.yaml": typo, "f.yaml": FLUX_INSTANCE}, False)))
    assert kind_errors(results) == ["spec.eventSources[0].kind"]


def test_an_unknown_distribution_is_a_config_error():
    _, errors = config_model.load(distribution_config("flux-operater"))
    assert [e.field for e in errors] == ["spec.flux.distribution"]


def operator_sources_config(distribution: str) -> dict:
    config = distribution_config(distribution)
    config["spec"]["flux"]["eventSources"] = ["Kustomization", "FluxInstance", "ResourceSet"]
    return config


@pytest.mark.parametrize(
    ("files", "distribution"),
    [({"fi.yaml": FLUX_INSTANCE}, "auto"), ({}, "auto"), ({"crd.yaml": UPSTREAM_CRD}, "flux-operator")],
)
def test_the_generated_alert_takes_flux_operator_kinds_under_flux_operator(files, distribution):
    ctx = context(files, operator_sources_config(distribution))
    alert = next(i.obj for i in ctx.generated if i.kind == "Alert")
    assert {"kind": "FluxInstance", "name": "*", "namespace": "flux-system"} in alert["spec"]["eventSources"]
    assert kind_errors(list(check_schemas(ctx))) == []


@pytest.mark.parametrize(
    ("files", "distribution", "why"),
    [
        ({}, "upstream", "spec.flux.distribution is upstream"),
        ({"crd.yaml": UPSTREAM_CRD}, "auto", "holds upstream Flux's CRD alerts.notification.toolkit.fluxcd.io"),
    ],
)
def test_flux_operator_kinds_under_upstream_flux_are_one_config_error(files, distribution, why):
    """Said once, on the config field the user wrote, not as a bug in the generated Alert."""
    results = [r for r in check_schemas(context(files, operator_sources_config(distribution))) if r.is_error]
    assert len(results) == 1, [r.message for r in results]
    assert results[0].field == "spec.flux.eventSources" and results[0].resource.kind == "ObservabilityConfig"
    assert results[0].message.startswith("FluxInstance, ResourceSet: only flux-operator's Alert takes")
    assert why in results[0].message and "a bug" not in results[0].message
