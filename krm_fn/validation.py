"""Validate one Kubernetes object against its real schema.

- Core kinds (Namespace, ConfigMap, Secret, Deployment, ...): kubernetes-validate's bundled
  **strict** JSON Schemas for the newest bundled Kubernetes version not newer than the one asked
  for. One validator per schema, built once on a shared `referencing` registry that holds that
  version's `_definitions.json`: kubernetes_validate.validate() re-reads 1.8 MB on every call
  (docs/reference/crds.md#3-kubernetes-validate), so it is never called here.
- Custom resources: the schemas scripts/gen_crd_schemas.py derives from the pinned CRDs
  (krm_fn/schemas/crds/<group>/<kind>_<version>.json).
- Anything else has no schema: `schema_for()` returns None and `validate()` reports nothing.

On top of the schemas, a few rules the API server enforces that no schema states: metadata.name
present and well-formed, ConfigMap and Secret data keys, HelmRelease's chart xor chartRef.

Messages name the field and what is wrong and never quote the object's values. A Secret is
checked without its top-level `sops` block (the SOPS rules check that) and with its values
blanked, so no secret value reaches the validator, a message or the cache. Objects that passed
before (same content, same schema file) are remembered by krm_fn.cache and skipped, which keeps
the schemas out of warm runs. krm_fn.schemacheck's fast check passes valid objects without
jsonschema, which only an invalid object imports (to say what is wrong).
"""

from __future__ import annotations

import json
import os
import re
import sys
from functools import cache

from krm_fn import cache as validation_cache
from krm_fn import schemacheck
from krm_fn.placeholders import UNKNOWN_IN_OBJECTS, has_placeholder, only_placeholder, stand_in
from krm_fn.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    from pathlib import Path
    from typing import Any

# Groups whose kinds kubernetes-validate has schemas for: the core group, the short legacy
# groups and *.k8s.io. Custom groups never go there (their first label could collide).
_LEGACY_GROUPS = {"", "apps", "batch", "autoscaling", "policy", "extensions"}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Shipped as package data. Plain os.path strings, not pathlib: start-up budget: docs/startup.md
_CRD_SCHEMAS = os.path.join(os.path.dirname(os.path.realpath(__file__)), "schemas", "crds")
_DATA_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# Kinds whose names the API server checks as DNS subdomains (Namespace: as a DNS label).
_SUBDOMAIN_NAMES = {
    "ConfigMap",
    "Secret",
    "Service",
    "ServiceAccount",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "HelmRelease",
    "HelmRepository",
    "OCIRepository",
    "Provider",
    "Alert",
    "HTTPRoute",
    "Gateway",
    "PodMonitor",
}


class SchemaProblem(Record):
    """One violation: the field path inside the object and what is wrong with it."""

    path: tuple[str | int, ...]
    message: str


class SchemaRef(Record):
    """Which schema an object is checked against."""

    source: str  # "kubernetes" (kubernetes-validate) or "crd" (ours)
    name: str  # e.g. "v1.32.0-local-strict/configmap-v1.json", "helm.toolkit.fluxcd.io/helmrelease_v2.json"
    file: str

    @property
    def directory(self) -> str:
        return os.path.dirname(self.file)


# --- finding the schema (cheap: no schema is read) ----------------------------------------------


@cache
def _kubernetes_schema_root() -> str | None:
    # The first sys.path entry holding the package, as the import system would find it, without
    # importing it or importlib (importlib.machinery brings `warnings`, importlib.util `contextlib`).
    # start-up budget: docs/startup.md
    for entry in sys.path:
        package = os.path.join(entry or os.curdir, "kubernetes_validate")
        if os.path.isfile(os.path.join(package, "__init__.py")):
            root = os.path.join(package, "kubernetes-json-schema")
            return root if os.path.isdir(root) else None
    return None


