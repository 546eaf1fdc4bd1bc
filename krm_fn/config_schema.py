"""The ObservabilityConfig JSON Schema: reading it, its defaults, validating against it, and the
messages a person can act on ("unknown field 'retension'; did you mean 'retention'?").

`schema/observabilityconfig.json` is the single source of truth for what is valid and for every
default; krm_fn/config.py builds the model from a config this module has validated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache

from krm_fn import cache as validation_cache
from krm_fn import schemacheck
from krm_fn.placeholders import UNKNOWN_IN_CONFIG, has_placeholder, only_placeholder
from krm_fn.plain import plain_copy

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    from typing import Any

# Next to this module (package data), not importlib.resources: start-up budget: docs/startup.md
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema", "observabilityconfig.json")


@cache
def schema() -> dict:
    """The JSON Schema of ObservabilityConfig, as shipped in the package."""
    return json.loads(schema_text())


def schema_text() -> str:
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        return handle.read()


# --- defaults ------------------------------------------------------------------------------


def resolve(node: dict) -> dict:
    """Follow a local `$ref` (one level is all our schema uses)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema()
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def apply_defaults(instance: Any, node: dict | None = None) -> Any:
    """A copy of `instance` with every missing property that has a schema default filled in."""
    node = resolve(schema() if node is None else node)
    if isinstance(instance, list) and isinstance(node.get("items"), dict):
        return [apply_defaults(item, node["items"]) for item in instance]  # e.g. each of alerting.silences
    if not isinstance(instance, dict) or "properties" not in node:
        return instance
    out = dict(instance)
    for key, sub in node["properties"].items():
        sub = resolve(sub)
        if key not in out and "default" in sub:
            out[key] = plain_copy(sub["default"])
        if key in out:
            out[key] = apply_defaults(out[key], sub)
    return out


# --- validation and messages ---------------------------------------------------------------

_PATTERN_HINTS = {
    "dnsLabel": "a DNS label: lowercase letters, digits and '-', at most 63 characters",
    "dnsSubdomain": "a DNS subdomain: lowercase letters, digits, '-' and '.'",
    "hostname": "a lowercase DNS name (RFC 1123) with no trailing dot, each label at most 63 characters",
    "labelValue": "a label value: letters, digits, '-', '_' and '.', at most 63 characters",
    "qualifiedName": "a label or annotation key: [DNS prefix/]name, the name of letters, digits, '-', '_', '.'",
    "labelValueOrEmpty": "a label value: empty, or letters, digits, '-', '_' and '.', at most 63 characters",
    "promDuration": "a Prometheus duration such as 30s, 5m, 12h or 7d",
    "quantity": "a Kubernetes quantity such as 100m, 256Mi or 10Gi",
    "secretKey": "a Secret key: letters, digits, '-', '_' and '.'",
}

# Fields that were valid once, with how to move their value (looked up before any other hint).
_MOVED_FIELDS = {
    "spec.alerting.heartbeat.url": (
        "the heartbeat URL is a secret (in Git, anyone who reads it can keep pinging it and hide a dead "
        "cluster): move it into the stack Secret (spec.secret.name) under key 'heartbeat-url' with "
        "`sops edit`, as a plain scalar with no trailing newline, and delete this field "
        "(spec.alerting.heartbeat.urlKey names another key)"
    ),
    "spec.alloy.clustering": (
        "one Alloy reads every container through the API server and keeps its read positions on its claim; "
        "clustered replicas would hand containers to each other on every restart without those positions "
        "and read their logs from the start again, so no profile runs more than one; delete this field "
        "(docs/ha.md, What the loss of a node costs)"
    ),
}


def _all_property_paths() -> dict[str, list[str]]:
    """Every property name in the schema -> the dotted paths where it is valid."""
    found: dict[str, list[str]] = {}

    def walk(node: dict, path: str) -> None:
        node = resolve(node)
        for key, sub in node.get("properties", {}).items():
            dotted = f"{path}.{key}" if path else key
            found.setdefault(key, []).append(dotted)
            walk(sub, dotted)

    walk(schema(), "")
    return found


def dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pattern_hint(pattern: str) -> str:
    for name, text in _PATTERN_HINTS.items():
        if schema()["$defs"][name].get("pattern") == pattern:
            return text
    return f"a value matching {pattern}"


def message(error) -> tuple[list, str]:
    """(field path, human message) for one jsonschema error."""
    path = dotted(error.absolute_path)
    parts = list(error.absolute_path)
    validator = error.validator
    if isinstance(error.schema, dict) and "x-message" in error.schema:
        return parts, error.schema["x-message"]  # the schema's own words for a rule across fields
    if validator in ("type", "enum", "const") and has_placeholder(error.instance):
        return parts, (
            f"{error.instance!r} is a Flux substitution placeholder, but the stack is generated from this "
            "value before Flux substitutes anything; write the value itself (placeholders are kept only in "
            "strings the function copies into the objects, such as domain or cluster)"
        )
    if validator == "additionalProperties":
        import difflib  # start-up budget: docs/startup.md (only an invalid config gets here)

        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        messages = []
        for key in unknown:
            if f"{path}.{key}" in _MOVED_FIELDS:
                messages.append(f"field {key!r} is no longer accepted: {_MOVED_FIELDS[f'{path}.{key}']}")
                continue
            text = f"unknown field {key!r}"
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            elsewhere = [p for p in _all_property_paths().get(key, []) if p != f"{path}.{key}"]
            if close:
                text += f"; did you mean {close[0]!r}?"
            elif elsewhere:
                text += f"; it belongs at {' or '.join(elsewhere)}"
            else:
                text += f"; known fields here: {', '.join(known)}"
            messages.append(text)
        return parts + unknown[:1] if len(unknown) == 1 else parts, "; ".join(messages)
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        field = [*parts, missing]
        if missing == "gateway":
            return field, (
                "spec.gateway is required while any UI is exposed: set spec.gateway.name and "
                "spec.gateway.namespace, or set enabled: false on every spec.ui entry"
            )
        sub = resolve(error.schema.get("properties", {}).get(missing, {}))
        why = f" ({sub['description'].split('. ')[0].rstrip('.')})" if sub.get("description") else ""
        return field, f"required field {missing!r} is missing{why}"
    if validator == "enum":
        choices = ", ".join(str(c) for c in error.validator_value)
        if "charts" in list(error.absolute_path):
            return parts, (
                f"version {error.instance!r} is not supported; supported: {choices} "
                "(the function ships the values paths of these versions only)"
            )
        return parts, f"{error.instance!r} is not one of: {choices}"
    if validator == "const":
        return parts, f"must be {error.validator_value!r}, not {error.instance!r}"
    if validator == "pattern":
        return parts, f"{error.instance!r} is not {_pattern_hint(error.validator_value)}"
    if validator == "type":
        expected = error.validator_value
        return parts, f"must be of type {expected if isinstance(expected, str) else ' or '.join(expected)}"
    if validator in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems"):
        return parts, error.message.replace("'", "")
    return parts, error.message


def resolve_ref(target: str) -> tuple[dict, Callable] | None:
    """A `$ref` of the config schema (all are local: `#/$defs/...`), for schemacheck.conforms."""
    if not target.startswith("#/"):
        return None
    node = schema()
    for part in target[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return (node, resolve_ref) if isinstance(node, dict) else None


def validate(instance: dict) -> list:
    """The jsonschema errors of `instance`; [] when valid (known from the cache or the fast check)."""
    key = validation_cache.digest("config", json.dumps(instance, sort_keys=True, default=str).encode())
    if validation_cache.passed_before(key):
        return []
    if schemacheck.conforms(schema(), instance, resolve_ref) is True:
        validation_cache.remember(key)
        return []
    validator = schemacheck.validator(schema())
    errors = sorted(
        (e for e in validator.iter_errors(instance) if not only_placeholder(e, UNKNOWN_IN_CONFIG)),
        key=lambda e: (list(map(str, e.absolute_path)), e.validator),
    )
    if not errors:
        validation_cache.remember(key)
    return errors
