"""JSON Schema validation shared by the config (krm_fn.config) and the objects (krm_fn.validation).

Two layers:

- `conforms()`: a small, dependency-free check that answers True only when the instance is
  certainly valid. It knows the keywords our schemas use (the config schema, the derived CRD
  schemas, kubernetes-validate's strict schemas) and answers None ("not sure") on anything
  else, so the caller then asks jsonschema. Valid input is the normal case, and this keeps
  jsonschema (~50-100 ms to import, plus building validators) out of a cold run: the first run
  with a new config, and every container call, which always starts cold.
- `validator()`: the jsonschema validator that finds and describes every problem, built once
  per schema. Both layers apply `pattern` the way Kubernetes (Go's regexp) does: `$` matches
  only at the very end, never before a final newline (`anchored()`).

Invariant (tests/test_validation.py checks it on generated inputs): `conforms()` True implies
jsonschema finds no error; False implies it finds one.
"""

from __future__ import annotations

import re
from functools import cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    from collections.abc import Callable
    from typing import Any

    Resolver = Callable[[str], "tuple[dict | bool, Resolver] | None"]

# Keywords that never make an instance invalid (jsonschema asserts no `format` unless asked to).
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default", "examples", "format"}
    | {"deprecated", "readOnly", "writeOnly", "discriminator"}
)
# Judged by `properties` and `if`.
_JUDGED_WITH_OTHERS = frozenset({"additionalProperties", "patternProperties", "then", "else"})


@cache
def anchored(regex: str) -> re.Pattern:
    """`regex` with each `$` outside a character class made to match only at the very end.

    Python's `$` also matches before a trailing newline, so "example.com\\n" would pass a
    hostname pattern that Kubernetes (Go's regexp) rejects.
    """
    out = []
    in_class = False
    i = 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if regex[i + 1 : i + 2] == "]" or regex[i + 1 : i + 3] == "^]":  # a literal ] first
                step = 2 if regex[i + 1] == "]" else 3
                out.append(regex[i : i + step])
                i += step
                continue
        elif ch == "$":
            out.append(r"\Z")
            i += 1
            continue
        out.append(ch)
        i += 1
    return re.compile("".join(out))


# --- the fast check ----------------------------------------------------------------------------


def conforms(
    schema: dict | bool, instance: Any, resolve: Resolver | None = None, draft: str = "2020-12"
) -> bool | None:
    """True when `instance` is certainly valid, False when certainly invalid, None when unsure.

    `resolve` maps a `$ref` to (its schema, the resolver for the `$ref`s inside that schema's
    document); None when it cannot, and the answer is then None.
    """
    try:
        return _check(schema, instance, resolve, draft == "7")
    except RecursionError:
        return None


def _all(answers) -> bool | None:
    """True if all are True, False if any is False, else None."""
    unsure = False
    for answer in answers:
        if answer is False:
            return False
        if answer is None:
            unsure = True
    return None if unsure else True


def _check(node: Any, x: Any, resolve, draft7: bool) -> bool | None:
    if node is True or node == {}:
        return True
    if node is False:
        return False
    if not isinstance(node, dict):
        return None
    if "$ref" in node:
        found = resolve(node["$ref"]) if resolve is not None else None
        if found is None:
            return None
        target, inner = found
        answer = _check(target, x, inner, draft7)
        if draft7 or answer is False:  # draft 7 ignores the siblings of $ref
            return answer
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _all((answer, _check(rest, x, resolve, draft7)))
    unsure = False
    for key, value in node.items():
        if key in _ANNOTATIONS or key.startswith("x-") or key in _JUDGED_WITH_OTHERS:
            continue
        check = _KEYWORDS.get(key)
        if check is None:
            return None
        answer = check(node, value, x, resolve, draft7)
        if answer is False:
            return False
        if answer is None:
            unsure = True
    if "properties" not in node and ("additionalProperties" in node or "patternProperties" in node):
        answer = _properties(node, {}, x, resolve, draft7)
        if answer is False:
            return False
        if answer is None:
            unsure = True
    return None if unsure else True


def _is_type(x: Any, name: str) -> bool | None:
    if name == "string":
        return isinstance(x, str)
    if name == "object":
        return isinstance(x, dict)
    if name == "array":
        return isinstance(x, list)
    if name == "boolean":
        return isinstance(x, bool)
    if name == "null":
        return x is None
    if isinstance(x, bool):
        return False if name in ("integer", "number") else None
    if name == "integer":
        if isinstance(x, int):
            return True
        return None if isinstance(x, float) and x.is_integer() else False  # jsonschema counts 1.0 as an integer
    if name == "number":
        return isinstance(x, int | float)
    return None


def _type(node, value, x, resolve, draft7):
    names = [value] if isinstance(value, str) else value
    answers = [_is_type(x, n) for n in names]
    return True if True in answers else (None if None in answers else False)


def _scalar(x: Any) -> bool:
    return x is None or isinstance(x, str | int | float)  # bool is an int


def _same(a: Any, b: Any) -> bool | None:
    """JSON equality for scalars (true is not 1); None for anything else."""
    if not (_scalar(a) and _scalar(b)):
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _enum(node, value, x, resolve, draft7):
    answers = [_same(x, v) for v in value]
    return True if True in answers else (None if None in answers else False)