def _minor(version: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", version.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def kubernetes_schema_dir(kubernetes_version: str) -> Path | None:
    """The strict schema directory for the newest bundled version not newer than the one asked for."""
    from pathlib import Path  # start-up budget: docs/startup.md

    directory = _kubernetes_schema_dir(kubernetes_version)
    return None if directory is None else Path(directory)


@cache
def _kubernetes_schema_dir(kubernetes_version: str) -> str | None:
    root = _kubernetes_schema_root()
    wanted = _minor(kubernetes_version)
    if root is None or wanted is None:
        return None
    bundled = {}
    for name in os.listdir(root):
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", name)
        if match:
            bundled[(int(match.group(1)), int(match.group(2)))] = os.path.join(root, name)
    usable = [v for v in bundled if v <= wanted] or sorted(bundled)[:1]
    return bundled[max(usable)] if usable else None


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


@cache
def schema_for(api_version: str, kind: str, kubernetes_version: str, variant: str = "") -> SchemaRef | None:
    """The schema of this apiVersion and kind, or None when the package has none.

    `variant` names a distribution whose CRDs differ (flux-operator): its schema file
    `<kind>_<version>.<variant>.json` is used where there is one.
    """
    if not api_version or not kind or not re.fullmatch(r"[A-Za-z0-9]+", kind):
        return None
    group, version = _group_version(api_version)
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", group or "x") or not re.fullmatch(r"v[a-z0-9]+", version):
        return None
    if variant and group:
        variant_name = f"{kind.lower()}_{version}.{variant}.json"
        crd = os.path.join(_CRD_SCHEMAS, group, variant_name)
        if os.path.isfile(crd):
            return SchemaRef("crd", f"{group}/{variant_name}", crd)
    crd_name = f"{kind.lower()}_{version}.json"
    crd = os.path.join(_CRD_SCHEMAS, group, crd_name)
    if group and os.path.isfile(crd):
        return SchemaRef("crd", f"{group}/{crd_name}", crd)
    if group not in _LEGACY_GROUPS and not group.endswith(".k8s.io"):
        return None
    directory = _kubernetes_schema_dir(kubernetes_version)
    if directory is None:
        return None
    prefix = group.split(".")[0]
    name = f"{kind.lower()}-{prefix}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    path = os.path.join(directory, name)
    return SchemaRef("kubernetes", f"{os.path.basename(directory)}/{name}", path) if os.path.isfile(path) else None


# --- validation ----------------------------------------------------------------------------------


def validate(obj: dict, kubernetes_version: str, variant: str = "") -> list[SchemaProblem]:
    """Every problem of `obj` against its schema; [] when valid or when no schema is known
    (ask `schema_for` to tell those apart). `variant`: see `schema_for`."""
    ref = schema_for(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""), kubernetes_version, variant)
    if ref is None:
        return []
    subject = _subject(obj)
    key = validation_cache.digest("schema", _fingerprint(ref).encode() + b"\0" + _canonical(subject))
    if validation_cache.passed_before(key):
        return []
    problems = sorted(set(_schema_problems(ref, subject) + _api_rules(subject)), key=_order)
    if not problems:
        validation_cache.remember(key)
    return problems


def _order(problem: SchemaProblem) -> tuple:
    return (tuple(str(p) for p in problem.path), problem.message)


def _subject(obj: dict) -> dict:
    """What is validated: a Secret loses its `sops` block and its values (kept: their types)."""
    if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1":
        return obj
    out = {key: value for key, value in obj.items() if key != "sops"}
    for field in ("data", "stringData"):
        values = out.get(field)
        if isinstance(values, dict):
            out[field] = {k: ("" if isinstance(v, str) else v) for k, v in values.items()}
    return out


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=repr).encode()


@cache  # stat()ed once a run, not once an object
def _fingerprint(ref: SchemaRef) -> str:
    """The schema's identity for the cache: its name and its file's size and mtime."""
    files = [ref.file]
    if ref.source == "kubernetes":
        files.append(os.path.join(ref.directory, "_definitions.json"))
    stats = [os.stat(f) for f in files]
    return ref.name + "".join(f":{s.st_size}:{s.st_mtime_ns}" for s in stats)


def _schema_problems(ref: SchemaRef, subject: dict) -> list[SchemaProblem]:
    if schemacheck.conforms(_schema(ref), subject, _resolver(ref), _draft(ref)) is True:
        return []  # certainly valid: jsonschema is not even imported
    problems: list[SchemaProblem] = []
    for error in _validator(ref).iter_errors(subject):
        if not only_placeholder(error, UNKNOWN_IN_OBJECTS):
            problems.extend(_describe(error))
    return problems


def _draft(ref: SchemaRef) -> str:
    return "2020-12" if ref.source == "kubernetes" else "7"


