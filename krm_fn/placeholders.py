"""Flux post-build substitution placeholders: `${VAR}`, `${VAR:=default}`, `${VAR:-default}` and the rest.

Flux's kustomize-controller runs `postBuild.substitute`/`substituteFrom` over the text kustomize
built (drone/envsubst syntax: a variable name of letters, digits and `_` not starting with a
digit, optionally followed by an operator such as `:=`, `:-`, `=`, `-`, `:pos:len`, `/a/b`,
`^^`, `,,`; `$${VAR}` is an escaped literal). So a field holding one is UNKNOWN until Flux
runs: the rules check the known rest (a stand-in replaces each placeholder) and never report a
problem that only the placeholder causes.
"""

from __future__ import annotations

import re

# `${NAME}` or `${NAME<operator and argument>}`; `$${...}` is envsubst's escape for a literal `${`.
_PLACEHOLDER = re.compile(r"(?<!\$)\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:=\-+?/#%^,][^{}]*)?\}")
_PARTS = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:=|:-|=|-)(?P<default>[^{}]*))?\}")
STAND_IN = "x"  # a stand-in valid in any DNS label, name or path segment, and as short as a value can be


# What a string holding a placeholder may break without being wrong (jsonschema's validator names).
# In an object Flux applies: its final text, and, since Flux substitutes before parsing, its type.
UNKNOWN_IN_OBJECTS = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "anyOf",
        "oneOf",
        "not",
    }
)
# In the ObservabilityConfig: only a string's shape. The function copies such a string into the objects
# and Flux substitutes it later; a choice (enum, const) or a number the stack is computed from must be
# written out, since the function needs it before Flux runs.
UNKNOWN_IN_CONFIG = frozenset({"pattern", "format", "minLength", "maxLength"})


def only_placeholder(error: object, unknown: frozenset[str]) -> bool:
    """Is this jsonschema error caused only by a placeholder's unknown value (a validator in `unknown`)?"""
    return getattr(error, "validator", None) in unknown and has_placeholder(getattr(error, "instance", None))


def has_placeholder(value: object) -> bool:
    """Does this string hold a substitution placeholder (so its final value is not known yet)?"""
    return isinstance(value, str) and "${" in value and _PLACEHOLDER.search(value) is not None


def is_placeholder(value: object) -> bool:
    """Is this string one placeholder and nothing else (`${VAR}`, `${VAR:=x}`)?"""
    return isinstance(value, str) and _PLACEHOLDER.fullmatch(value.strip()) is not None


def stand_in(value: str, fill: str = STAND_IN) -> str:
    """`value` with each placeholder replaced by `fill`: what to check of a partly known value."""
    return _PLACEHOLDER.sub(fill, value)


def placeholders(value: str) -> list[str]:
    """The placeholders in `value`, in order."""
    return _PLACEHOLDER.findall(value)


def substitute(value: str, variables: dict[str, str], use_defaults: bool = False) -> str:
    """`value` with the placeholders Flux would resolve from `variables` replaced; the rest left as they are.

    `${VAR}` and its default forms take the variable's value when it is known. With `use_defaults`
    (no `substituteFrom` could still supply the variable), an unknown variable's `:=`/`:-`/`=`/`-`
    default is used, as envsubst does. Other operators (`:pos:len`, `/a/b`, ...) are left unknown.
    """

    def replace(match: re.Match) -> str:
        parts = _PARTS.fullmatch(match.group(0))
        if parts is None:
            return match.group(0)
        name, op = parts["name"], parts["op"]
        if name in variables:
            known = variables[name]
            if op in (":=", ":-") and known == "":
                return parts["default"]
            return known
        if use_defaults and op is not None:
            return parts["default"]
        return match.group(0)

    return _PLACEHOLDER.sub(replace, value)