def _const(node, value, x, resolve, draft7):
    return _same(x, value)


def _pattern(node, value, x, resolve, draft7):
    return not isinstance(x, str) or anchored(value).search(x) is not None


def _min_length(node, value, x, resolve, draft7):
    return not isinstance(x, str) or len(x) >= value


def _max_length(node, value, x, resolve, draft7):
    return not isinstance(x, str) or len(x) <= value


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _bound(x: Any, holds) -> bool | None:
    if not _number(x):
        return True
    if x != x:  # NaN: jsonschema's comparisons let it through every bound; leave it to jsonschema
        return None
    return holds(x)


def _minimum(node, value, x, resolve, draft7):
    return _bound(x, lambda n: n >= value)


def _maximum(node, value, x, resolve, draft7):
    return _bound(x, lambda n: n <= value)


def _exclusive_minimum(node, value, x, resolve, draft7):
    return None if isinstance(value, bool) else _bound(x, lambda n: n > value)


def _exclusive_maximum(node, value, x, resolve, draft7):
    return None if isinstance(value, bool) else _bound(x, lambda n: n < value)


def _required(node, value, x, resolve, draft7):
    return not isinstance(x, dict) or all(name in x for name in value)


def _min_items(node, value, x, resolve, draft7):
    return not isinstance(x, list) or len(x) >= value


def _max_items(node, value, x, resolve, draft7):
    return not isinstance(x, list) or len(x) <= value


def _min_properties(node, value, x, resolve, draft7):
    return not isinstance(x, dict) or len(x) >= value


def _max_properties(node, value, x, resolve, draft7):
    return not isinstance(x, dict) or len(x) <= value


def _unique_items(node, value, x, resolve, draft7):
    if not value or not isinstance(x, list):
        return True
    if not all(isinstance(item, str) for item in x):
        return None  # 1 and 1.0 are equal, true and 1 are not: leave it to jsonschema
    return len(set(x)) == len(x)


def _items(node, value, x, resolve, draft7):
    if not isinstance(x, list):
        return True
    if not isinstance(value, dict | bool):
        return None  # the tuple form
    return _all(_check(value, item, resolve, draft7) for item in x)


def _properties(node, value, x, resolve, draft7):
    """`properties` together with `additionalProperties` and `patternProperties`."""
    if not isinstance(x, dict):
        return True
    if node.get("patternProperties"):
        return None
    extra = node.get("additionalProperties", True)
    answers = []
    for key, item in x.items():
        sub = value.get(key) if isinstance(key, str) else None
        if sub is not None:
            answers.append(_check(sub, item, resolve, draft7))
        elif extra is not True:
            answers.append(_check(extra, item, resolve, draft7))
        if answers and answers[-1] is False:
            return False
    return _all(answers)


def _property_names(node, value, x, resolve, draft7):
    if not isinstance(x, dict):
        return True
    return _all(_check(value, key, resolve, draft7) for key in x)


def _any_of(node, value, x, resolve, draft7):
    answers = [_check(sub, x, resolve, draft7) for sub in value]
    return True if True in answers else (None if None in answers else False)


def _all_of(node, value, x, resolve, draft7):
    return _all(_check(sub, x, resolve, draft7) for sub in value)


def _one_of(node, value, x, resolve, draft7):
    answers = [_check(sub, x, resolve, draft7) for sub in value]
    if answers.count(True) > 1:
        return False
    if None in answers:
        return None
    return answers.count(True) == 1


def _not(node, value, x, resolve, draft7):
    answer = _check(value, x, resolve, draft7)
    return None if answer is None else not answer


def _if(node, value, x, resolve, draft7):
    answer = _check(value, x, resolve, draft7)
    if answer is None:
        return None
    branch = node.get("then" if answer else "else", True)
    return _check(branch, x, resolve, draft7)


_KEYWORDS = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "exclusiveMaximum": _exclusive_maximum,
    "required": _required,
    "minItems": _min_items,
    "maxItems": _max_items,
    "minProperties": _min_properties,
    "maxProperties": _max_properties,
    "uniqueItems": _unique_items,
    "items": _items,
    "properties": _properties,
    "propertyNames": _property_names,
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}


# --- jsonschema: every problem, for the messages --------------------------------------------------


@cache
def validator_class(draft: str) -> Any:
    """A jsonschema validator class ("7" or "2020-12") whose `pattern` is `anchored()`."""
    # start-up budget: docs/startup.md
    from jsonschema import Draft7Validator, Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, regex: str, instance: Any, schema: dict) -> Any:
        if validator.is_type(instance, "string") and not anchored(regex).search(instance):
            # The value is not quoted: it may be a secret's.
            yield ValidationError(f"does not match {regex!r}", validator="pattern", validator_value=regex)

    base = Draft202012Validator if draft == "2020-12" else Draft7Validator
    return validators.extend(base, {"pattern": pattern})


def validator(schema: dict, draft: str = "2020-12", registry: Any = None) -> Any:
    """A jsonschema validator for `schema` (with `registry` holding the documents its `$ref`s name)."""
    cls = validator_class(draft)
    return cls(schema) if registry is None else cls(schema, registry=registry)