@cache
def _schema(ref: SchemaRef) -> dict:
    with open(ref.file, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def _definitions(directory: str) -> dict:
    """One Kubernetes version's shared definitions (`_definitions.json`, 1.3 MB)."""
    with open(os.path.join(directory, "_definitions.json"), encoding="utf-8") as handle:
        return json.load(handle)


class _DecodedOnUse(dict):
    """Definition name -> its JSON text, decoded when first looked up (a run uses a few dozen)."""

    def __getitem__(self, name: str) -> Any:
        value = dict.__getitem__(self, name)
        if type(value) is str:
            value = json.loads(value)
            dict.__setitem__(self, name, value)
        return value


@cache
def _lazy_definitions(directory: str) -> dict:
    """`_definitions.json` for the fast check's `$ref`s: one text per definition, kept next to the
    bytecode (krm_fn/pycache.py), so a run decodes what it uses: ~0.5 ms, not ~7 ms for the file."""
    from krm_fn import pycache  # start-up budget: docs/startup.md (only a run that validates for real)

    path = os.path.join(directory, "_definitions.json")
    info = os.stat(path)
    identity = (path, info.st_size, int(info.st_mtime))  # whole seconds, as .pyc files: what COPY keeps
    name = "k8s-" + os.path.basename(os.path.normpath(directory))
    stored = pycache.load(name, identity)
    if not isinstance(stored, dict) or not isinstance(stored.get("$defs"), dict):
        document = _definitions(directory)
        stored = {**document, "$defs": {k: json.dumps(v) for k, v in document.get("$defs", {}).items()}}
        pycache.store(name, identity, stored)
    return {**stored, "$defs": _DecodedOnUse(stored["$defs"])}


def _resolver(ref: SchemaRef) -> Any:
    """`$ref` -> (schema, resolver inside it), for schemacheck.conforms: a pointer into the schema
    itself, or into the version's `_definitions.json` (whose own `#/...` point into it)."""

    def pointer(document: dict, fragment: str) -> Any:
        node: Any = document
        for part in fragment.split("/")[1:] if fragment else ():
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, dict | bool) else None

    def in_schema(target: str) -> tuple[Any, Any] | None:
        document, _, fragment = target.partition("#")
        if not document:
            node = pointer(_schema(ref), fragment)
            return None if node is None else (node, in_schema)
        if ref.source == "kubernetes" and document.rsplit("/", 1)[-1] == "_definitions.json":
            return in_definitions("#" + fragment)
        return None

    def in_definitions(target: str) -> tuple[Any, Any] | None:
        document, _, fragment = target.partition("#")
        if document and document.rsplit("/", 1)[-1] != "_definitions.json":
            return None
        node = pointer(_lazy_definitions(ref.directory), fragment)
        return None if node is None else (node, in_definitions)

    return in_schema


@cache
def _validator(ref: SchemaRef) -> Any:
    """One jsonschema validator per schema, built on first use."""
    registry = _registry(ref.directory) if ref.source == "kubernetes" else None
    return schemacheck.validator(_schema(ref), _draft(ref), registry)


@cache
def _registry(directory: str) -> Any:
    """The `referencing` registry holding one Kubernetes version's shared definitions."""
    from referencing import Registry, Resource  # start-up budget: docs/startup.md

    definitions = _definitions(directory)
    return Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))


# --- messages -------------------------------------------------------------------------------------

