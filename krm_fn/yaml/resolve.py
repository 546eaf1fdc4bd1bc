"""Scalar resolution as go-yaml v3 (kyaml, kustomize, kpt, Flux) does it.

Differences from PyYAML's YAML 1.1 resolver: only true/false are booleans (`on`, `yes`, `n`
are strings), timestamps are strings, integers follow Go's base prefixes (`0777` is octal,
`0x1F` hex, `0o17`, `0b101`).
"""

from __future__ import annotations

import re

GO_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
GO_INT = re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
GO_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
GO_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
GO_MERGE = re.compile(r"^<<$")
STR, INT, FLOAT, BOOL, NULL, MERGE, SEQ, MAP = (
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "merge", "seq", "map")
)
_GO_IMPLICIT = ((BOOL, GO_BOOL), (INT, GO_INT), (FLOAT, GO_FLOAT), (NULL, GO_NULL), (MERGE, GO_MERGE))
_MAYBE_NOT_STR = frozenset("-+.0123456789tTfFnN~<")  # first characters of go-yaml's non-strings


def _go_resolves_to_str(plain: str) -> bool:
    """True when go-yaml v3 reads this plain scalar as a string."""
    return not any(p.match(plain) for p in (GO_BOOL, GO_INT, GO_FLOAT, GO_NULL, GO_MERGE))


def _go_int(text: str) -> int:
    text = text.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith(("0x", "0X")):
        return sign * int(digits[2:], 16)
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _go_float(text: str) -> float:
    lower = text.lower()
    if lower.endswith(".nan"):
        return float("nan")
    if lower.endswith(".inf"):
        return float("-inf") if lower.startswith("-") else float("inf")
    return float(lower)


_SCALARS = {INT: _go_int, FLOAT: _go_float, BOOL: lambda v: v.lower() == "true", NULL: lambda v: None}


# What YAML 1.1 readers that use PyYAML's resolver take for something other than a string, written
# as a one-line plain scalar: booleans (the words, no y/n), null (and the empty scalar), the merge
# and value keys, the three characters of the `yaml` tag, integers in bases 2, 8, 10 (with
# base-60 parts), 16, floats (a dot required; base-60 parts; infinities, NaN) and timestamps.
# Facts from PyYAML's resolver.py (Resolver.add_implicit_resolver, PyYAML 6.0) and
# yaml.org/type/{bool,null,merge,value,int,float,timestamp}.html; held to PyYAML's own reading by
# tests/test_yaml_resolve.py.
_YAML11_NOT_STR = re.compile(
    r"(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL||<<|=|!|&|\*"
    r"|[-+]?(?:0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*(?::[0-5]?[0-9])*|0x[0-9a-fA-F_]+)"
    r"|[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
    r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)"
)
# First characters of what YAML 1.1 or go-yaml v3 may read as a non-string ("" is not a string either).
_MAYBE_NOT_STR_ANYWHERE = frozenset("yYnNtTfFoO~<=!&*-+.0123456789") | _MAYBE_NOT_STR


def plain_is_str(text: str) -> bool:
    """Do YAML 1.1 (PyYAML) and go-yaml v3 both read one-line `text`, written plain, as a string?

    What emit.py's resolver answers for the emitter, without PyYAML: generated strings that one
    of them would read otherwise are quoted.
    """
    if text and text[0] not in _MAYBE_NOT_STR_ANYWHERE:
        return True
    if _YAML11_NOT_STR.fullmatch(text):
        return False
    return text[0] not in _MAYBE_NOT_STR or not any(pattern.match(text) for _, pattern in _GO_IMPLICIT)
