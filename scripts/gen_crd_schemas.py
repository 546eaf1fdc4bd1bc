#!/usr/bin/env python3
"""Convert the pinned CRDs' openAPIV3Schema into the JSON Schemas the package validates with.

Reads every CustomResourceDefinition in third_party/upstream/crds/*.yaml (and
third_party/prometheus-operator/*.yaml when present) and writes, for each served version,
krm_fn/schemas/crds/<group>/<kind>_<version>.json (kind lowercased). The conversion
(docs/reference/crds.md#2-datreeio-crds-catalog, docs/reference/crds.md#4-jsonschema-vs-fastjsonschema):

- `additionalProperties: false` on every object with `properties`, the root included, except
  nodes marked `x-kubernetes-preserve-unknown-fields` or that set `additionalProperties`;
- `x-kubernetes-int-or-string` / `format: int-or-string` -> anyOf integer, string;
- `nullable: true` -> the type also allows null;
- `format: int32` / `int64` -> the matching minimum and maximum (no validator checks formats);
- the root gets apiVersion and kind as constants and a metadata with string name, namespace,
  labels and annotations;
- descriptions, defaults, other formats and the x-kubernetes-* keys (CEL rules, list types) are
  dropped: no JSON Schema validator enforces them. Patterns are kept as written; the validator
  (krm_fn/schemacheck.py) makes their `$` reject a trailing newline.

Distribution variants: flux-operator installs Flux with an Alert CRD whose
`spec.eventSources[].kind` also takes FluxInstance, ResourceSet and ResourceSetInputProvider.
The kinds come from the flux-operator build of that schema vendored from datreeio/CRDs-catalog
(third_party/upstream/crds/json-schema/notification.toolkit.fluxcd.io/alert_v1beta3.json; see
the README there); the rest of the variant is the pinned upstream CRD, converted as above, and
written next to it as <kind>_<version>.flux-operator.json.

    scripts/gen_crd_schemas.py           # regenerate
    scripts/gen_crd_schemas.py --check   # exit 1 when a checked-in file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.generated import sync  # noqa: E402 - after the path set-up

SOURCES = [REPO / "third_party" / "upstream" / "crds", REPO / "third_party" / "prometheus-operator"]
OUT_DIR = REPO / "krm_fn" / "schemas" / "crds"
SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"

DROPPED = {"description", "default", "example", "externalDocs", "title", "nullable", "format"}
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def convert(node: dict) -> dict:
    """One openAPIV3Schema node as JSON Schema (draft-07)."""
    out: dict = {}
    for key, value in node.items():
        if key in DROPPED or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: convert(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = convert(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [convert(sub) for sub in value]
        elif key == "exclusiveMinimum" and isinstance(value, bool):
            if value and "minimum" in node:
                out[key] = node["minimum"]
        elif key == "exclusiveMaximum" and isinstance(value, bool):
            if value and "maximum" in node:
                out[key] = node["maximum"]
        else:
            out[key] = value
    if node.get("exclusiveMinimum") is True:
        out.pop("minimum", None)
    if node.get("exclusiveMaximum") is True:
        out.pop("maximum", None)

    fmt = node.get("format")
    if fmt in INT_RANGES:
        low, high = INT_RANGES[fmt]
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    if node.get("x-kubernetes-int-or-string") or fmt == "int-or-string":
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def root_schema(crd: dict, version: dict) -> dict:
    """The whole object's schema for one version of a CRD."""
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    schema = convert(version["schema"]["openAPIV3Schema"])
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
    props["kind"] = {"type": "string", "enum": [kind]}
    props["metadata"] = METADATA
    schema["additionalProperties"] = False
    return {"$schema": SCHEMA_DIALECT, **schema}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader, reading a bare `=` as the string "=" the way go-yaml (Kubernetes) does:
    PyYAML resolves it to YAML 1.1's `value` tag and cannot construct it (silence-operator's CRD
    has `default: =` and `- =`)."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def crd_documents() -> list[tuple[Path, dict]]:
    docs = []
    for source in SOURCES:
        for path in sorted(source.glob("*.yaml")):
            for doc in yaml.load_all(path.read_text(), Loader=_Loader):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    docs.append((path, doc))
    return docs


FLUX_OPERATOR = "flux-operator"
FLUX_OPERATOR_ALERT = REPO / "third_party/upstream/crds/json-schema/notification.toolkit.fluxcd.io/alert_v1beta3.json"
EVENT_SOURCE_KIND = ("properties", "spec", "properties", "eventSources", "items", "properties", "kind")


def _at(schema: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        schema = schema[key]
    return schema


def flux_operator_alert(upstream: dict) -> dict:
    """The upstream Alert schema with the event source kinds of flux-operator's build added."""
    variant = json.loads(json.dumps(upstream))
    operator_kinds = _at(json.loads(FLUX_OPERATOR_ALERT.read_text()), EVENT_SOURCE_KIND)["enum"]
    kinds = _at(variant, EVENT_SOURCE_KIND)
    kinds["enum"] = kinds["enum"] + [kind for kind in operator_kinds if kind not in kinds["enum"]]
    return variant


def _text(schema: dict) -> str:
    return json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n"


def outputs() -> dict[Path, str]:
    out: dict[Path, str] = {}
    for _, crd in crd_documents():
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"].lower()
        for version in crd["spec"]["versions"]:
            if not version.get("served", True):
                continue
            schema = root_schema(crd, version)
            out[OUT_DIR / group / f"{kind}_{version['name']}.json"] = _text(schema)
            if group == "notification.toolkit.fluxcd.io" and kind == "alert" and version["name"] == "v1beta3":
                name = f"{kind}_{version['name']}.{FLUX_OPERATOR}.json"
                out[OUT_DIR / group / name] = _text(flux_operator_alert(schema))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a checked-in schema is stale")
    args = parser.parse_args(argv)
    wanted = outputs()
    return sync(wanted, list(OUT_DIR.glob("*/*.json")), args.check, "gen_crd_schemas.py", REPO)


if __name__ == "__main__":
    sys.exit(main())