_TYPE_NAMES = {
    "object": "a map",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    return "null" if value is None else type(value).__name__


def _types(value: Any) -> str:
    names = [value] if isinstance(value, str) else [v for v in value if v != "null"] or list(value)
    return " or ".join(_TYPE_NAMES.get(n, str(n)) for n in names)


def _listing(values: list) -> str:
    shown = ", ".join(json.dumps(v) for v in values[:12])
    return shown + (f" (and {len(values) - 12} more)" if len(values) > 12 else "")


def _names(names: list[str]) -> str:
    ordered = sorted(names)
    return ", ".join(ordered[:15]) + (f" (and {len(ordered) - 15} more)" if len(ordered) > 15 else "")


def _describe(error: Any) -> list[SchemaProblem]:
    """Our own message for a jsonschema error: the value is never quoted."""
    import difflib  # start-up budget: docs/startup.md

    path = tuple(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    instance = error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = list((error.schema.get("properties") or {}).keys())
        patterns = [re.compile(p) for p in (error.schema.get("patternProperties") or {})]
        out = []
        for key in instance:
            if key in known or any(p.search(str(key)) for p in patterns):
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {_names(known)}"
            if not known:
                hint = ": no fields are allowed here"
            out.append(SchemaProblem((*path, str(key)), f"unknown field {str(key)!r}{hint}"))
        return out
    if kind == "required" and isinstance(instance, dict):
        return [SchemaProblem(path, f"missing required field {name!r}") for name in value if name not in instance]
    if kind == "type":
        return [SchemaProblem(path, f"must be {_types(value)}, not {_type_of(instance)}")]
    if kind == "enum":
        return [SchemaProblem(path, f"must be one of {_listing(list(value))}")]
    if kind == "const":
        return [SchemaProblem(path, f"must be {json.dumps(value)}")]
    if kind == "pattern":
        trailing = isinstance(instance, str) and instance != instance.rstrip()
        note = ": it ends with whitespace or a newline" if trailing else ""
        return [SchemaProblem(path, f"must match the pattern {value}{note}")]
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return [SchemaProblem(path, f"must be {bound} {value} characters long")]
    if kind in ("minItems", "maxItems"):
        bound = "at least" if kind == "minItems" else "at most"
        return [SchemaProblem(path, f"must have {bound} {value} items")]
    if kind in ("minProperties", "maxProperties"):
        bound = "at least" if kind == "minProperties" else "at most"
        return [SchemaProblem(path, f"must have {bound} {value} fields")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return [SchemaProblem(path, f"must be {op} {value}")]
    if kind == "uniqueItems":
        return [SchemaProblem(path, "must not repeat items")]
    if kind in ("anyOf", "oneOf"):
        branches = value if isinstance(value, list) else []
        if branches and all(set(b) == {"type"} for b in branches):
            return [SchemaProblem(path, f"must be {' or '.join(_types(b['type']) for b in branches)}")]
        if kind == "oneOf" and not error.context:
            return [SchemaProblem(path, "matches more than one of the allowed forms; set only one of them")]
        from jsonschema.exceptions import best_match  # start-up budget: docs/startup.md

        best = best_match(error.context) if error.context else None
        return _describe(best) if best is not None else [SchemaProblem(path, "matches none of the allowed forms")]
    if kind == "not":
        return [SchemaProblem(path, "is not allowed here")]
    return [SchemaProblem(path, f"is invalid ({kind})")]


# --- rules of the API server that no schema states ----------------------------------------------


def _api_rules(obj: dict) -> list[SchemaProblem]:
    problems = []
    kind = obj.get("kind")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(meta, dict):
        if meta is None:
            problems.append(SchemaProblem(("metadata",), "missing: every object needs metadata with a name"))
        meta = {}
    elif not isinstance(name, str) or not name:
        problems.append(SchemaProblem(("metadata", "name"), "missing: every object needs a name"))
    elif kind == "Namespace":
        # `_`: a component's placeholder Namespace, renamed by the including kustomization's `namespace:`.
        if name != COMPONENT_NAMESPACE and not _is_label(name):
            problems.append(SchemaProblem(("metadata", "name"), _DNS_LABEL_HELP))
    elif kind in _SUBDOMAIN_NAMES and not _is_subdomain(name):
        problems.append(SchemaProblem(("metadata", "name"), _DNS_SUBDOMAIN_HELP))
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace and not _is_label(namespace):
        problems.append(SchemaProblem(("metadata", "namespace"), _DNS_LABEL_HELP))

    if kind in ("ConfigMap", "Secret"):
        for field in ("data", "stringData", "binaryData"):
            values = obj.get(field)
            if not isinstance(values, dict):
                continue
            for key in values:
                if not isinstance(key, str) or len(key) > 253 or not _DATA_KEY.fullmatch(_known(key)):
                    problems.append(
                        SchemaProblem((field, str(key)), "key must be letters, digits, '-', '_' or '.' (at most 253)")
                    )
    if kind == "HelmRelease" and isinstance(obj.get("spec"), dict):
        spec = obj["spec"]
        if ("chart" in spec) == ("chartRef" in spec):
            problems.append(SchemaProblem(("spec",), "set exactly one of spec.chart and spec.chartRef"))
    return problems


COMPONENT_NAMESPACE = "_"


def _known(value: str) -> str:
    """A name with its substitution placeholders replaced by a valid stand-in: what can be checked now."""
    return stand_in(value) if has_placeholder(value) else value


def _is_label(name: str) -> bool:
    name = _known(name)
    return len(name) <= 63 and _DNS_LABEL.fullmatch(name) is not None


def _is_subdomain(name: str) -> bool:
    name = _known(name)
    return len(name) <= 253 and _DNS_SUBDOMAIN.fullmatch(name) is not None


_DNS_LABEL_HELP = "must be a DNS label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63"
_DNS_SUBDOMAIN_HELP = (
    "must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending alphanumeric, at most 253"
)
