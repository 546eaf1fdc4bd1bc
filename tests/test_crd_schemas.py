"""JSON Schemas converted from the pinned CRDs (scripts/gen_crd_schemas.py, krm_fn/schemas/crds/)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from tests.helpers import REPO, UPSTREAM

SCHEMAS = REPO / "krm_fn" / "schemas" / "crds"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_crd_schemas", REPO / "scripts" / "gen_crd_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_schemas_are_what_the_script_generates():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_crd_schemas.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_one_schema_per_served_version_of_each_pinned_crd():
    names = sorted(str(p.relative_to(SCHEMAS)) for p in SCHEMAS.glob("*/*.json"))
    assert names == [
        "external-secrets.io/externalsecret_v1.json",
        "fluxcd.controlplane.io/fluxinstance_v1.json",
        "gateway.networking.k8s.io/gateway_v1.json",
        "gateway.networking.k8s.io/gateway_v1beta1.json",
        "gateway.networking.k8s.io/httproute_v1.json",
        "gateway.networking.k8s.io/httproute_v1beta1.json",
        "grafana.integreatly.org/grafanadashboard_v1beta1.json",
        "grafana.integreatly.org/grafanadatasource_v1beta1.json",
        "grafana.integreatly.org/grafanafolder_v1beta1.json",
        "helm.toolkit.fluxcd.io/helmrelease_v2.json",
        "notification.toolkit.fluxcd.io/alert_v1beta3.flux-operator.json",
        "notification.toolkit.fluxcd.io/alert_v1beta3.json",
        "notification.toolkit.fluxcd.io/provider_v1beta3.json",
        "observability.giantswarm.io/silence_v1alpha2.json",
        "source.toolkit.fluxcd.io/helmrepository_v1.json",
        "source.toolkit.fluxcd.io/ocirepository_v1.json",
    ]
    for path in SCHEMAS.glob("*/*.json"):
        jsonschema.Draft7Validator.check_schema(json.loads(path.read_text()))


# --- the conversion, node by node ------------------------------------------------------------------


def test_objects_with_properties_get_additional_properties_false():
    gen = _generator()
    assert gen.convert({"type": "object", "properties": {"a": {"type": "string"}}})["additionalProperties"] is False


def test_preserve_unknown_fields_and_explicit_maps_stay_open():
    gen = _generator()
    preserved = gen.convert(
        {"type": "object", "properties": {"a": {"type": "string"}}, "x-kubernetes-preserve-unknown-fields": True}
    )
    assert "additionalProperties" not in preserved
    mapping = gen.convert({"type": "object", "additionalProperties": {"type": "string"}})
    assert mapping["additionalProperties"] == {"type": "string"}


def test_int_or_string_nullable_and_int_formats():
    gen = _generator()
    assert gen.convert({"x-kubernetes-int-or-string": True}) == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert gen.convert({"type": "string", "format": "int-or-string"}) == {
        "anyOf": [{"type": "integer"}, {"type": "string"}]
    }
    assert gen.convert({"type": "string", "nullable": True, "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert gen.convert({"type": "integer", "format": "int32"}) == {
        "type": "integer",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
    }
    assert gen.convert({"type": "integer", "format": "int32", "minimum": 1}) == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }


def test_descriptions_cel_rules_and_defaults_are_dropped():
    gen = _generator()
    node = {
        "type": "string",
        "description": "x",
        "default": "y",
        "x-kubernetes-validations": [{"rule": "self.size() > 0"}],
        "pattern": "^a$",
    }
    assert gen.convert(node) == {"type": "string", "pattern": "^a$"}


def test_openapi_boolean_exclusive_bounds_become_numbers():
    gen = _generator()
    assert gen.convert({"type": "integer", "minimum": 0, "exclusiveMinimum": True}) == {
        "type": "integer",
        "exclusiveMinimum": 0,
    }


def test_root_is_closed_and_types_metadata():
    schema = json.loads((SCHEMAS / "helm.toolkit.fluxcd.io" / "helmrelease_v2.json").read_text())
    assert schema["additionalProperties"] is False
    assert schema["properties"]["apiVersion"]["enum"] == ["helm.toolkit.fluxcd.io/v2"]
    assert schema["properties"]["kind"]["enum"] == ["HelmRelease"]
    assert schema["properties"]["metadata"]["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    assert "additionalProperties" not in schema["properties"]["spec"]["properties"]["values"]


# --- an independent oracle: datreeio/CRDs-catalog's conversion of the same CRDs ---------------------


def _constraints(node: object, path: str = "", out: set | None = None) -> set:
    """Every (keyword, path, value) constraint of a schema, ignoring descriptions and formats."""
    out = set() if out is None else out
    if not isinstance(node, dict):
        return out
    if node.get("additionalProperties") is False:
        out.add(("closed", path, ""))
    for name, sub in (node.get("properties") or {}).items():
        out.add(("property", f"{path}.{name}", ""))
        _constraints(sub, f"{path}.{name}", out)
    if isinstance(node.get("items"), dict):
        _constraints(node["items"], f"{path}[]", out)
    if isinstance(node.get("additionalProperties"), dict):
        _constraints(node["additionalProperties"], f"{path}{{}}", out)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            _constraints(sub, f"{path}<{key}{i}>", out)
    for key in ("pattern", "enum", "maxLength", "minLength", "minimum", "maximum", "required", "type", "maxItems"):
        if key in node:
            out.add((key, path, json.dumps(node[key], sort_keys=True)))
    return out


@pytest.mark.parametrize(
    "name",
    [
        "helm.toolkit.fluxcd.io/helmrelease_v2",
        "source.toolkit.fluxcd.io/helmrepository_v1",
        "notification.toolkit.fluxcd.io/provider_v1beta3",
        "notification.toolkit.fluxcd.io/alert_v1beta3",
    ],
)
def test_every_constraint_datree_has_we_have(name):
    ours = _constraints(json.loads((SCHEMAS / f"{name}.json").read_text()))
    theirs = _constraints(json.loads((UPSTREAM / "crds" / "json-schema" / f"{name}.json").read_text()))
    missing = theirs - ours
    if name.endswith("alert_v1beta3"):
        # datree's Alert is a flux-operator build: 3 more event source kinds (crds README).
        missing = {m for m in missing if m[:2] != ("enum", ".spec.eventSources[].kind")}
    assert missing == set()


def test_datree_gateway_files_are_the_experimental_channel_and_ours_the_standard_one():
    ours = json.loads((SCHEMAS / "gateway.networking.k8s.io" / "httproute_v1.json").read_text())
    theirs = json.loads(
        (UPSTREAM / "crds" / "json-schema" / "gateway.networking.k8s.io" / "httproute_v1.json").read_text()
    )
    assert "useDefaultGateways" in theirs["properties"]["spec"]["properties"]
    assert "useDefaultGateways" not in ours["properties"]["spec"]["properties"]


# --- real objects ---------------------------------------------------------------------------------


def _validator(name: str):
    from krm_fn.schemacheck import validator

    return validator(json.loads((SCHEMAS / f"{name}.json").read_text()), "7")


def test_flux_upstream_example_helmrelease_validates():
    docs = [
        d
        for d in yaml.safe_load_all(
            (UPSTREAM / "flux-monitoring" / "kube-prometheus-stack-helmrelease.yaml").read_text()
        )
        if d
    ]
    releases = [d for d in docs if d.get("kind") == "HelmRelease"]
    assert releases
    for release in releases:
        assert list(_validator("helm.toolkit.fluxcd.io/helmrelease_v2").iter_errors(release)) == []


def test_a_typo_and_a_bad_enum_fail():
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "x"},
        "spec": {
            "interval": "10m",
            "chart": {"spec": {"chart": "c", "sourceRef": {"kind": "HelmRepo", "name": "r"}}},
            "valus": {},
        },
    }
    errors = {
        (e.validator, tuple(e.absolute_path))
        for e in _validator("helm.toolkit.fluxcd.io/helmrelease_v2").iter_errors(release)
    }
    assert errors == {("additionalProperties", ("spec",)), ("enum", ("spec", "chart", "spec", "sourceRef", "kind"))}


def test_the_flux_operator_alert_is_upstreams_with_three_more_event_source_kinds():
    """Derived from the vendored flux-operator build (datreeio): only the eventSources kind enum differs."""
    group = SCHEMAS / "notification.toolkit.fluxcd.io"
    upstream = json.loads((group / "alert_v1beta3.json").read_text())
    operator = json.loads((group / "alert_v1beta3.flux-operator.json").read_text())
    path = ("properties", "spec", "properties", "eventSources", "items", "properties", "kind")
    kinds = {}
    for name, schema in (("upstream", upstream), ("operator", operator)):
        node = schema
        for key in path:
            node = node[key]
        kinds[name] = node.pop("enum")
    assert upstream == operator
    assert kinds["operator"] == [*kinds["upstream"], "FluxInstance", "ResourceSet", "ResourceSetInputProvider"]
    vendored = json.loads((UPSTREAM / "crds/json-schema/notification.toolkit.fluxcd.io/alert_v1beta3.json").read_text())
    assert set(kinds["operator"]) == set(
        vendored["properties"]["spec"]["properties"]["eventSources"]["items"]["properties"]["kind"]["enum"]
    )
